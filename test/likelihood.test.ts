import assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  binarizeImages,
  createM2,
  createVae,
  decode,
  disposeM2,
  disposeVae,
  encode,
  gaussianKl,
  gaussianLogDensity,
  iwaeBounds,
  likelihoodRows,
  likelihoodTable,
  likelihoodTableMarkdown,
  loadDataset,
  loadVae,
  logMeanExp,
  logPriorY,
  m2LogWeights,
  mixtureLogDensity,
  observationLogLikelihood,
  resolveVaeConfig,
  standardNormal,
  standardNormalLogDensity,
  tf,
  trainVae,
  unlabelledBoundEnumerated,
  vaeElbo,
  vaeEvaluate,
  vaeLogPrior,
  vaeLogWeights,
  vaePriorComponents,
  vaeSample,
} from 'ssvae';
import { flags, randomPixels, tempDir, tinyModelFlags, writeTinyDataset } from './helpers';

/** Grey levels in (0, 1) as an array, rows × cols. */
function pixelArray(rows: number, cols: number, seed: number): Float32Array {
  return Float32Array.from(standardNormal(rows * cols, seed), (v) => 1 / (1 + Math.exp(-v)));
}

const vaeTiny = { hidden: [7], zDim: 3, xDim: 12, seed: 1 };

/** Runs f and checks that it leaves the number of tensors as it was. */
function noLeak<T>(f: () => T): T {
  const before = tf.memory().numTensors;
  const out = f();
  assert.equal(tf.memory().numTensors, before, 'tensors left behind');
  return out;
}

test('logMeanExp equals log(mean(exp a)) where that is finite, and stays finite where exp underflows', () => {
  const values = [
    [0.3, -1.2, 2.5, 0.0],
    [-4.0, -4.0, -4.0, -4.0],
  ];
  const got = tf.tidy(() => logMeanExp(tf.tensor2d(values), 1).arraySync() as number[]);
  values.forEach((row, i) => {
    const naive = Math.log(row.reduce((s, v) => s + Math.exp(v), 0) / row.length);
    assert.ok(Math.abs((got[i] as number) - naive) < 1e-5, `row ${i}: ${got[i]} vs ${naive}`);
  });
  // exp(−900) is 0 in float32 and float64 alike; the stable form gives −900 + log(mean(exp(a − max))).
  const deep = tf.tidy(() => logMeanExp(tf.tensor1d([-900, -901, -902]), 0).arraySync() as number);
  const expected = -900 + Math.log((1 + Math.exp(-1) + Math.exp(-2)) / 3);
  assert.ok(Math.abs(deep - expected) < 1e-3, `${deep} vs ${expected}`);
  // Over two axes at once, m is the product of their lengths.
  const two = tf.tidy(() => logMeanExp(tf.zeros([2, 3, 5]), [0, 2]).arraySync() as number[]);
  assert.deepEqual(
    two.map((v) => Math.round(v * 1e6) / 1e6),
    [0, 0, 0],
  );
});

test('Gaussian and mixture log-densities agree with a direct computation, component by component', () => {
  const z = [
    [0.2, -1.0],
    [1.5, 0.3],
    [-2.0, 2.0],
  ];
  const means = [
    [0, 0],
    [1, -1],
    [-1.5, 2.5],
    [0.3, 0.1],
  ];
  const logScales = [
    [0, 0],
    [-0.5, 0.2],
    [0.3, -1.0],
    [-2.0, -2.0],
  ];
  const logNormal = (x: number[], m: number[], ls: number[]) =>
    x.reduce((s, xj, j) => s - 0.5 * Math.log(2 * Math.PI) - ls[j]! - 0.5 * ((xj - m[j]!) / Math.exp(ls[j]!)) ** 2, 0);
  const got = noLeak(() =>
    tf.tidy(() => mixtureLogDensity(tf.tensor2d(z), tf.tensor2d(means), tf.tensor2d(logScales)).arraySync() as number[]),
  );
  z.forEach((row, n) => {
    const direct = Math.log(means.reduce((s, m, i) => s + Math.exp(logNormal(row, m, logScales[i]!)), 0) / means.length);
    assert.ok(Math.abs((got[n] as number) - direct) < 1e-4, `z ${n}: ${got[n]} vs ${direct}`);
  });
  const single = tf.tidy(
    () => gaussianLogDensity(tf.tensor2d(z), tf.tensor2d(means.slice(0, 3)), tf.tensor2d(logScales.slice(0, 3))).arraySync() as number[],
  );
  z.forEach((row, n) => assert.ok(Math.abs((single[n] as number) - logNormal(row, means[n]!, logScales[n]!)) < 1e-5));
  const standard = tf.tidy(() => standardNormalLogDensity(tf.tensor2d(z)).arraySync() as number[]);
  z.forEach((row, n) => assert.ok(Math.abs((standard[n] as number) - logNormal(row, [0, 0], [0, 0])) < 1e-5));
});

