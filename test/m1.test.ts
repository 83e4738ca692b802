import assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  activeDimensions,
  conditionalSamples,
  createM2,
  createVae,
  decode,
  disposeVae,
  disposeM2,
  gaussianLogLikelihood,
  labelledBound,
  loadDataset,
  logQy,
  m1Splits,
  m1VaeConfig,
  readRunRecord,
  resolveConfig,
  selectColumns,
  semiSupervisedSplits,
  standardNormal,
  tf,
  train,
  trainM1,
  trainVae,
  unlabelledBoundEnumerated,
  vaeCheckpointDirFor,
  vaeDecode,
  vaeEvaluate,
  resolveVaeConfig,
} from 'ssvae';
import { assertStepsKeepTensorCount, flags, tempDir, tinyModelFlags, writeTinyDataset } from './helpers';

const root = path.resolve(__dirname, '..');
const dataDir = tempDir('m1-data');
writeTinyDataset(dataDir, 30, 5); // 4×4 images: train 200 (after 100 validation), test 50
const dataset = loadDataset({ dataDir, validationSize: 100 });
/** An M1 of a few units; activeThreshold 0 keeps every dimension whatever it learnt. */
const tinyM1 = { hidden: [8, 8], zDim: 4, epochs: 2, batchSize: 20, activeThreshold: 0 };
const small = { labels: 50, batchSize: 20, hidden: [8], zDim: 2, dataset: dataDir, m1: tinyM1 };
const quiet = () => undefined;

test('Gaussian log-likelihood equals the closed form, also broadcast over a leading class axis', () => {
  const x = [
    [0.5, -1.0, 2.0],
    [0.0, 0.3, -0.7],
  ];
  const loc = [
    [0.1, -0.5, 1.0],
    [0.2, 0.2, 0.2],
  ];
  const logScale = [
    [0.0, -0.3, 0.5],
    [1.0, -2.0, 0.1],
  ];
  const byHand = x.map((row, b) =>
    row.reduce((sum, v, d) => {
      const sigma = Math.exp(logScale[b]![d]!);
      return sum + Math.log(Math.exp(-0.5 * ((v - loc[b]![d]!) / sigma) ** 2) / (sigma * Math.sqrt(2 * Math.PI)));
    }, 0),
  );
  const out = tf.concat([tf.tensor2d(loc), tf.tensor2d(logScale)], 1);
  const got = gaussianLogLikelihood(tf.tensor2d(x), out).arraySync() as number[];
  got.forEach((v, b) => assert.ok(Math.abs(v - byHand[b]!) < 1e-4, `row ${b}: ${v} vs ${byHand[b]}`));
  // [K, B, 2D]: class k's block gives what the same output alone gives.
  const shifted = tf.add(out, 0.25);
  const stacked = gaussianLogLikelihood(tf.tensor2d(x), tf.stack([out, shifted])).arraySync() as number[][];
  const alone = gaussianLogLikelihood(tf.tensor2d(x), shifted).arraySync() as number[];
  assert.deepEqual(
    stacked[0]!.map((v) => v.toFixed(4)),
    got.map((v) => v.toFixed(4)),
  );
  assert.deepEqual(
    stacked[1]!.map((v) => v.toFixed(4)),
    alone.map((v) => v.toFixed(4)),
  );
});

