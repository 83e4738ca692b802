import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  averagingGroups,
  averagingTableHtml,
  averagingRuns,
  oneRowPerMethod,
  readRunRecord,
  resolveConfig,
  semiSupervisedSplits,
  SETTING_FLAGS,
  summarise,
  summariseRuns,
  tf,
  train,
  trainArgs,
  unaveragedRecord,
  WeightAverage,
  type RunRecord,
} from 'ssvae';
import { assertStepsKeepTensorCount, fakeRecord, tempDir, tinyTraining } from './helpers';

const { dataset, small } = tinyTraining('average-data');

/** Sets each variable to the values given for it. */
function setAll(vars: tf.Variable[], values: number[][]): void {
  vars.forEach((v, i) => v.assign(tf.tensor(values[i]!, v.shape)));
}

function read(tensors: tf.Tensor[]): number[][] {
  return tensors.map((t) => Array.from(t.dataSync()));
}

test('the weight average is Σ d^(t−s)(1 − d) w_s / (1 − d^t): the weights themselves after one step, their mean weighted by d', () => {
  const vars = [tf.variable(tf.zeros([2])), tf.variable(tf.zeros([1, 2]))];
  const d = 0.9;
  const avg = new WeightAverage(vars, d);
  const steps = [
    [
      [1, 2],
      [3, 4],
    ],
    [
      [5, -2],
      [0, 1],
    ],
    [
      [-1, 0.5],
      [2, 2],
    ],
  ];
  // Before any step: the weights as they are.
  setAll(vars, steps[0]!);
  const before = avg.values();
  assert.deepEqual(read(before), steps[0]);
  tf.dispose(before);
  const seen: number[][][] = [];
  for (const w of steps) {
    setAll(vars, w);
    avg.update();
    seen.push(w);
    const t = seen.length;
    const expected = w.map((_, j) =>
      w[j]!.map((_, k) => seen.reduce((sum, ws, s) => sum + d ** (t - 1 - s) * (1 - d) * ws[j]![k]!, 0) / (1 - d ** t)),
    );
    const got = avg.values();
    read(got).forEach((row, j) =>
      row.forEach((v, k) => assert.ok(Math.abs(v - expected[j]![k]!) < 1e-5, `step ${t}: ${v} vs ${expected[j]![k]}`)),
    );
    tf.dispose(got);
  }
  assert.equal(avg.steps, 3);
  // Constant weights average to themselves.
  const still = new WeightAverage(vars, 0.999);
  for (let i = 0; i < 5; i++) still.update();
  const same = still.values();
  read(same).forEach((row, j) => row.forEach((v, k) => assert.ok(Math.abs(v - steps[2]![j]![k]!) < 1e-5)));
  tf.dispose(same);
  still.dispose();
  avg.dispose();
  tf.dispose(vars);
});

test('swapIn puts the average in and its restore puts the trained weights back exactly; the state round-trips; no tensors left', () => {
  const vars = [tf.variable(tf.tensor1d([1, 2, 3]))];
  const avg = new WeightAverage(vars, 0.5);
  avg.update();
  vars[0]!.assign(tf.tensor1d([3, 2, 1]));
  avg.update(); // (0.25·[1,2,3] + 0.5·[3,2,1]) / 0.75
  const before = tf.memory().numTensors;
  const restore = avg.swapIn();
  const expected = [7 / 3, 2, 5 / 3];
  Array.from(vars[0]!.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6));
  restore();
  assert.deepEqual(Array.from(vars[0]!.dataSync()), [3, 2, 1]);
  assert.equal(tf.memory().numTensors, before);
  const copy = new WeightAverage(vars, 0.5);
  copy.setState(avg.getState());
  assert.equal(copy.steps, 2);
  assert.deepEqual(read(copy.values()), read(avg.values()));
  assert.throws(() => copy.setState({ steps: 1, sums: new Float32Array(2) }), /holds 2 values, the model has 3/);
  assert.throws(() => new WeightAverage(vars, 1), /decay must lie in \(0, 1\), got 1/);
  copy.dispose();
  avg.dispose();
  tf.dispose(vars);
});

