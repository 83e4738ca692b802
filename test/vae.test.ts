import assert from 'node:assert/strict';
import { test } from 'node:test';
import { disposeVae, loadDataset, subsetDataset, tf, trainVae, vaeDecode, vaeEncodeMean, vaeReconstruct, vaeSample } from 'ssvae';
import { tempDir, writeTinyDataset } from './helpers';

const dataDir = tempDir('vae-data');
writeTinyDataset(dataDir, 30, 5); // 4×4 images: train 200 (after 100 validation), test 50
const dataset = loadDataset({ dataDir, validationSize: 100 });
const tiny = { hidden: [16], zDim: 2, xDim: 16, batchSize: 20, lr: 1e-2, dataset: dataDir };

test('VAE: −ELBO falls on the training batches and on the validation split, and training leaves no tensors', async () => {
  const before = tf.memory().numTensors;
  const lines: string[] = [];
  const { record, vae, fromCache } = await trainVae(
    { ...tiny, epochs: 15 },
    { dataset, cache: false, onEpoch: (e) => lines.push(String(e.epoch)) },
  );
  assert.equal(fromCache, false);
  assert.equal(lines.length, 15);
  assert.ok(record.finished);
  const first = record.epochs[0]!;
  const last = record.epochs[14]!;
  assert.ok(
    last.train.negativeElbo < 0.9 * first.train.negativeElbo,
    `train −ELBO ${first.train.negativeElbo} → ${last.train.negativeElbo}`,
  );
  assert.ok(
    last.validation.negativeElbo < first.validation.negativeElbo,
    `validation −ELBO ${first.validation.negativeElbo} → ${last.validation.negativeElbo}`,
  );
  for (const e of record.epochs) {
    // −ELBO = −log p(x|z) + KL, term by term, and KL ≥ 0.
    assert.ok(Math.abs(e.validation.negativeElbo - (e.validation.reconstruction + e.validation.kl)) < 1e-3);
    assert.ok(e.validation.kl >= 0);
  }
  disposeVae(vae);
  assert.equal(tf.memory().numTensors, before);
});

test('VAE: encodeMean, reconstruct, decode and sample give arrays of the right size and leak nothing', async () => {
  const { vae } = await trainVae({ ...tiny, epochs: 1 }, { dataset, cache: false });
  const before = tf.memory().numTensors;
  const images = dataset.test.images.subarray(0, 7 * 16);
  const mu = vaeEncodeMean(vae, images);
  assert.equal(mu.length, 7 * 2);
  const rec = vaeReconstruct(vae, images);
  assert.equal(rec.length, 7 * 16);
  assert.ok(rec.every((p) => p >= 0 && p <= 1));
  assert.deepEqual(Array.from(vaeDecode(vae, mu)), Array.from(rec)); // reconstruction = decoding the posterior mean
  assert.equal(vaeSample(vae, 5, 1).length, 5 * 16);
  assert.equal(tf.memory().numTensors, before);
  disposeVae(vae);
});

test('VAE cache: the same configuration is loaded, not retrained, with identical weights; force retrains', async () => {
  const cacheRoot = tempDir('vae-cache');
  const a = await trainVae({ ...tiny, epochs: 2, seed: 3 }, { dataset, cacheRoot });
  assert.equal(a.fromCache, false);
  assert.ok(a.dir?.startsWith(cacheRoot));
  const b = await trainVae({ ...tiny, epochs: 2, seed: 3 }, { dataset, cacheRoot });
  assert.equal(b.fromCache, true);
  assert.equal(b.dir, a.dir);
  assert.deepEqual(b.record.epochs, a.record.epochs);
  const images = dataset.test.images.subarray(0, 10 * 16);
  assert.deepEqual(Array.from(vaeEncodeMean(b.vae, images)), Array.from(vaeEncodeMean(a.vae, images)));
  const c = await trainVae({ ...tiny, epochs: 2, seed: 4 }, { dataset, cacheRoot });
  assert.equal(c.fromCache, false);
  assert.notEqual(c.dir, a.dir);
  const d = await trainVae({ ...tiny, epochs: 2, seed: 3 }, { dataset, cacheRoot, force: true });
  assert.equal(d.fromCache, false);
  [a, b, c, d].forEach((r) => disposeVae(r.vae));
});

test('subsetDataset keeps the first images of each split and says so in its name', () => {
  const sub = subsetDataset(dataset, { train: 30, validation: 10, test: 1000 });
  assert.equal(sub.train.count, 30);
  assert.equal(sub.validation.count, 10);
  assert.equal(sub.test, dataset.test); // smaller than asked: kept whole
  assert.deepEqual(Array.from(sub.train.labels), Array.from(dataset.train.labels.subarray(0, 30)));
  assert.deepEqual(Array.from(sub.validation.images), Array.from(dataset.validation.images.subarray(0, 10 * 16)));
  assert.notEqual(sub.name, dataset.name);
  assert.match(sub.name, /train 30, validation 10, test 50/);
  assert.equal(subsetDataset(dataset, { train: 1e6, validation: 1e6, test: 1e6 }), dataset);
});
