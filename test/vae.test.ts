import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  disposeVae,
  klWeightAt,
  loadDataset,
  loadVae,
  resolveVaeConfig,
  subsetDataset,
  tf,
  trainVae,
  vaeDecode,
  vaeEncodeMean,
  vaeEvaluate,
  vaeReconstruct,
  vaeSample,
  type VaeTerms,
} from 'ssvae';
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
    // The KL's shares per dimension of z sum to it.
    const byDim = e.validation.klPerDimension ?? [];
    assert.equal(byDim.length, 2);
    assert.ok(Math.abs(byDim.reduce((a, b) => a + b, 0) - e.validation.kl) < 1e-3 * Math.max(1, e.validation.kl));
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
  const images = dataset.test.images.subarray(0, 10 * 16);
  const codes = Array.from(vaeEncodeMean(a.vae, images));
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  // Asked again in the same process: the same model, still alive.
  const b = await trainVae({ ...tiny, epochs: 2, seed: 3 }, { dataset, cacheRoot, log });
  assert.equal(b.fromCache, true);
  assert.equal(b.vae, a.vae);
  assert.match(lines.pop() ?? '', /^loaded from cache: vae-z2-e2-s3 \(trained less than a minute ago, code [0-9a-f]{8}\) in /);
  // Once disposed, it is read from disk again, with the same weights.
  disposeVae(a.vae);
  const c = await trainVae({ ...tiny, epochs: 2, seed: 3 }, { dataset, cacheRoot, log });
  assert.equal(c.fromCache, true);
  assert.notEqual(c.vae, a.vae);
  assert.equal(c.dir, a.dir);
  assert.deepEqual(c.record.epochs, a.record.epochs);
  assert.deepEqual(Array.from(vaeEncodeMean(c.vae, images)), codes);
  const d = await trainVae({ ...tiny, epochs: 2, seed: 4 }, { dataset, cacheRoot });
  assert.equal(d.fromCache, false);
  assert.notEqual(d.dir, a.dir);
  const e = await trainVae({ ...tiny, epochs: 2, seed: 3 }, { dataset, cacheRoot, force: true });
  assert.equal(e.fromCache, false);
  [d, e].forEach((r) => disposeVae(r.vae));
});

test('VAE cache: other library code trains again and says so; an unreadable entry is reported and trained again', async () => {
  const cacheRoot = tempDir('vae-cache-code');
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const a = await trainVae({ ...tiny, epochs: 1, seed: 5 }, { dataset, cacheRoot, log, code: 'aaaaaaaa' });
  const b = await trainVae({ ...tiny, epochs: 1, seed: 5 }, { dataset, cacheRoot, log, code: 'bbbbbbbb' });
  assert.equal(b.fromCache, false);
  assert.notEqual(b.dir, a.dir);
  assert.deepEqual(lines, ['the cache holds this run trained by other library code (code aaaaaaaa); training it again with code bbbbbbbb']);
  disposeVae(b.vae);
  fs.writeFileSync(path.join(b.dir ?? '', 'vae.json'), '{ not json');
  lines.length = 0;
  const c = await trainVae({ ...tiny, epochs: 1, seed: 5 }, { dataset, cacheRoot, log, code: 'bbbbbbbb' });
  assert.equal(c.fromCache, false);
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /^the cache entry .*-bbbbbbbb is unreadable \(.*vae\.json.*\); training it again$/);
  [a, c].forEach((r) => disposeVae(r.vae));
});