test('IWAE with m = 1 is the ELBO in expectation: log p(z) − log q(z|x) averages to −KL', () => {
  const vae = createVae(resolveVaeConfig(vaeTiny));
  const x = randomPixels(4, 12, 5);
  const S = 20_000;
  const eps = tf.tensor3d(standardNormal(S * 4 * 3, 7), [S, 4, 3]);
  const [gap, sd] = tf.tidy(() => {
    const logW = vaeLogWeights(vae, x, eps); //                                       [S, 4]
    // The ELBO of the same samples with the closed-form KL, log p(x|z) − KL, on x repeated S times.
    const t = vaeElbo(vae, tf.tile(x, [S, 1]), eps.reshape([S * 4, 3]) as tf.Tensor2D);
    const elbo = tf.sub(t.reconstruction, gaussianKl(t.q)).reshape([S, 4]);
    const diff = tf.sub(logW, elbo); //                                               log p(z) − log q(z|x) + KL
    return [tf.mean(diff, 0).arraySync(), tf.sqrt(tf.moments(diff, 0).variance).arraySync()] as number[][];
  });
  gap!.forEach((g, i) => {
    const se = sd![i]! / Math.sqrt(S);
    assert.ok(se > 0);
    assert.ok(Math.abs(g) <= 4 * se + 1e-6, `image ${i}: E[log w₁] − ELBO = ${g} ± ${se}`);
  });
  tf.dispose([x, eps]);
  disposeVae(vae);
});

test('the IWAE bound rises with m on average, leaves no tensors, and names bad sample counts', () => {
  const vae = createVae(resolveVaeConfig(vaeTiny));
  const images = binarizeImages(pixelArray(30, 12, 9), 3);
  assert.ok(images.every((v) => v === 0 || v === 1));
  const progress: number[] = [];
  const result = noLeak(() =>
    iwaeBounds({ kind: 'vae', vae }, images, { sampleCounts: [1, 10, 100], seed: 0, batch: 8, onProgress: (done) => progress.push(done) }),
  );
  assert.deepEqual(progress, [8, 16, 24, 30]);
  assert.equal(result.images, 30);
  const [b1, b10, b100] = result.bounds as [number, number, number];
  assert.ok(b1 < b10 && b10 < b100, `bounds ${result.bounds}`);
  assert.ok(result.standardErrors.every((s) => s > 0 && Number.isFinite(s)));
  // Chunking the samples differently changes memory, not the result (same seeds per chunk count aside).
  const again = iwaeBounds({ kind: 'vae', vae }, images, { sampleCounts: [1, 10, 100], seed: 0, batch: 8 });
  assert.deepEqual(again.bounds, result.bounds);
  assert.throws(
    () => iwaeBounds({ kind: 'vae', vae }, images, { sampleCounts: [1, 20, 30], seed: 0 }),
    /IWAE sample counts must each divide the largest \(30\); 20 do not/,
  );
  assert.throws(() => iwaeBounds({ kind: 'vae', vae }, images, { sampleCounts: [0], seed: 0 }), /must be positive integers/);
  disposeVae(vae);
});

