import assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  categoricalKlToUniform,
  concreteLogDensity,
  createM2,
  disposeM2,
  gumbel,
  labelledBound,
  logPriorY,
  logQy,
  readRunRecord,
  relaxedSample,
  resolveConfig,
  semiSupervisedSplits,
  standardNormal,
  straightThrough,
  temperatureAt,
  tf,
  train,
  trainableVariables,
  unlabelledBoundEnumerated,
  unlabelledBoundRelaxed,
} from 'ssvae';
import { assertStepsKeepTensorCount, flags, randomPixels, tempDir, tinyModelFlags, tinyTraining } from './helpers';

const tiny = { xDim: 6, numClasses: 3, hidden: [5], zDim: 2, init: 'glorot-normal' as const, likelihood: 'bernoulli' as const };

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

test('Gumbel-max: argmax(log π + g) is a draw of Cat(π)', () => {
  const pi = [0.5, 0.3, 0.15, 0.05];
  const n = 40_000;
  const g = gumbel(n * 4, 3);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < 4; k++) if (Math.log(pi[k]!) + g[i * 4 + k]! > Math.log(pi[best]!) + g[i * 4 + best]!) best = k;
    counts[best]! += 1;
  }
  counts.forEach((c, k) => {
    const sd = Math.sqrt((pi[k]! * (1 - pi[k]!)) / n);
    assert.ok(Math.abs(c / n - pi[k]!) < 4 * sd, `class ${k}: ${c / n} vs ${pi[k]}`);
  });
  assert.ok(g.every(Number.isFinite));
});

test('two classes: the relaxed sample follows the Concrete CDF, and the density is its derivative and integrates to 1', () => {
  const a = 0.7; // log π₁ − log π₂
  const tau = 0.6;
  const n = 20_000;
  const logits = tf.tensor2d(Array.from({ length: n }, () => [a, 0]));
  const samples = relaxedSample(logits, tf.tensor2d(gumbel(n * 2, 11), [n, 2]), tau).arraySync() as number[][];
  const first = samples.map((row) => row[0]!).sort((p, q) => p - q);
  // ỹ₁ = σ((a + L)/τ) with L = g₁ − g₂ logistic, so P(ỹ₁ ≤ t) = P(L ≤ τ·logit t − a) = σ(τ·logit t − a).
  const cdf = (t: number) => sigmoid(tau * Math.log(t / (1 - t)) - a);
  let ks = 0;
  first.forEach((v, i) => (ks = Math.max(ks, Math.abs((i + 1) / n - cdf(v)), Math.abs(i / n - cdf(v)))));
  assert.ok(ks < 0.015, `Kolmogorov–Smirnov distance ${ks}`);
  // Density on a grid: ∫₀¹ p(t, 1 − t) dt = 1, and p = dF/dt.
  const grid = Array.from({ length: 4000 }, (_, i) => (i + 0.5) / 4000);
  const density = tf
    .exp(concreteLogDensity(tf.tensor2d(grid.map(() => [a, 0])), tf.tensor2d(grid.map((t) => [t, 1 - t])), tau))
    .arraySync() as number[];
  const integral = density.reduce((s, p) => s + p / 4000, 0);
  assert.ok(Math.abs(integral - 1) < 5e-3, `integral ${integral}`);
  for (const i of [400, 2000, 3600]) {
    const t = grid[i]!;
    const slope = (cdf(t + 1e-4) - cdf(t - 1e-4)) / 2e-4;
    assert.ok(Math.abs(density[i]! - slope) < 1e-3 * Math.max(1, slope), `t = ${t}: density ${density[i]} vs dF/dt ${slope}`);
  }
});

test('three classes: the Concrete density integrates to 1 over the simplex', () => {
  const logits = [0.3, -0.5, 1.1];
  const tau = 0.8;
  const steps = 400;
  const points: number[][] = [];
  for (let i = 0; i < steps; i++) {
    for (let j = 0; i + j < steps - 1; j++) {
      const y1 = (i + 1 / 3) / steps;
      const y2 = (j + 1 / 3) / steps;
      points.push([y1, y2, 1 - y1 - y2]);
    }
  }
  const density = tf.exp(concreteLogDensity(tf.tensor2d(points.map(() => logits)), tf.tensor2d(points), tau)).arraySync() as number[];
  // One point per grid square of side 1/steps inside the simplex, each weighing the square's area.
  const integral = density.reduce((s, p) => s + p, 0) / steps ** 2;
  assert.ok(Math.abs(integral - 1) < 0.02, `integral ${integral}`);
});