test('loadVae reads a record written before the activation, scale, prior and components settings existed, as the defaults', async () => {
  const cacheRoot = tempDir('vae-old-record');
  const a = await trainVae({ ...tiny, epochs: 1, seed: 6 }, { dataset, cacheRoot });
  const file = path.join(a.dir ?? '', 'vae.json');
  const record = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const field of ['activation', 'scale', 'prior', 'components']) {
    assert.ok(field in record.config, field);
    delete record.config[field];
  }
  fs.writeFileSync(file, JSON.stringify(record));
  const { vae } = loadVae(a.dir ?? '');
  assert.equal(vae.config.prior, 'gaussian');
  assert.equal(vae.prior, undefined);
  const images = dataset.test.images.subarray(0, 6 * 16);
  assert.deepEqual(Array.from(vaeEncodeMean(vae, images)), Array.from(vaeEncodeMean(a.vae, images)));
  [a.vae, vae].forEach(disposeVae);
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

test('VAE checkpoints: a run stopped after 2 epochs and resumed to 3 computes what an uninterrupted run does (GMVAE, binarised, KL warm-up across the stop)', async () => {
  const settings = { ...tiny, binarize: true, prior: 'mixture' as const, components: 3, activation: 'elu' as const, klWarmup: 3 };
  const whole = await trainVae({ ...settings, epochs: 3 }, { dataset, cache: false });
  const checkpointDir = path.join(tempDir('vae-checkpoint'), 'checkpoint');
  // The first part records one TensorFlow thread; the second continues with the default.
  const threads = process.env.TF_NUM_INTRAOP_THREADS;
  process.env.TF_NUM_INTRAOP_THREADS = '1';
  const first = await trainVae({ ...settings, epochs: 2 }, { dataset, cache: false, checkpointDir, log: () => {} });
  assert.equal(JSON.parse(fs.readFileSync(path.join(checkpointDir, 'vae.json'), 'utf8')).epochs.length, 2);
  disposeVae(first.vae);
  delete process.env.TF_NUM_INTRAOP_THREADS;
  const resumedEpochs: number[] = [];
  const lines: string[] = [];
  const resumed = await trainVae(
    { ...settings, epochs: 3 },
    { dataset, cache: false, checkpointDir, onEpoch: (e) => resumedEpochs.push(e.epoch), log: (l) => lines.push(l) },
  );
  if (threads === undefined) delete process.env.TF_NUM_INTRAOP_THREADS;
  else process.env.TF_NUM_INTRAOP_THREADS = threads;
  assert.deepEqual(resumedEpochs, [3]);
  // The record keeps the environment the training started in, and the log says the count changed.
  assert.deepEqual(resumed.record.environment, first.record.environment);
  assert.equal(resumed.record.environment.threads, 1);
  assert.ok(
    lines.some((l) => /^note: .* was started with 1 TensorFlow threads and continues with TensorFlow's default threads/.test(l)),
    lines.join('\n'),
  );
  const terms = (r: typeof whole) => r.record.epochs.map((e) => [e.epoch, e.train, e.validation]);
  assert.deepEqual(terms(resumed), terms(whole));
  assert.ok(resumed.record.finished);
  const images = dataset.test.images;
  assert.deepEqual(vaeEvaluate(resumed.vae, images, 1), vaeEvaluate(whole.vae, images, 1));
  await assert.rejects(
    trainVae({ ...settings, epochs: 3, components: 4 }, { dataset, cache: false, checkpointDir }),
    /holds a checkpoint of a VAE with other settings/,
  );
  disposeVae(whole.vae);
  disposeVae(resumed.vae);
});

test('KL warm-up: the weight rises linearly step by step to klWeight at the end of epoch klWarmup, then stays', () => {
  const steps = 10;
  assert.equal(klWeightAt({ klWeight: 1, klWarmup: 0 }, 1, 0, steps), 1);
  assert.equal(klWeightAt({ klWeight: 4, klWarmup: 0 }, 1, 0, steps), 4);
  const warm = { klWeight: 1, klWarmup: 2 };
  assert.equal(klWeightAt(warm, 1, 0, steps), 1 / 20);
  assert.equal(klWeightAt(warm, 1, 9, steps), 10 / 20);
  assert.equal(klWeightAt(warm, 2, 0, steps), 11 / 20);
  assert.equal(klWeightAt(warm, 2, 9, steps), 1);
  assert.equal(klWeightAt(warm, 3, 0, steps), 1);
  assert.equal(klWeightAt({ klWeight: 2, klWarmup: 2 }, 1, 9, steps), 1);
  assert.throws(() => resolveVaeConfig({ klWarmup: 1.5 }), /^Error: vae config\.klWarmup must be a whole number of epochs ≥ 0, got 1\.5$/);
  assert.throws(() => resolveVaeConfig({ klWarmup: -1 }), /klWarmup must be a whole number of epochs ≥ 0, got -1$/);
});

test('KL warm-up: from the same weights, batches and noise, q(z|x) spends more KL in the first epoch than without', async () => {
  const runs = [];
  for (const klWarmup of [0, 3]) {
    const { record, vae } = await trainVae({ ...tiny, epochs: 1, klWarmup }, { dataset, cache: false });
    disposeVae(vae);
    runs.push(record.epochs[0]!.train);
  }
  const [plain, warm] = runs as [VaeTerms, VaeTerms];
  assert.ok(warm.kl > plain.kl, `mean training KL ${warm.kl} with warm-up, ${plain.kl} without`);
});
