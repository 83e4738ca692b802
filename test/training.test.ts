import assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  activeUnits,
  Adam,
  classificationWeight,
  createM2,
  disposeM2,
  encode,
  epochPlan,
  gaussianKl,
  initSeedOf,
  klPerDimension,
  makeRng,
  parseCpuInfo,
  readRunRecord,
  resolveConfig,
  restartStream,
  semiSupervisedSplits,
  tf,
  train,
  Trainer,
  TrainingDiverged,
  type Step,
  type TrainSettings,
  type Variant,
} from 'ssvae';
import { assertStepsKeepTensorCount, flags, tempDir, tinyModelFlags, tinyTraining } from './helpers';

const root = path.resolve(__dirname, '..');
const { dataDir, dataset, small } = tinyTraining('train-data');

test('alternating schedule at N = 3000: 250 steps, a labelled batch every 16th step, every image once', () => {
  const config = resolveConfig({ variant: 'v3', labels: 3000, schedule: 'alternating' });
  const plan = epochPlan(config, 47_000, 3000, makeRng(0, 'plan'));
  assert.equal(plan.length, 235 + 15);
  const labelledAt = plan.flatMap((s, i) => (s.labelled ? [i] : []));
  assert.deepEqual(
    labelledAt,
    Array.from({ length: 15 }, (_, j) => 16 * j),
  );
  assert.ok(plan.every((s) => (s.labelled === undefined) !== (s.unlabelled === undefined)));
  const seenU = plan.flatMap((s) => Array.from(s.unlabelled ?? []));
  const seenL = plan.flatMap((s) => Array.from(s.labelled ?? []));
  assert.equal(new Set(seenU).size, 47_000);
  assert.equal(seenU.length, 47_000);
  assert.equal(new Set(seenL).size, 3000);
});

test('N smaller than the batch: one labelled batch of N; mixed schedule pairs every unlabelled batch with a labelled one', () => {
  const alt = resolveConfig({ variant: 'v3', labels: 100, schedule: 'alternating' });
  assert.equal(alt.labelledBatchSize, 100);
  const plan = epochPlan(alt, 49_900, 100, makeRng(1, 'plan'));
  assert.equal(plan.filter((s) => s.labelled).length, 1);
  const mixed = resolveConfig({ variant: 'v3', labels: 600, schedule: 'mixed' });
  assert.equal(mixed.labelledBatchSize, 100);
  const mplan = epochPlan(mixed, 49_400, 600, makeRng(1, 'plan'));
  assert.equal(mplan.length, 247);
  assert.ok(mplan.every((s) => s.labelled?.length === 100 && s.unlabelled?.length === 200));
  const base = epochPlan(resolveConfig({ variant: 'baseline', labels: 3000, schedule: 'alternating' }), 47_000, 3000, makeRng(1, 'plan'));
  assert.equal(base.length, 250);
  assert.ok(base.every((s) => s.unlabelled === undefined && s.labelled?.length === 200));
  const baseMixed = epochPlan(resolveConfig({ variant: 'baseline', labels: 3000, schedule: 'mixed' }), 47_000, 3000, makeRng(1, 'plan'));
  assert.equal(baseMixed.length, 235);
  assert.ok(baseMixed.every((s) => s.unlabelled === undefined && s.labelled?.length === 100));
});

test("the classification term's weight per epoch: α′ under mixed, Kingma et al.'s α·n/(n − N) under alternating at N = 3000", () => {
  const n = 50_000;
  const weight = (variant: Variant, labels: number, schedule: 'mixed' | 'alternating') =>
    classificationWeight(resolveConfig({ variant, labels, schedule }), n - labels, labels);
  // Mixed: a labelled batch in every step, so the weight is α′ itself (Kingma's rule: 0.1 · n / N).
  assert.equal(weight('m1m2', 100, 'mixed'), 50);
  assert.ok(Math.abs(weight('v3', 3000, 'mixed') - 5 / 3) < 1e-12);
  // Alternating at N = 100: one labelled step against 249 unlabelled ones.
  assert.ok(Math.abs(weight('m1m2', 100, 'alternating') - 50 / 249) < 1e-12);
  // At N = 3000, 15 labelled steps against 235: exactly the pass-level weight of Kingma's code.
  assert.ok(Math.abs(weight('gumbel', 3000, 'alternating') - (0.1 * n) / (n - 3000)) < 1e-12);
  assert.equal(weight('v2', 100, 'mixed'), 0);
  assert.throws(() => weight('m1', 100, 'mixed'), /classificationWeight: m1 trains on labelled images alone/);
});