test("straight-through: one-hot forward (the Gumbel-max sample at any τ), the relaxed sample's gradient backward", () => {
  const logits = tf.variable(
    tf.tensor2d([
      [0.2, 1.5, -0.3],
      [2.0, 0.1, 0.0],
    ]),
  );
  const g = tf.tensor2d(gumbel(6, 5), [2, 3]);
  const weights = tf.tensor2d([
    [1, -2, 0.5],
    [0.3, 0.7, -1],
  ]);
  for (const tau of [5, 1, 0.1]) {
    const hard = straightThrough(relaxedSample(logits, g, tau)).arraySync() as number[][];
    const scores = tf.add(logits, g).arraySync() as number[][];
    hard.forEach((row, b) => {
      const best = scores[b]!.indexOf(Math.max(...scores[b]!));
      assert.deepEqual(
        row.map((v) => Number(v.toFixed(6))),
        [0, 1, 2].map((k) => (k === best ? 1 : 0)),
      );
    });
    const through = tf.variableGrads(() => tf.sum(tf.mul(weights, straightThrough(relaxedSample(logits, g, tau)))) as tf.Scalar, [logits]);
    const soft = tf.variableGrads(() => tf.sum(tf.mul(weights, relaxedSample(logits, g, tau))) as tf.Scalar, [logits]);
    const diff = tf.max(tf.abs(tf.sub(through.grads[logits.name]!, soft.grads[logits.name]!))).arraySync() as number;
    assert.ok(diff < 1e-6, `τ = ${tau}: gradients differ by ${diff}`);
  }
  // Small τ: the relaxed sample itself approaches the one-hot sample.
  const cold = relaxedSample(logits, g, 0.01).arraySync() as number[][];
  cold.forEach((row) => assert.ok(Math.max(...row) > 0.999));
  assert.throws(() => relaxedSample(logits, g, 0), /temperature τ must be positive, got 0/);
  logits.dispose();
});

test('with a hard sample the relaxed bound is L(x, ŷ) + H(q(y|x)), and its mean over ŷ ~ q(y|x) is U(x) summed out', () => {
  const m = createM2({ ...tiny, numClasses: 4 }, 7);
  const B = 2;
  const x = randomPixels(B, 6, 1);
  const eps = tf.tensor2d(standardNormal(B * 2, 2), [B, 2]); // one ε per image, shared by every class
  const logQ = logQy(m, x).arraySync() as number[][];
  const entropy = logQ.map((row) => -row.reduce((s, l) => s + Math.exp(l) * l, 0));
  // All draws at once: the batch repeated `draws` times, each row with its own Gumbel noise.
  const draws = 4000;
  const g = tf.tensor2d(gumbel(draws * B * 4, 100), [draws * B, 4]);
  const u = tf.tidy(() => {
    const xs = tf.tile(x, [draws, 1]) as tf.Tensor2D;
    const es = tf.tile(eps, [draws, 1]) as tf.Tensor2D;
    return unlabelledBoundRelaxed(m, xs, g, es, { temperature: 0.5, straightThrough: true })
      .bound.reshape([draws, B])
      .arraySync() as number[][];
  });
  // The first draw, term by term: the class the straight-through vector picks, then L(x, ŷ) + H.
  const picked = tf.tidy(() => tf.argMax(tf.add(logQy(m, x), g.slice([0, 0], [B, 4])), 1).arraySync() as number[]);
  const l = tf.tidy(
    () => labelledBound(m, x, tf.oneHot(tf.tensor1d(picked, 'int32'), 4).toFloat() as tf.Tensor2D, eps).bound.arraySync() as number[],
  );
  u[0]!.forEach((v, b) => assert.ok(Math.abs(v - (l[b]! + entropy[b]!)) < 1e-3, `image ${b}: ${v} vs ${l[b]! + entropy[b]!}`));
  const exact = tf.tidy(() => unlabelledBoundEnumerated(m, x, tf.tile(eps, [4, 1]) as tf.Tensor2D).bound.arraySync() as number[]);
  exact.forEach((target, b) => {
    const values = u.map((row) => row[b]!);
    const mean = values.reduce((s, v) => s + v, 0) / draws;
    const se = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (draws - 1) / draws);
    assert.ok(Math.abs(mean - target) < 4 * se + 1e-3, `image ${b}: Monte Carlo ${mean} ± ${se}, summed out ${target}`);
  });
  g.dispose();
  // KL(q(y|x) ‖ p(y)) = log K − H.
  const kl = categoricalKlToUniform(logQy(m, x)).arraySync() as number[];
  kl.forEach((v, b) => assert.ok(Math.abs(v - (Math.log(4) - entropy[b]!)) < 1e-5));
  assert.equal(logPriorY(4), -Math.log(4));
  disposeM2(m);
});