test('on real-valued features, U(x) with y summed out equals an explicit loop over the classes', () => {
  const m = createM2({ xDim: 5, numClasses: 4, hidden: [9], zDim: 3, init: 'glorot-normal', likelihood: 'gaussian' }, 5);
  assert.deepEqual(m.decoder.outputs[0]!.shape, [null, 10], 'a mean and a log scale per feature');
  const B = 3;
  const x = tf.tensor2d(standardNormal(B * 5, 7), [B, 5]);
  const eps = tf.tensor2d(standardNormal(4 * B * 3, 8), [4 * B, 3]); // class-major rows
  const u = unlabelledBoundEnumerated(m, x, eps).bound.arraySync() as number[];
  const logQ = logQy(m, x).arraySync() as number[][];
  const expected = new Array<number>(B).fill(0);
  for (let y = 0; y < 4; y++) {
    const yOneHot = tf.oneHot(tf.fill([B], y, 'int32') as tf.Tensor1D, 4).toFloat() as tf.Tensor2D;
    const l = labelledBound(m, x, yOneHot, eps.slice([y * B, 0], [B, 3]) as tf.Tensor2D).bound.arraySync() as number[];
    for (let b = 0; b < B; b++) expected[b]! += Math.exp(logQ[b]![y]!) * (l[b]! - logQ[b]![y]!);
  }
  u.forEach((v, b) =>
    assert.ok(Math.abs(v - expected[b]!) < 1e-3 * Math.max(1, Math.abs(expected[b]!)), `image ${b}: ${v} vs ${expected[b]}`),
  );
  disposeM2(m);
});

test('activeDimensions keeps the columns that vary by more than the threshold; selectColumns takes them', () => {
  // Column 0 varies (sd 1), column 1 is constant, column 2 varies a little (sd 0.05).
  const values = Float32Array.from([0, 5, 0.1, 1, 5, 0.05, 2, 5, 0.0, 1, 5, 0.05]);
  assert.deepEqual(activeDimensions(values, 3, 0.1), [0]);
  assert.deepEqual(activeDimensions(values, 3, 0.01), [0, 2]);
  assert.deepEqual(Array.from(selectColumns(values, 3, [0, 2])), Array.from(Float32Array.from([0, 0.1, 1, 0.05, 2, 0, 1, 0.05])));
  assert.throws(() => activeDimensions(Float32Array.from([1, 2]), 2, 0.1), /columnSpreads: need at least two rows of 2 values/);
});

test('config: M1 settings for m1 and m1m2 only, a Gaussian observation model for m1m2, one error per bad field', () => {
  const m1m2 = resolveConfig({ variant: 'm1m2', m1: { epochs: 7 } });
  assert.equal(m1m2.likelihood, 'gaussian');
  assert.equal(m1m2.m1?.epochs, 7);
  assert.deepEqual(m1m2.m1?.hidden, [500, 500]);
  assert.equal(resolveConfig({ variant: 'm1' }).likelihood, 'bernoulli');
  const v3 = resolveConfig({ variant: 'v3', m1: { epochs: 7 } });
  assert.equal(v3.m1, undefined, 'the other variants drop M1 settings');
  assert.equal(v3.likelihood, 'bernoulli');
  assert.throws(() => resolveConfig({ variant: 'm1', m1: { epochs: 0 } }), /^Error: config\.m1\.epochs must be a positive integer, got 0$/);
  assert.throws(() => resolveConfig({ variant: 'm1', m1: { epoch: 3 } as never }), /config\.m1 has no field "epoch"/);
  assert.throws(
    () => resolveConfig({ variant: 'm1m2', m1: { klWarmup: 0.5 } }),
    /^Error: config\.m1\.klWarmup must be a whole number of epochs ≥ 0, got 0\.5$/,
  );
  assert.equal(resolveConfig({ variant: 'm1m2', m1: { klWarmup: 10 } }).m1?.klWarmup, 10);
  assert.throws(
    () => resolveConfig({ variant: 'v3', likelihood: 'poisson' as never }),
    /config\.likelihood must be one of bernoulli, gaussian/,
  );
});

test('M1 features: means on the kept dimensions, scales for the training splits only', async () => {
  const cacheRoot = tempDir('m1-cache');
  const config = resolveConfig({ ...small, variant: 'm1m2', m1: { ...tinyM1, activeThreshold: 0 } });
  const splits = semiSupervisedSplits(dataset, 50, 0);
  const run = await trainM1(config, dataset, { cacheRoot, log: quiet });
  const { splits: features, dims } = m1Splits(run.vae, splits, 0);
  assert.deepEqual(dims, [0, 1, 2, 3]);
  assert.equal(features.unlabelled.images.length, splits.unlabelled.count * 4);
  assert.ok(features.labelled.scales!.every((s) => s > 0));
  assert.equal(features.validation.scales, undefined);
  assert.equal(features.test.count, dataset.test.count);
  assert.deepEqual(Array.from(features.labelled.labels), Array.from(splits.labelled.labels));
  // A threshold above every spread keeps nothing: one clear error.
  assert.throws(() => m1Splits(run.vae, splits, 1e9), /no dimension of z₁ varies .* \(config\.m1\.activeThreshold\)/);
});