test('spread schedule: every step one unlabelled batch and its share of the labelled images, each once per epoch', () => {
  const at100 = epochPlan(resolveConfig({ variant: 'm1m2', labels: 100, schedule: 'spread' }), 49_900, 100, makeRng(2, 'plan'));
  assert.equal(at100.length, 249);
  assert.ok(at100.every((s) => s.unlabelled?.length === 200));
  const withLabels = at100.filter((s) => s.labelled);
  assert.equal(withLabels.length, 100);
  assert.ok(withLabels.every((s) => s.labelled?.length === 1));
  assert.equal(new Set(withLabels.map((s) => s.labelled?.[0])).size, 100);
  // At N = 3000 every one of the 235 steps takes 12 or 13 labelled images, 3000 distinct in all.
  const at3000 = epochPlan(resolveConfig({ variant: 'v3', labels: 3000, schedule: 'spread' }), 47_000, 3000, makeRng(2, 'plan'));
  assert.equal(at3000.length, 235);
  assert.ok(at3000.every((s) => s.labelled !== undefined && s.labelled.length >= 12 && s.labelled.length <= 13));
  const seen = at3000.flatMap((s) => Array.from(s.labelled ?? []));
  assert.equal(seen.length, 3000);
  assert.equal(new Set(seen).size, 3000);
  const baseline = epochPlan(resolveConfig({ variant: 'baseline', labels: 100, schedule: 'spread' }), 49_900, 100, makeRng(2, 'plan'));
  assert.equal(baseline.length, 249);
});

test('spread schedule: a step weighs each labelled image like an unlabelled one; the epoch weight is α·n/(n − N)', () => {
  // Kingma's rule gives α′ = 0.1·n/N; spread scales it by N/(images in the 249 unlabelled batches).
  const n = 50_000;
  const spread = (labels: number) => resolveConfig({ variant: 'm1m2', labels, schedule: 'spread' });
  assert.ok(Math.abs(classificationWeight(spread(100), n - 100, 100) - (0.1 * n) / (249 * 200)) < 1e-12);
  assert.ok(Math.abs(classificationWeight(spread(3000), n - 3000, 3000) - (0.1 * n) / (n - 3000)) < 1e-12);
  // On a real step the loss is the unlabelled mean plus share · (labelled mean terms), share = B_l/B_u.
  const config = resolveConfig({ ...small, variant: 'v3', labels: 50, batchSize: 20, schedule: 'spread' });
  const splits = semiSupervisedSplits(dataset, config.labels, 0);
  const trainer = new Trainer(config, splits);
  try {
    const rng = makeRng(3, 'spread');
    const plan = epochPlan(config, splits.unlabelled.count, splits.labelled.count, rng);
    const step = plan.find((s) => (s.labelled?.length ?? 0) > 1) as Step;
    const share = (step.labelled?.length ?? 0) / (step.unlabelled?.length ?? 1);
    assert.ok(share > 0 && share < 1);
    const t = trainer.step(step, rng);
    const expected = t['unlabelled.loss']! + share * (t['labelled.loss']! + trainer.alpha * t['labelled.classification']!);
    assert.ok(Math.abs(t.loss! - expected) < 1e-4 * Math.abs(expected), `loss ${t.loss}, expected ${expected}`);
  } finally {
    trainer.dispose();
  }
});

/**
 * The terms of the first step of a fresh v3 trainer (mixed schedule, so the step has both
 * batches) with `settings`, its random stream drawn from (seed, stream); and the trainer's α′.
 */
function firstMixedStep(settings: TrainSettings, seed: number, stream: string): { t: Record<string, number>; alpha: number } {
  const config = resolveConfig({ ...small, variant: 'v3', labels: 50, batchSize: 20, ...settings });
  const splits = semiSupervisedSplits(dataset, config.labels, 0);
  const trainer = new Trainer(config, splits);
  try {
    const rng = makeRng(seed, stream);
    const step = epochPlan(config, splits.unlabelled.count, splits.labelled.count, rng)[0] as Step;
    assert.ok(step.labelled && step.unlabelled, 'a mixed step has both batches');
    return { t: trainer.step(step, rng), alpha: trainer.alpha };
  } finally {
    trainer.dispose();
  }
}