test('M2 weights with y summed out equal an explicit loop over classes, and at m = 1 the bound is at least U(x)', () => {
  const config = { xDim: 6, numClasses: 3, hidden: [5], zDim: 2, init: 'glorot-normal' as const, likelihood: 'bernoulli' as const };
  const m = createM2(config, 4);
  const B = 4;
  const S = 2;
  const x = tf.tensor2d(binarizeImages(pixelArray(B, 6, 2), 1), [B, 6]);
  const eps = tf.tensor3d(standardNormal(S * 3 * B * 2, 8), [S, 3 * B, 2]);
  noLeak(() =>
    tf.tidy(() => {
      const got = m2LogWeights(m, x, eps).arraySync() as number[][][]; //            [S, B, K]
      for (let s = 0; s < S; s++)
        for (let y = 0; y < 3; y++) {
          const yOneHot = tf.oneHot(tf.fill([B], y, 'int32') as tf.Tensor1D, 3).toFloat() as tf.Tensor2D;
          const q = encode(m, x, yOneHot);
          const e = eps.slice([s, y * B, 0], [1, B, 2]).reshape([B, 2]) as tf.Tensor2D;
          const z = tf.add(q.loc, tf.mul(tf.exp(q.logScale), e)) as tf.Tensor2D;
          const logW = tf
            .add(observationLogLikelihood('bernoulli', x, decode(m, z, yOneHot)), standardNormalLogDensity(z))
            .sub(gaussianLogDensity(z, q.loc, q.logScale))
            .add(logPriorY(3))
            .arraySync() as number[];
          logW.forEach((w, b) => assert.ok(Math.abs(got[s]![b]![y]! - w) < 1e-4, `s ${s}, y ${y}, image ${b}: ${got[s]![b]![y]} vs ${w}`));
        }
      // m = 1 with the first sample: log Σ_y p(y) w_y ≥ U(x) = Σ_y q(y|x) [log p(y) + log w_y... ] + H, for the same ε.
      const first = eps.slice([0, 0, 0], [1, 3 * B, 2]).reshape([3 * B, 2]) as tf.Tensor2D;
      const bound = tf
        .logSumExp(m2LogWeights(m, x, first.expandDims(0) as tf.Tensor3D), 2)
        .reshape([B])
        .arraySync() as number[];
      const elbo = unlabelledBoundEnumerated(m, x, first).bound.arraySync() as number[];
      bound.forEach((b, i) => assert.ok(b >= (elbo[i] as number) - 1e-4, `image ${i}: enumerated m = 1 bound ${b} < U(x) ${elbo[i]}`));
    }),
  );
  tf.dispose([x, eps]);
  disposeM2(m);
});