test('config.averageDecay: 0 by default, in [0, 1), a setting of its own on the command line', () => {
  assert.equal(resolveConfig({}).averageDecay, 0);
  assert.throws(() => resolveConfig({ averageDecay: 1 }), /config\.averageDecay must lie in \[0, 1\) \(0 for no averaging\), got 1/);
  assert.throws(() => resolveConfig({ averageDecay: -0.5 }), /config\.averageDecay must lie in \[0, 1\)/);
  assert.ok(SETTING_FLAGS.some((s) => s.key === 'averageDecay' && s.flag === 'average-decay'));
  const config = resolveConfig({ variant: 'v3', labels: 100, averageDecay: 0.999 });
  const args = trainArgs({ name: 'x', config, given: { averageDecay: 0.999 } }, '/tmp/x');
  assert.deepEqual(args.slice(args.indexOf('--average-decay'), args.indexOf('--average-decay') + 2), ['--average-decay', '0.999']);
});

test('with averaging, training is unchanged: the same losses, and the trained weights’ accuracies, as the run without', async () => {
  const plain = tempDir('plain');
  const averaged = tempDir('averaged');
  await train({ ...small, variant: 'v3', epochs: 2, seed: 3 }, { outDir: plain, dataset });
  await train({ ...small, variant: 'v3', epochs: 2, seed: 3, averageDecay: 0.9 }, { outDir: averaged, dataset });
  const a = readRunRecord(plain);
  const b = readRunRecord(averaged);
  a.epochs.forEach((e, i) => {
    const f = b.epochs[i]!;
    assert.deepEqual(f.losses, e.losses);
    assert.deepEqual(f.unaveraged, { validationAccuracy: e.validationAccuracy, testAccuracy: e.testAccuracy });
    assert.ok(f.validationAccuracy >= 0 && f.validationAccuracy <= 1);
  });
  assert.equal(a.epochs[0]!.unaveraged, undefined);
  // The checkpoint's weights are the trained ones; best/ holds the averaged model's.
  const weights = (dir: string, sub: string) => fs.readFileSync(path.join(dir, sub, 'classifier', 'weights.bin'));
  assert.ok(weights(averaged, 'checkpoint').equals(weights(plain, 'checkpoint')));
  assert.ok(fs.existsSync(path.join(averaged, 'checkpoint', 'average.bin')));
  assert.ok(!fs.existsSync(path.join(plain, 'checkpoint', 'average.bin')));
});

test('a resumed averaging run ends with the same averaged accuracies and average as an uninterrupted one', async () => {
  const whole = tempDir('avg-whole');
  const split = tempDir('avg-split');
  const settings = { ...small, variant: 'v2' as const, epochs: 3, seed: 1, averageDecay: 0.95 };
  await train(settings, { outDir: whole, dataset });
  await train({ ...settings, epochs: 1 }, { outDir: split, dataset });
  await train({ epochs: 3 }, { outDir: split, resume: true, dataset });
  const strip = (r: RunRecord) => r.epochs.map(({ seconds: _s, ...rest }) => rest);
  assert.deepEqual(strip(readRunRecord(split)), strip(readRunRecord(whole)));
  const bin = (dir: string) => fs.readFileSync(path.join(dir, 'checkpoint', 'average.bin'));
  assert.ok(bin(split).equals(bin(whole)));
  // A checkpoint without its average cannot continue an averaging run.
  fs.rmSync(path.join(split, 'checkpoint', 'average.bin'));
  await assert.rejects(train({ epochs: 4 }, { outDir: split, resume: true, dataset }), /average\.bin: missing/);
});

test('v3 with averaging: tf.memory().numTensors is the same after step 10 and step 100; train leaves no tensors behind', async () => {
  const config = resolveConfig({ ...small, variant: 'v3', averageDecay: 0.99 });
  assertStepsKeepTensorCount(config, semiSupervisedSplits(dataset, config.labels, 0));
  const before = tf.memory().numTensors;
  await train({ ...small, variant: 'baseline', epochs: 2, averageDecay: 0.99 }, { dataset });
  assert.equal(tf.memory().numTensors, before);
});