test('labelledBoundWeight scales the labelled bound in the loss and is still reported at 0', () => {
  for (const weight of [0, 0.25, 1]) {
    const { t, alpha } = firstMixedStep({ labelledBoundWeight: weight }, 4, 'weight');
    assert.ok(Number.isFinite(t['labelled.loss']), `labelled.loss is reported at weight ${weight}`);
    const expected = t['unlabelled.loss']! + weight * t['labelled.loss']! + alpha * t['labelled.classification']!;
    assert.ok(Math.abs(t.loss! - expected) < 1e-4 * Math.abs(expected), `weight ${weight}: loss ${t.loss}, expected ${expected}`);
  }
  assert.throws(() => resolveConfig({ labelledBoundWeight: -1 }), /config\.labelledBoundWeight must be a non-negative number, got -1/);
  assert.throws(() => resolveConfig({ variant: 'v2', labelledBoundWeight: 0 }), /config\.labelledBoundWeight 0 leaves v2 no labels/);
});

test('classBalance adds λ·KL(q̄(y) ‖ p(y)) of the unlabelled batch to the loss; 0 leaves the loss and its terms as they were', () => {
  const stepOf = (classBalance: number) => firstMixedStep({ classBalance }, 5, 'balance');
  const off = stepOf(0);
  assert.ok(!('unlabelled.balance' in off.t), 'no balance term without the penalty');
  for (const lambda of [0.5, 10]) {
    const { t, alpha } = stepOf(lambda);
    // Same initial weights, batch and noise: every term of the bound is the one without the penalty.
    assert.equal(t['unlabelled.loss'], off.t['unlabelled.loss']);
    const balance = t['unlabelled.balance']!;
    assert.ok(balance > 0 && balance < Math.log(10), `KL(q̄ ‖ p) ${balance} lies in (0, log K)`);
    const expected = t['unlabelled.loss']! + t['labelled.loss']! + alpha * t['labelled.classification']! + lambda * balance;
    assert.ok(Math.abs(t.loss! - expected) < 1e-4 * Math.abs(expected), `λ ${lambda}: loss ${t.loss}, expected ${expected}`);
  }
  assert.throws(() => resolveConfig({ classBalance: -1 }), /config\.classBalance must be a non-negative number \(0 for none\), got -1/);
  assert.throws(
    () => resolveConfig({ variant: 'baseline', classBalance: 1 }),
    /config\.classBalance applies to the unlabelled batch, and baseline trains on labels only/,
  );
});

test('a restart trains the same labelled subset from other initial weights and batch order; restart 0 is the run as before', () => {
  const weightsOf = (trainer: Trainer) => trainer.model.classifier.getWeights().map((w) => Array.from(w.dataSync()));
  const start = (restart: number) => {
    const config = resolveConfig({ ...small, variant: 'v3', seed: 3, restart });
    // The subset comes from the seed alone: the same splits serve every restart.
    const trainer = new Trainer(config, semiSupervisedSplits(dataset, config.labels, config.seed));
    try {
      const weights = weightsOf(trainer);
      const losses = trainer.trainEpoch(1);
      return { weights, losses };
    } finally {
      trainer.dispose();
    }
  };
  const [r0, r1, again1, r2] = [start(0), start(1), start(1), start(2)];
  // Restart 0 draws what a run without restarts drew: initial weights from the seed itself.
  assert.equal(initSeedOf({ seed: 3, restart: 0 }), 3);
  const plain = createM2(resolveConfig({ ...small, variant: 'v3' }), 3);
  try {
    assert.deepEqual(
      r0.weights,
      plain.classifier.getWeights().map((w) => Array.from(w.dataSync())),
    );
  } finally {
    disposeM2(plain);
  }
  assert.equal(restartStream({ restart: 0 }, 'epoch-1'), 'epoch-1');
  // Other restarts start elsewhere and train differently, each reproducibly.
  assert.notDeepEqual(r1.weights, r0.weights);
  assert.notDeepEqual(r2.weights, r1.weights);
  assert.deepEqual(again1, r1);
  assert.notEqual(r1.losses['unlabelled.loss'], r0.losses['unlabelled.loss']);
  assert.throws(() => resolveConfig({ restart: -1 }), /config\.restart must be a non-negative integer, got -1/);
  assert.throws(() => resolveConfig({ restart: 0.5 }), /config\.restart must be a non-negative integer, got 0\.5/);
});