test('the relaxed bound gives every network a gradient and leaves no tensors behind', () => {
  const m = createM2(tiny, 3);
  const x = randomPixels(4, 6, 9);
  const variables = trainableVariables(m);
  const step = (seed: number, straight: boolean) => {
    const g = tf.tensor2d(gumbel(4 * 3, seed), [4, 3]);
    const eps = tf.tensor2d(standardNormal(4 * 2, seed), [4, 2]);
    const { value, grads } = tf.variableGrads(
      () => tf.neg(tf.mean(unlabelledBoundRelaxed(m, x, g, eps, { temperature: 0.7, straightThrough: straight }).bound)) as tf.Scalar,
      variables,
    );
    const norms = variables.map((v) => tf.tidy(() => tf.norm(grads[v.name]!).arraySync() as number));
    tf.dispose([value, g, eps]);
    tf.dispose(grads);
    return norms;
  };
  for (const straight of [false, true])
    assert.ok(
      step(1, straight).every((n) => n > 0),
      'a variable got no gradient',
    );
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) step(10 + i, i % 2 === 0);
  assert.equal(tf.memory().numTensors, before);
  disposeM2(m);
});

const { dataDir, dataset, small } = tinyTraining('gumbel-data');

test('gumbel: settings with defaults and checks; τ falls from temperature to minTemperature at rate decay', () => {
  const config = resolveConfig({ variant: 'gumbel', gumbel: { straightThrough: true } });
  assert.deepEqual(config.gumbel, { temperature: 1, minTemperature: 0.5, decay: 1e-4, straightThrough: true });
  assert.equal(resolveConfig({ variant: 'v3', gumbel: { decay: 0 } }).gumbel, undefined);
  assert.equal(temperatureAt(config.gumbel!, 0), 1);
  assert.ok(Math.abs(temperatureAt(config.gumbel!, 5000) - Math.exp(-0.5)) < 1e-12);
  assert.equal(temperatureAt(config.gumbel!, 100_000), 0.5);
  assert.equal(temperatureAt({ ...config.gumbel!, decay: 0 }, 100_000), 1);
  assert.throws(
    () => resolveConfig({ variant: 'gumbel', gumbel: { minTemperature: 2 } }),
    /config\.gumbel\.minTemperature must lie in \(0, temperature = 1\], got 2/,
  );
  assert.throws(() => resolveConfig({ variant: 'gumbel', gumbel: { tau: 1 } as never }), /config\.gumbel has no field "tau"/);
});

for (const straight of [false, true]) {
  test(`gumbel${straight ? ' (straight-through)' : ''}: tf.memory().numTensors is the same after step 10 and step 100`, () => {
    const config = resolveConfig({ ...small, variant: 'gumbel', gumbel: { straightThrough: straight } });
    const terms = assertStepsKeepTensorCount(config, semiSupervisedSplits(dataset, config.labels, 0));
    assert.ok('unlabelled.entropy' in terms && 'labelled.classification' in terms);
  });
}

test('gumbel: a resumed run (τ annealed by step) ends with the same numbers as an uninterrupted one', async () => {
  const settings = { ...small, variant: 'gumbel' as const, seed: 3, gumbel: { decay: 0.05, minTemperature: 0.3 } };
  const whole = tempDir('gumbel-whole');
  const split = tempDir('gumbel-split');
  await train({ ...settings, epochs: 3 }, { outDir: whole, dataset });
  await train({ ...settings, epochs: 1 }, { outDir: split, dataset });
  await train({ epochs: 3 }, { outDir: split, resume: true, dataset });
  const strip = (dir: string) => readRunRecord(dir).epochs.map(({ seconds: _s, ...rest }) => rest);
  assert.deepEqual(strip(split), strip(whole));
});

test('CLI: gumbel flags reach the run record; a bad one names its flag', () => {
  const root = path.resolve(__dirname, '..');
  const cli = (args: string[]) =>
    cp.spawnSync(process.execPath, [path.join(root, 'lib', 'dist', 'tools', 'cli.js'), ...args], { cwd: root, encoding: 'utf8' });
  const out = path.join(tempDir('gumbel-cli'), 'run');
  const relaxation = flags({ 'gumbel-temperature': 2, 'gumbel-decay': 0, 'gumbel-straight-through': 'true' });
  const ran = cli([
    'train',
    '--variant',
    'gumbel',
    '--labels',
    '50',
    '--epochs',
    '1',
    ...tinyModelFlags(dataDir),
    ...relaxation,
    '--out',
    out,
  ]);
  assert.equal(ran.status, 0, ran.stderr);
  assert.deepEqual(readRunRecord(out).config.gumbel, { temperature: 2, minTemperature: 0.5, decay: 0, straightThrough: true });
  const refused: [string, string, RegExp][] = [
    ['--gumbel-straight-through', 'yes', /--gumbel-straight-through must be one of true, false, got "yes"/],
    ['--gumbel-temperature', '0', /--gumbel-temperature must be positive, got 0/],
  ];
  for (const [flag, value, message] of refused) {
    const bad = cli(['train', '--variant', 'gumbel', '--labels', '50', flag, value, '--out', path.join(tempDir('gumbel-bad'), 'run')]);
    assert.equal(bad.status, 2, `${flag} ${value}`);
    assert.match(bad.stderr, message);
  }
});