/** A finished 12-epoch record of v3 at N = 100 with averaging, from per-epoch [validation, test] pairs of both readings. */
function averagedRecord(seed: number, averaged: [number, number][], unaveraged: [number, number][]): RunRecord {
  const record = fakeRecord(
    { variant: 'v3', labels: 100, seed, epochs: averaged.length, averageDecay: 0.999 },
    0.9,
    '2026-12-08T00:00:00Z',
  );
  record.epochs = record.epochs.map((e, i) => ({
    ...e,
    validationAccuracy: averaged[i]![0],
    testAccuracy: averaged[i]![1],
    unaveraged: { validationAccuracy: unaveraged[i]![0], testAccuracy: unaveraged[i]![1] },
  }));
  record.result = summarise(record.epochs, record.config.epochs);
  return record;
}

test('averagingRuns reads a run both ways, each with its own best epoch; averagingGroups compares them on validation', () => {
  const ramp = (n: number, top: number): [number, number][] =>
    Array.from({ length: n }, (_, i) => [top - (n - i) * 0.001, top - 0.01 - (n - i) * 0.001]);
  const a0 = ramp(12, 0.95);
  const u0: [number, number][] = ramp(12, 0.94).map(([v, t], i) => (i === 5 ? [0.97, 0.9] : [v, t]));
  const a1 = ramp(12, 0.96);
  const u1 = ramp(12, 0.95).map(([v, t], i): [number, number] => [v, i % 2 === 0 ? t + 0.01 : t - 0.01]);
  const runs = averagingRuns([
    { dir: 'b', record: averagedRecord(1, a1, u1) },
    { dir: 'a', record: averagedRecord(0, a0, u0) },
    { dir: 'plain', record: fakeRecord({ variant: 'v3', labels: 100 }, 0.9, '2026-12-08T00:00:00Z') },
  ]);
  assert.deepEqual(
    runs.map((r) => r.dir),
    ['a', 'b'],
  );
  const [r0] = runs;
  assert.deepEqual([r0!.averaged.bestEpoch, r0!.averaged.testAccuracy], [12, a0[11]![1]]);
  assert.deepEqual([r0!.unaveraged.bestEpoch, r0!.unaveraged.validationAccuracy, r0!.unaveraged.testAccuracy], [6, 0.97, 0.9]);
  // The unaveraged test accuracy of run b alternates ±0.01 around a ramp over its last ten epochs.
  assert.ok(runs[1]!.unaveraged.lateSpread > 0.009 && runs[1]!.averaged.lateSpread < 0.004);
  const [group] = averagingGroups(runs);
  assert.deepEqual(group!.seeds, [0, 1]);
  assert.ok(Math.abs(group!.validation.unaveraged - (0.97 + u1[11]![0]) / 2) < 1e-12);
  assert.equal(group!.averagingWins, group!.validation.averaged > group!.validation.unaveraged);
  assert.equal(group!.test.averaged.n, 2);
  const html = averagingTableHtml([group!]);
  assert.match(
    html,
    /variant 3\)<\/td><td style="text-align:right">100<\/td><td style="text-align:right">0\.999<\/td><td style="text-align:right">2<\/td>/,
  );
  assert.equal((html.match(/<tr>/g) ?? []).length, 2);
  const bare = fakeRecord({ variant: 'v3', labels: 100, averageDecay: 0.99 }, 0.9, '2026-12-08T00:00:00Z');
  assert.throws(
    () => unaveragedRecord(bare, 'runs/x'),
    /runs\/x: epoch 1 records no unaveraged accuracies \(config\.averageDecay is 0\.99\)/,
  );
});

test('Table 1 gives averaged weights a row of their own beside the same variant’s trained weights', () => {
  const runs = [0, 1].flatMap((seed) => [
    { dir: `plain-${seed}`, record: fakeRecord({ variant: 'v3', labels: 3000, seed }, 0.97, '2026-12-08T00:00:00Z') },
    { dir: `avg-${seed}`, record: fakeRecord({ variant: 'v3', labels: 3000, seed, averageDecay: 0.999 }, 0.973, '2026-12-08T00:00:00Z') },
  ]);
  const rows = oneRowPerMethod(summariseRuns(runs))
    .groups.map((g) => [g.method, g.runs.length, g.testAtBest.mean])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  assert.deepEqual(rows, [
    ['M2, summed out + classification term (variant 3)', 2, 0.97],
    ['M2, summed out + classification term (variant 3); averageDecay 0.999', 2, 0.973],
  ]);
});