for (const variant of ['m1', 'm1m2'] as const) {
  test(`${variant}: tf.memory().numTensors is the same after step 10 and step 100`, async () => {
    const cacheRoot = tempDir('m1-cache');
    const config0 = resolveConfig({ ...small, variant });
    const splits0 = semiSupervisedSplits(dataset, config0.labels, 0);
    const run = await trainM1(config0, dataset, { cacheRoot, log: quiet });
    const { splits, dims } = m1Splits(run.vae, splits0, 0);
    assertStepsKeepTensorCount(resolveConfig({ ...config0, xDim: dims.length }), splits);
  });
}

test('m1m2 and m1 train on one cached M1 (trained once), record it, and leave no tensors behind', async () => {
  const cacheRoot = tempDir('m1-cache');
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const first = await train({ ...small, variant: 'm1m2', epochs: 2 }, { dataset, m1: { cacheRoot, log } });
  const { config, derived } = first.record;
  assert.equal(config.likelihood, 'gaussian');
  assert.equal(config.xDim, derived?.m1?.dims.length);
  assert.equal(derived?.m1?.epochs, 2);
  assert.match(derived?.m1?.cacheEntry ?? '', /^vae-z4-e2-s0-[0-9a-f]+-[0-9a-f]+$/);
  assert.ok(fs.existsSync(path.join(cacheRoot, derived!.m1!.cacheEntry, 'vae.json')));
  // The record says where M1 was trained: the environment of M1's own training.
  const m1Record = JSON.parse(fs.readFileSync(path.join(cacheRoot, derived!.m1!.cacheEntry, 'vae.json'), 'utf8'));
  assert.deepEqual(derived?.m1?.environment, m1Record.environment);
  assert.ok(derived!.m1!.environment!.startedAt <= first.record.environment.startedAt);
  assert.equal(lines.filter((l) => l.startsWith('M1 epoch')).length, 2, lines.join('\n'));
  const tensors = tf.memory().numTensors; // the M1 stays loaded for the process, like any cached model
  const second = await train({ ...small, variant: 'm1', epochs: 2 }, { dataset, m1: { cacheRoot, log } });
  assert.equal(lines.filter((l) => l.startsWith('M1 epoch')).length, 2, 'the second run reuses the M1');
  assert.ok(lines.some((l) => l.startsWith('loaded from cache: vae-z4-e2-s0')));
  assert.deepEqual(second.record.derived?.m1, derived?.m1);
  assert.deepEqual(Object.keys(second.record.epochs[0]!.losses), ['labelled.classification']);
  assert.equal(tf.memory().numTensors, tensors);
});

test('M1: a process asking for an M1 that another live process holds says so, waits, then trains it', async () => {
  const cacheRoot = tempDir('m1-cache');
  const config = resolveConfig({ ...small, variant: 'm1m2', seed: 4, m1: { ...tinyM1, epochs: 1 } });
  const checkpoint = vaeCheckpointDirFor(m1VaeConfig(config, dataset.pixels), cacheRoot);
  // The holder is a real process that lives for a second; its lock is released when it exits.
  const holder = cp.spawn('sleep', ['1']);
  const exited = new Promise((resolve) => holder.on('exit', resolve));
  fs.writeFileSync(`${checkpoint}.lock`, `${holder.pid}\n`);
  const lines: string[] = [];
  const run = await trainM1(config, dataset, { cacheRoot, log: (line) => lines.push(line) });
  await exited;
  assert.match(
    lines[0] ?? '',
    new RegExp(`^M1 ${path.basename(checkpoint)} is being trained by another process \\(pid ${holder.pid}\\); waiting`),
  );
  assert.equal(lines.filter((l) => l.includes('waiting')).length, 1, 'said once, however long the wait');
  assert.equal(run.record.epochs.length, 1);
  assert.equal(fs.existsSync(`${checkpoint}.lock`), false, 'released after training');
  disposeVae(run.vae);
});