for (const variant of ['v1', 'v1-loo', 'v2', 'v3', 'baseline'] as Variant[]) {
  test(`${variant}: tf.memory().numTensors is the same after step 10 and step 100`, () => {
    const config = resolveConfig({ ...small, variant });
    assertStepsKeepTensorCount(config, semiSupervisedSplits(dataset, config.labels, 0));
  });
}

test('v3 under the spread schedule: tf.memory().numTensors is the same after step 10 and step 100', () => {
  const config = resolveConfig({ ...small, variant: 'v3', schedule: 'spread' });
  assertStepsKeepTensorCount(config, semiSupervisedSplits(dataset, config.labels, 0));
});

test('v3 with the class-balance penalty: tf.memory().numTensors is the same after step 10 and step 100', () => {
  const config = resolveConfig({ ...small, variant: 'v3', classBalance: 10 });
  const terms = assertStepsKeepTensorCount(config, semiSupervisedSplits(dataset, config.labels, 0));
  assert.ok(Number.isFinite(terms['unlabelled.balance']), 'the step reports the penalty');
});

test('the train API leaves no tensors behind', async () => {
  const before = tf.memory().numTensors;
  await train({ ...small, variant: 'v2', epochs: 2 }, { dataset });
  assert.equal(tf.memory().numTensors, before);
});

function readWeights(dir: string): Buffer[] {
  return ['classifier', 'encoder', 'decoder'].map((n) => fs.readFileSync(path.join(dir, 'checkpoint', n, 'weights.bin')));
}

test('a resumed run ends with the same numbers and weights as an uninterrupted one', async () => {
  const whole = tempDir('whole');
  const split = tempDir('split');
  await train({ ...small, variant: 'v3', epochs: 3, seed: 4 }, { outDir: whole, dataset });
  await train({ ...small, variant: 'v3', epochs: 1, seed: 4 }, { outDir: split, dataset });
  await train({ epochs: 3 }, { outDir: split, resume: true, dataset });
  const a = readRunRecord(whole);
  const b = readRunRecord(split);
  const strip = (r: typeof a) => r.epochs.map(({ seconds: _s, ...rest }) => rest);
  assert.deepEqual(strip(b), strip(a));
  assert.deepEqual(b.result, a.result);
  assert.ok(b.result.finished);
  readWeights(whole).forEach((w, i) => assert.ok(w.equals(readWeights(split)[i]!), `network ${i} weights differ`));
});