test('GMVAE: the KL is log q(z|x) − log p(z) under the mixture, it trains, and its prior is saved and loaded', async () => {
  const dataDir = tempDir('gmvae-data');
  writeTinyDataset(dataDir, 30, 5);
  const dataset = loadDataset({ dataDir, validationSize: 100 });
  const settings = { hidden: [16, 16], zDim: 2, xDim: 16, batchSize: 20, lr: 1e-2, prior: 'mixture' as const, components: 5 };
  assert.throws(
    () => resolveVaeConfig({ ...settings, prior: 'flat' as never }),
    /vae config\.prior must be one of gaussian, mixture, got "flat"/,
  );
  assert.throws(
    () => resolveVaeConfig({ ...settings, activation: 'relu' as never }),
    /vae config\.activation must be one of softplus, elu/,
  );
  const cacheRoot = tempDir('gmvae-cache');
  const run = await trainVae(
    { ...settings, epochs: 8, activation: 'elu', scale: 'softplus-variance' },
    { dataset, cacheRoot, log: () => {} },
  );
  const { vae, record } = run;
  assert.ok(vae.prior);
  const first = record.epochs[0]!;
  const last = record.epochs.at(-1)!;
  assert.ok(last.train.negativeElbo < first.train.negativeElbo, `train −ELBO ${first.train.negativeElbo} → ${last.train.negativeElbo}`);
  assert.equal(last.validation.klPerDimension, undefined);
  // The mixture's means moved from their initial draw: the prior is learnt.
  const initial = createVae(vae.config);
  const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(vae.prior!, initial.prior!))).arraySync() as number);
  disposeVae(initial);
  assert.ok(moved > 1e-3, `prior moved by ${moved}`);

  const x = tf.tensor2d(dataset.test.images.subarray(0, 5 * 16), [5, 16]);
  const eps = tf.tensor2d(standardNormal(10, 4), [5, 2]);
  noLeak(() =>
    tf.tidy(() => {
      const t = vaeElbo(vae, x, eps);
      const z = tf.add(t.q.loc, tf.mul(tf.exp(t.q.logScale), eps)) as tf.Tensor2D;
      const components = vaePriorComponents(vae);
      const expected = tf.sub(gaussianLogDensity(z, t.q.loc, t.q.logScale), mixtureLogDensity(z, components.loc, components.logScale));
      const diff = tf.max(tf.abs(tf.sub(t.kl, expected))).arraySync() as number;
      assert.ok(diff < 1e-5, `KL differs by ${diff}`);
      assert.ok(tf.all(tf.isFinite(vaeLogPrior(vae, z))).arraySync());
    }),
  );
  assert.equal(vaeSample(vae, 4, 2).length, 4 * 16);
  // The saved GMVAE, prior included, evaluates exactly as the one in memory.
  const loaded = loadVae(run.dir!).vae;
  const images = dataset.test.images;
  assert.deepEqual(vaeEvaluate(loaded, images, 5), vaeEvaluate(vae, images, 5));
  disposeVae(loaded);
  tf.dispose([x, eps]);
  disposeVae(vae);
});

function cli(args: string[]) {
  const root = path.resolve(__dirname, '..');
  return cp.spawnSync(process.execPath, [path.join(root, 'lib', 'dist', 'tools', 'cli.js'), ...args], { cwd: root, encoding: 'utf8' });
}