test('M1: a longer M1 continues from the checkpoint of a shorter one and ends where an uninterrupted one does', async () => {
  const cacheRoot = tempDir('m1-cache');
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const asked = (epochs: number) => resolveConfig({ ...small, variant: 'm1m2', seed: 3, m1: { ...tinyM1, epochs } });
  const short = await trainM1(asked(1), dataset, { cacheRoot, log });
  const long = await trainM1(asked(3), dataset, { cacheRoot, log });
  assert.deepEqual(
    lines.filter((l) => l.startsWith('M1 epoch')).map((l) => l.split(' ')[2]),
    ['1/1', '2/3', '3/3'],
    'the 3-epoch M1 trains epochs 2 and 3 only',
  );
  assert.ok(
    lines.some((l) => /-checkpoint-[0-9a-f]+-[0-9a-f]+: continuing from epoch 1 of 3$/.test(l)),
    lines.join('\n'),
  );
  const whole = await trainVae(m1VaeConfig(asked(3), dataset.pixels), { dataset, cache: false });
  const terms = (r: typeof whole) => r.record.epochs.map((e) => [e.epoch, e.train, e.validation]);
  assert.deepEqual(terms(long), terms(whole));
  assert.deepEqual(terms(short), terms(whole).slice(0, 1));
  assert.deepEqual(vaeEvaluate(long.vae, dataset.test.images, 1), vaeEvaluate(whole.vae, dataset.test.images, 1));
  disposeVae(whole.vae);
  // A 2-epoch M1 asked for afterwards starts from scratch and leaves the 3-epoch checkpoint alone.
  const between = await trainM1(asked(2), dataset, { cacheRoot, log: quiet });
  assert.deepEqual(terms(between), terms(whole).slice(0, 2));
  const checkpoints = fs.readdirSync(cacheRoot).filter((n) => n.includes('-checkpoint-') && !n.endsWith('.lock'));
  assert.equal(checkpoints.length, 1);
  const saved = JSON.parse(fs.readFileSync(path.join(cacheRoot, checkpoints[0]!, 'vae.json'), 'utf8'));
  assert.equal(saved.epochs.length, 3);
});

test('m1m2: a resumed run ends with the same numbers as an uninterrupted one', async () => {
  const cacheRoot = tempDir('m1-cache');
  const options = { dataset, m1: { cacheRoot, log: quiet } };
  const whole = tempDir('m1-whole');
  const split = tempDir('m1-split');
  await train({ ...small, variant: 'm1m2', epochs: 3, seed: 2 }, { ...options, outDir: whole });
  await train({ ...small, variant: 'm1m2', epochs: 1, seed: 2 }, { ...options, outDir: split });
  await train({ epochs: 3 }, { ...options, outDir: split, resume: true });
  const a = readRunRecord(whole);
  const b = readRunRecord(split);
  const strip = (r: typeof a) => r.epochs.map(({ seconds: _s, ...rest }) => rest);
  assert.deepEqual(strip(b), strip(a));
  assert.deepEqual(b.result, a.result);
  for (const net of ['classifier', 'encoder', 'decoder']) {
    const weights = (dir: string) => fs.readFileSync(path.join(dir, 'checkpoint', net, 'weights.bin'));
    assert.ok(weights(whole).equals(weights(split)), `${net} weights differ`);
  }
});

test('VAE with dynamic binarisation: the same seed gives the same run, and it differs from training on grey levels', async () => {
  const settings = { hidden: [8], zDim: 2, epochs: 2, batchSize: 20, dataset: dataDir, xDim: 16 };
  const run = async (binarize: boolean) => (await trainVae({ ...settings, binarize }, { dataset, cache: false })).record;
  const [a, b, grey] = [await run(true), await run(true), await run(false)];
  const numbers = (r: typeof a) => r.epochs.map((e) => [e.train, e.validation]);
  assert.deepEqual(numbers(a), numbers(b));
  assert.notDeepEqual(numbers(a), numbers(grey));
});