test('a NaN loss stops training naming epoch and step, keeping the last good checkpoint', async () => {
  const dir = tempDir('nan');
  await train({ ...small, variant: 'v2', epochs: 1 }, { outDir: dir, dataset });
  const good = readWeights(dir);
  // Sabotage the run's learning rate so that the next epoch overflows.
  const record = readRunRecord(dir);
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ ...record, config: { ...record.config, lr: 1e30 } }));
  await assert.rejects(train({ epochs: 3 }, { outDir: dir, resume: true, dataset }), (err: Error) => {
    assert.ok(err instanceof TrainingDiverged);
    assert.match(err.message, /non-finite loss .* at epoch 2, step \d+ of \d+/);
    return true;
  });
  const after = readRunRecord(dir);
  assert.equal(after.epochs.length, 1);
  assert.match(after.result.error ?? '', /at epoch 2/);
  readWeights(dir).forEach((w, i) => assert.ok(w.equals(good[i]!), `checkpoint of network ${i} changed`));
});

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return cp.spawnSync(process.execPath, [path.join(root, 'lib', 'dist', 'tools', 'cli.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

test('CLI: bad flags and impossible combinations get one clear error each', () => {
  const out = tempDir('cli-bad');
  // [arguments, expected error, exit status: 2 for usage errors, 1 for failures]
  const cases: [string[], RegExp, number?][] = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['train', '--variant', 'v3', '--labels', '100', '--out', out, '--colour', 'red'], /Unknown option '--colour'/],
    [
      ['train', '--variant', 'v4', '--labels', '100', '--out', out],
      /--variant must be one of v1, v1-loo, v2, v3, baseline, m1, m1m2, gumbel, got "v4"/,
    ],
    [['train', '--variant', 'v3', '--labels', 'many', '--out', out], /--labels expects an integer, got "many"/],
    [['train', '--variant', 'v3', '--labels', '100'], /train needs --out DIR/],
    [['train', '--labels', '100', '--out', out], /train needs --variant/],
    [
      ['train', '--variant', 'v3', '--labels', '100', '--labelled-batch-size', '200', '--out', out],
      /--labelled-batch-size \(200\) cannot exceed the number of labelled images \(100\)/,
    ],
    [['train', '--out', out, '--resume'], /holds no run to resume/],
    [['train', '--out', out, '--resume', '--lr', '0.1'], /only --epochs may be given \(got lr\)/],
    [['eval', '--run', out], /run\.json: cannot read the run record/, 1],
  ];
  for (const [args, pattern, status] of cases) {
    const r = cli(args);
    assert.equal(r.status, status ?? 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('ssvae:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, pattern);
  }
  assert.deepEqual(fs.readdirSync(out), []); // nothing half-written
});

test('CLI: a run killed mid-way and resumed matches an uninterrupted run; eval prints the confusion matrix', async () => {
  const base = [...flags({ variant: 'v3', labels: 50, seed: 3 }), ...tinyModelFlags(dataDir)];
  const epochs = 8;
  const whole = tempDir('cli-whole');
  const r = cli(['train', ...base, '--epochs', String(epochs), '--out', whole]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^epoch ${epochs}/${epochs} `, 'm'));
  // Kill a second run once its second epoch is on disk, then resume it.
  const killed = tempDir('cli-killed');
  const child = cp.spawn(
    process.execPath,
    [path.join(root, 'lib', 'dist', 'tools', 'cli.js'), 'train', ...base, '--epochs', String(epochs), '--out', killed],
    { cwd: root, stdio: 'ignore' },
  );
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const timer = setInterval(() => {
      try {
        const rec = JSON.parse(fs.readFileSync(path.join(killed, 'run.json'), 'utf8'));
        if (rec.epochs.length >= 2) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      } catch {
        // not written yet
      }
    }, 5);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal });
    });
    child.on('error', reject);
  });
  // The kill came before the end: the process died of it, and its record stops part-way.
  assert.deepEqual(ended, { code: null, signal: 'SIGKILL' });
  const partial = readRunRecord(killed);
  assert.equal(partial.result.finished, false);
  assert.ok(partial.epochs.length >= 2 && partial.epochs.length < epochs, `the killed run recorded ${partial.epochs.length} epochs`);
  const resumed = cli(['train', '--out', killed, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const a = readRunRecord(whole);
  const b = readRunRecord(killed);
  assert.deepEqual(
    b.epochs.map((e) => [e.losses, e.validationAccuracy, e.testAccuracy]),
    a.epochs.map((e) => [e.losses, e.validationAccuracy, e.testAccuracy]),
  );
  const ev = cli(['eval', '--run', killed, '--weights', 'last']);
  assert.equal(ev.status, 0, ev.stderr);
  assert.match(ev.stdout, new RegExp(`test accuracy ${b.result.testAccuracyLast.toFixed(4)} \\(last weights, epoch ${epochs}\\)`));
  assert.equal(ev.stdout.split('\n').filter((l) => /^\s+\d\s+(\s+\d+){10}$/.test(l)).length, 10);
});

test('CLI: a run records its TensorFlow thread count, and says so when it continues with another', () => {
  const out = path.join(tempDir('cli-threads'), 'run');
  const base = [...flags({ variant: 'v3', labels: 50, seed: 1 }), ...tinyModelFlags(dataDir)];
  const first = cli(['train', ...base, '--epochs', '1', '--threads', '1', '--out', out]);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(readRunRecord(out).environment.threads, 1);
  const same = cli(['train', '--out', out, '--resume', '--epochs', '2', '--threads', '1']);
  assert.equal(same.status, 0, same.stderr);
  assert.doesNotMatch(same.stdout, /note:/);
  const other = cli(['train', '--out', out, '--resume', '--epochs', '3'], { TF_NUM_INTRAOP_THREADS: '' });
  assert.equal(other.status, 0, other.stderr);
  assert.match(
    other.stdout,
    /^note: .* was started with 1 TensorFlow threads and continues with TensorFlow's default threads \(one per core\);/m,
  );
  // The record keeps the environment its run started in.
  assert.equal(readRunRecord(out).environment.threads, 1);
});

test('parseCpuInfo: family, model and the vector extensions TensorFlow uses; nothing for a cpuinfo without a family', () => {
  const zen3 = [
    'processor\t: 0',
    'vendor_id\t: AuthenticAMD',
    'cpu family\t: 25',
    'model\t\t: 1',
    'model name\t: AMD EPYC',
    'flags\t\t: fpu sse4_2 avx fma avx2 sha_ni',
    '',
  ];
  const second = ['processor\t: 1', 'cpu family\t: 6', 'model\t\t: 143', 'flags\t\t: avx512f amx_tile', ''];
  assert.deepEqual(parseCpuInfo([...zen3, ...second].join('\n')), { family: 25, model: 1, simd: ['sse4_2', 'avx', 'avx2', 'fma'] });
  const sapphire = ['cpu family\t: 6', 'model\t\t: 143', 'model name\t: Intel(R) Xeon(R)', 'flags\t\t: avx2 avx512f avx512_bf16 amx_tile'];
  assert.deepEqual(parseCpuInfo(sapphire.join('\n')), { family: 6, model: 143, simd: ['avx2', 'avx512f', 'avx512_bf16', 'amx_tile'] });
  assert.equal(parseCpuInfo('processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\nCPU part\t: 0xd0c\n'), undefined);
});

test('Adam: one step from zero moments moves each weight by lr·sign(g) (none where g = 0); a group without gradient is left alone', () => {
  const a = tf.variable(tf.tensor1d([1, 2, 3]));
  const b = tf.variable(tf.tensor1d([5]));
  const opt = new Adam([[a], [b]], { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  const g = tf.tensor1d([0.5, -2, 0]);
  opt.apply({ [a.name]: g });
  // m̂ = g and v̂ = g² after bias correction, so the first step is lr·g/(|g| + ε): lr·sign(g), and 0 for g = 0.
  const after = a.arraySync() as number[];
  assert.equal(after.length, 3);
  [0.9, 2.1, 3].forEach((want, i) => assert.ok(Math.abs(after[i]! - want) < 1e-6, `weight ${i}: ${after[i]} (expected ${want})`));
  assert.deepEqual(b.arraySync(), [5]);
  const state = opt.getState();
  assert.deepEqual(
    state.groups.map((s) => s.t),
    [1, 0],
  );
  opt.dispose();
  tf.dispose([a, b, g]);
});

test('every epoch of an M2 run records KL(q(z|x,y) ‖ p(z)) per dimension on the validation images; classifiers record none', async () => {
  const { record, model } = await train({ ...small, variant: 'v2', epochs: 2, zDim: 3 }, { dataset, keepModel: true });
  try {
    assert.ok(model);
    const last = record.epochs[1]!.klPerDimension;
    assert.equal(last?.length, 3);
    assert.ok(last!.every((kl) => kl >= 0));
    // The recorded numbers are klPerDimension of the final model; their sum is the mean KL, which
    // gaussianKl gives image by image.
    assert.deepEqual(klPerDimension(model, dataset.validation), last);
    const meanKl = tf.tidy(() => {
      const y = tf.oneHot(tf.tensor1d(dataset.validation.labels, 'int32'), 10).toFloat() as tf.Tensor2D;
      const x = tf.tensor2d(dataset.validation.images, [dataset.validation.count, 16]);
      return tf.mean(gaussianKl(encode(model, x, y))).arraySync() as number;
    });
    const sum = last!.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - meanKl) < 1e-4 * Math.max(1, meanKl), `${sum} vs ${meanKl}`);
    assert.equal(activeUnits(last!, 0), 3);
    assert.equal(activeUnits(last!, Infinity), 0);
  } finally {
    if (model) disposeM2(model);
  }
  const baseline = await train({ ...small, variant: 'baseline', epochs: 1 }, { dataset });
  assert.equal(baseline.record.epochs[0]!.klPerDimension, undefined);
});