test('CLI: vae trains and scores each seed once; eval --iwae scores an M2 run; bad requests get one clear error', () => {
  const dataDir = tempDir('likelihood-cli-data');
  writeTinyDataset(dataDir, 30, 5);
  const root = tempDir('likelihood-cli');
  const small = flags({ preset: 'none', epochs: 2, hidden: 8, 'z-dim': 2, 'batch-size': 20, 'data-dir': dataDir, iwae: '1,4' });
  const first = cli(['vae', '--model', 'gmvae', '--components', 3, '--seeds', '0-1', '--out', root, ...small].map(String));
  assert.equal(first.status, 0, first.stderr);
  for (const seed of [0, 1]) {
    const record = JSON.parse(fs.readFileSync(path.join(root, `gmvae-s${seed}`, 'likelihood.json'), 'utf8'));
    assert.equal(record.model, 'gmvae');
    assert.equal(record.seed, seed);
    assert.equal(record.images, 50);
    assert.deepEqual(record.iwae.sampleCounts, [1, 4]);
    const [b1, b4] = record.iwae.bounds as [number, number];
    assert.ok(b1 < b4 && b4 < 0, `bounds ${b1}, ${b4}`);
    // −ELBO = −log p(x|z) + KL, and the m = 1 bound estimates the same ELBO.
    assert.ok(Math.abs(record.elbo.negativeElbo - record.elbo.reconstruction - record.elbo.kl) < 1e-3);
  }
  assert.match(first.stdout, /−IWAE\(m = 4\) \d+\.\d\d ± \d+\.\d\d nats/);
  const again = cli(['vae', '--model', 'gmvae', '--components', 3, '--seeds', '0-1', '--out', root, ...small].map(String));
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout.match(/already finished/g)?.length, 2);
  const changed = cli(['vae', '--model', 'gmvae', '--components', 4, '--seeds', '0', '--out', root, ...small].map(String));
  assert.equal(changed.status, 1);
  assert.match(changed.stderr, /gmvae-s0 holds a VAE run with other settings/);

  const run = path.join(root, 'v2');
  const trained = cli(['train', '--variant', 'v2', '--labels', '50', '--epochs', '1', ...tinyModelFlags(dataDir), '--out', run]);
  assert.equal(trained.status, 0, trained.stderr);
  const scored = cli(['eval', '--run', run, '--iwae', '1,5', '--images', '20']);
  assert.equal(scored.status, 0, scored.stderr);
  const m2Record = JSON.parse(fs.readFileSync(path.join(run, 'likelihood.json'), 'utf8'));
  assert.equal(m2Record.model, 'v2');
  assert.equal(m2Record.labels, 50);
  assert.equal(m2Record.images, 20);
  assert.equal(m2Record.elbo, undefined);

  const baseline = path.join(root, 'baseline');
  assert.equal(
    cli(['train', '--variant', 'baseline', '--labels', '50', '--epochs', '1', ...tinyModelFlags(dataDir), '--out', baseline]).status,
    0,
  );
  const cases: [string[], RegExp, number][] = [
    [['eval', '--run', baseline, '--iwae', '1'], /a baseline run has no model of the pixels to score/, 1],
    [['eval', '--run', run, '--iwae', '3,4'], /IWAE sample counts must each divide the largest \(4\); 3 do not/, 1],
    [['eval', '--run', run, '--images', '5'], /--images only go with --iwae/, 2],
    [['eval', '--run', dataDir, '--iwae', '1'], /neither an M2 run \(run\.json\) nor a VAE run \(vae\.json\)/, 1],
    [['vae', '--out', root], /vae needs --model vae\|gmvae/, 2],
    [['vae', '--model', 'gmvae', '--out', root, '--components', '0'], /--components must be a positive integer/, 2],
  ];
  for (const [args, message, status] of cases) {
    const r = cli(args);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('the likelihood table: our rows by model over seeds as −bounds, then the CS236 rows as printed', () => {
  const record = (seed: number, bounds: number[], elbo: number) => ({
    format: 'ssvae-likelihood/1' as const,
    model: 'vae',
    seed,
    images: 10_000,
    binarizeSeed: 0,
    elbo: { negativeElbo: elbo, reconstruction: elbo - 20, kl: 20 },
    iwae: { sampleCounts: [1, 10], bounds, standardErrors: [0.3, 0.3], images: 10_000, seconds: 4 },
    environment: {} as never,
  });
  const m2 = {
    ...record(0, [-90], 0),
    model: 'v3',
    labels: 100,
    elbo: undefined,
    iwae: { ...record(0, [-90], 0).iwae, sampleCounts: [1] },
  };
  const rows = likelihoodRows([record(0, [-100, -97], 101), record(1, [-102, -99], 103), m2]);
  assert.deepEqual(
    rows.map((r) => r.model),
    ['vae', 'v3, N = 100'],
  );
  const vae = rows[0]!;
  assert.deepEqual(vae.seeds, [0, 1]);
  assert.equal(vae.negativeIwae.get(10)?.mean, 98);
  assert.ok(Math.abs(vae.negativeIwae.get(10)!.sd - Math.SQRT2) < 1e-12);
  assert.equal(vae.negativeElbo?.mean, 102);
  assert.equal(rows[1]!.negativeElbo, undefined);
  const markdown = likelihoodTableMarkdown(likelihoodTable(rows));
  assert.match(
    markdown,
    /^\| VAE \| ours \| 2 \| 10000 \| 102\.00 ± 1\.41 \| 20\.00 ± 0\.00 \| 82\.00 ± 1\.41 \| 101\.00 ± 1\.41 \| 98\.00 ± 1\.41 \| — \| — \|$/m,
  );
  assert.match(markdown, /^\| M2 v3, N = 100 \| ours \| 1 \| 10000 \| — \| — \| — \| 90\.00 \| — \| — \| — \|$/m);
  assert.match(markdown, /^\| GMVAE \| Stanford CS236 HW2 \| 100 runs \| 100 \| 97\.22 ± 0\.54 .* 93\.38 ± 0\.46 \|$/m);
  assert.match(markdown, /−log p\(x\\\|z\)/);
});