test('M1+M2 draws images through both decoders: z₂ and y give z₁ on the kept dimensions, M1 turns z₁ into pixels', () => {
  const m1 = createVae(resolveVaeConfig({ hidden: [6], zDim: 4, xDim: 16, seed: 1, epochs: 1, batchSize: 10, dataset: 'x' }));
  const dims = [0, 2, 3];
  const m2 = createM2({ xDim: 3, numClasses: 10, hidden: [5], zDim: 2, init: 'glorot-normal', likelihood: 'gaussian' }, 2);
  const grid = conditionalSamples(m2, { columns: 2, classes: [4, 7], through: { m1, dims } });
  assert.equal(grid.images.length, 2 * 2 * 16);
  // Cell (row 1, column 0) by hand: z₂ = the first column's draw, y = 7.
  const z2 = standardNormal(2 * 2, 0).slice(0, 2);
  const out = decode(m2, tf.tensor2d(z2, [1, 2]), tf.oneHot(tf.tensor1d([7], 'int32'), 10).toFloat() as tf.Tensor2D).dataSync();
  const z1 = new Float32Array(4);
  dims.forEach((d, i) => (z1[d] = out[i]!)); // μ of p(z₁|y,z₂); the dropped dimension stays at 0
  const byHand = vaeDecode(m1, z1);
  const cell = grid.images.subarray(2 * 16, 3 * 16);
  byHand.forEach((v, i) => assert.ok(Math.abs(v - cell[i]!) < 1e-5, `pixel ${i}: ${cell[i]} vs ${v}`));
  assert.throws(() => conditionalSamples(m2), /models M1's code, not pixels/);
  disposeM2(m2);
  disposeVae(m1);
});

function cli(args: string[], env: Record<string, string> = {}) {
  return cp.spawnSync(process.execPath, [path.join(root, 'lib', 'dist', 'tools', 'cli.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

test('CLI: m1m2 trains (M1 first, in SSVAE_CACHE_DIR), eval classifies through the same M1; M1 flags reach sweep commands', () => {
  const env = { SSVAE_CACHE_DIR: path.join(tempDir('m1-cli-cache'), 'created-on-first-use') };
  const out = path.join(tempDir('m1-cli'), 'run');
  const m1Flags = flags({ 'm1-epochs': 2, 'm1-hidden': '8,8', 'm1-z-dim': 4, 'm1-batch-size': 20, 'm1-active-threshold': 0 });
  const args = ['train', '--variant', 'm1m2', '--labels', '50', '--epochs', '1', ...tinyModelFlags(dataDir), ...m1Flags, '--out', out];
  const trained = cli(args, env);
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stdout, /^M1 epoch 2\/2 /m);
  assert.match(trained.stdout, /^done: m1m2, N = 50: /m);
  const ev = cli(['eval', '--run', out], env);
  assert.equal(ev.status, 0, ev.stderr);
  const accuracy = Number(/test accuracy ([\d.]+)/.exec(ev.stdout)?.[1]);
  assert.equal(
    accuracy.toFixed(4),
    readRunRecord(out).epochs[0]!.testAccuracy.toFixed(4),
    'eval agrees with the record (one epoch: best = last)',
  );
  const bad = cli(['train', '--variant', 'm1', '--labels', '50', '--m1-epochs', '0', '--out', path.join(tempDir('m1-bad'), 'run')], env);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--m1-epochs must be a positive integer, got 0/);
  const listed = cli(
    ['sweep', '--variants', 'm1,m1m2', '--labels', '50', '--epochs', '1', '--m1-epochs', '3', '--m1-kl-warmup', '2', '--list'],
    env,
  );
  assert.equal(listed.status, 0, listed.stderr);
  const lines = listed.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  for (const line of lines)
    assert.match(line, /--m1-epochs 3 .*--m1-kl-warmup 2 .*--out \S*default_m1-epochs-3-klWarmup-2\/m1(m2)?-50-s0 --continue$/);
});
