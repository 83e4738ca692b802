#!/usr/bin/env node
/**
 * `npm run bench`: seconds per training epoch of each variant at N = 3000 on this machine (m1 and
 * m1m2 on M1's 50-dimensional code; M1's own training is a one-off cost, in its record).
 *
 * What summing y out costs as the number of classes K grows: exact summation (v3) runs the
 * encoder and decoder K times per unlabelled image, the score function (v1) and the relaxation
 * (gumbel) once. `--classes 100` times those three again with K = 100, on the same images with
 * labels drawn at random (a cost measurement only: nothing is learnt from such labels).
 *
 * Each variant runs its real epoch plan (labelled and unlabelled steps in the schedule's
 * proportion): a few warm-up steps, then a fixed number of timed steps; the mean step time is
 * scaled to the epoch's step count. Achieved GFLOP/s comes from an explicit count of the
 * matrix-multiply FLOPs of each step (forward and backward). The WASM backend runs the same
 * v3 steps in a child process (the backend is chosen once per process), so the ratio is
 * measured in the same run.
 *
 * The importance-weighted bounds (analysis/likelihood.ts) at m = 1, 10, 100, 1000 from one pass of
 * 1000 samples per image: the CS236 VAE on all test images, and M2 (y summed out, K decoder passes
 * per sample) on a slice of them, scaled to the whole set. The weights do not change the cost,
 * so freshly initialised models are timed.
 *
 * `--profile` then breaks one training step of v3 and of gumbel down by kernel (matrix products,
 * Adam's update, the rest), with the number of kernels per step and the cost of one tiny op.
 */
import * as cp from 'node:child_process';
import { parseArgs } from 'node:util';
import { initBackend, tf } from '../core/backend';
import { objectiveOf, resolveConfig, usesM1, type TrainConfig, type Variant } from '../model/config';
import { loadDataset, semiSupervisedSplits, type SemiSupervisedSplits } from '../data/datasets';
import { withRandomLabels } from '../data/subset';
import { timeTrainingSteps } from '../analysis/cost';
import { createM2, disposeM2, networkVariables } from '../model/m2';
import { createVae, CS236_PRESET, disposeVae, resolveVaeConfig } from '../model/vae';
import { binarizeImages, iwaeBounds, type LikelihoodModel } from '../analysis/likelihood';
import { m1Splits, m1VaeConfig } from '../train/m1';
import { accuracy } from '../train/evaluate';
import { makeRng, standardNormal } from '../core/random';
import { epochPlan, type Step } from '../train/schedule';
import { Trainer } from '../train/trainer';

interface Measurement {
  variant: Variant;
  classes: number;
  backend: string;
  stepsTimed: number;
  msPerStep: number;
  stepsPerEpoch: number;
  evalSeconds: number;
  secondsPerEpoch: number;
  gflopPerEpoch: number;
  gflops: number;
}

/** Multiply–add FLOPs (2 per MAC) of the dense layers a step runs, forward + backward (×3). */
function stepFlops(config: TrainConfig, step: Step): number {
  const { xDim: d, numClasses: k, zDim: z, hidden } = config;
  // MACs of layers 2…L of a network with these layer sizes, for `rows` inputs.
  const after = (rows: number, sizes: number[]) => {
    let macs = 0;
    for (let i = 1; i + 1 < sizes.length; i++) macs += rows * sizes[i]! * sizes[i + 1]!;
    return macs;
  };
  const h = hidden[0]!;
  const classifier = (rows: number) => rows * d * h + after(rows, [d, ...hidden, k]);
  // Encoder and decoder with the factored first layer: W_a·a always, W_y·y as a matmul only
  // for a given y (for enumerated y it is a broadcast add of W_y's rows).
  const encoder = (images: number, rows: number, yMatmul: boolean) =>
    images * d * h + (yMatmul ? rows * k * h : 0) + after(rows, [d + k, ...hidden, 2 * z]);
  const outputs = config.likelihood === 'gaussian' ? 2 * d : d;
  const decoder = (rows: number, yMatmul: boolean) =>
    rows * z * h + (yMatmul ? rows * k * h : 0) + after(rows, [z + k, ...hidden, outputs]);
  const objective = objectiveOf(config.variant);
  let macs = 0;
  const labelled = step.labelled?.length ?? 0;
  const unlabelled = step.unlabelled?.length ?? 0;
  if (labelled > 0) {
    macs += classifier(labelled);
    if (objective !== 'baseline') macs += encoder(labelled, labelled, true) + decoder(labelled, true);
  }
  if (unlabelled > 0) {
    macs += classifier(unlabelled);
    // v1 and gumbel run one class per image, with y as a (sampled or relaxed) vector through W_y.
    if (objective === 'v1' || objective === 'gumbel') macs += encoder(unlabelled, unlabelled, true) + decoder(unlabelled, true);
    else macs += encoder(unlabelled, k * unlabelled, false) + decoder(k * unlabelled, false);
  }
  return 3 * 2 * macs;
}

/**
 * The config and splits a variant trains on. For m1 and m1m2 that is M1's code: here from an
 * untrained M1 on all of z₁'s dimensions, as a step's cost depends only on the shapes. With
 * `classes` other than 10, every image gets a label drawn uniformly from `classes` classes.
 */
function benchData(variant: Variant, classes: number): { config: TrainConfig; splits: SemiSupervisedSplits } {
  const config = resolveConfig({ variant, labels: 3000, seed: 0, numClasses: classes });
  const dataset = classes === 10 ? loadDataset() : withRandomLabels(loadDataset(), classes, 0);
  const splits = semiSupervisedSplits(dataset, config.labels, config.seed);
  if (!usesM1(variant)) return { config, splits };
  const m1 = createVae(m1VaeConfig(config, dataset.pixels));
  try {
    const features = m1Splits(m1, splits, -1);
    return { config: resolveConfig({ ...config, xDim: features.dims.length }), splits: features.splits };
  } finally {
    disposeVae(m1);
  }
}

function measure(variant: Variant, warmup: number, steps: number, classes = 10): Measurement {
  const { config, splits } = benchData(variant, classes);
  const timing = timeTrainingSteps(config, splits, { warmup, steps });
  // Evaluation (accuracy on validation and test) with an untrained model of the same shapes.
  const m = createM2(config, config.seed);
  const evalStart = process.hrtime.bigint();
  accuracy(m, splits.validation);
  accuracy(m, splits.test);
  const evalSeconds = Number(process.hrtime.bigint() - evalStart) / 1e9;
  disposeM2(m);
  const plan = epochPlan(config, splits.unlabelled.count, splits.labelled.count, makeRng(config.seed, 'timing'));
  const timedFlops = timing.timed.reduce((n, s) => n + stepFlops(config, s), 0);
  return {
    variant,
    classes,
    backend: tf.getBackend(),
    stepsTimed: steps,
    msPerStep: timing.msPerStep,
    stepsPerEpoch: timing.stepsPerEpoch,
    evalSeconds,
    secondsPerEpoch: timing.secondsPerEpoch + evalSeconds,
    gflopPerEpoch: plan.reduce((n, s) => n + stepFlops(config, s), 0) / 1e9,
    gflops: timedFlops / 1e9 / ((timing.msPerStep * steps) / 1000),
  };
}

/** Wall time of one tiny op ([10] + [10]): what the backend spends on an op whatever its size. */
function dispatchMicroseconds(reps = 2000): number {
  const a = tf.ones([10]);
  for (let i = 0; i < 100; i++) tf.add(a, a).dispose();
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) tf.add(a, a).dispose();
  const us = Number(process.hrtime.bigint() - start) / 1e3 / reps;
  a.dispose();
  return us;
}

/**
 * Where the time of one training step (an unlabelled batch and, under the default schedule, a
 * labelled one) of `variant` goes: kernel time by op (tf.profile), grouped into matrix
 * multiplies, Adam's update of the flat parameter buffers, elementwise work on pixel-sized
 * arrays (K·B or B rows of D: reconstructions and their gradients), and the rest; the number of
 * kernels per step beside the cost of dispatching one; and the wall time not spent in kernels
 * (JavaScript: autodiff bookkeeping).
 */
async function profileStep(variant: Variant, rounds: number): Promise<void> {
  const config = resolveConfig({ variant, labels: 3000, seed: 0 });
  const splits = semiSupervisedSplits(loadDataset(), config.labels, config.seed);
  const trainer = new Trainer(config, splits);
  const rng = makeRng(0, 'profile');
  const step = epochPlan(config, splits.unlabelled.count, splits.labelled.count, rng).find((s) => s.unlabelled) as Step;
  for (let i = 0; i < 3; i++) trainer.step(step, rng);
  // Adam works on one flat buffer per network: 1-D tensors of a network's parameter count.
  const m2 = createM2(config, 0);
  const bufferSizes = new Set(networkVariables(m2).map((vars) => vars.reduce((n, v) => n + v.size, 0)));
  disposeM2(m2);
  const byOp = new Map<string, number>();
  let kernelMs = 0;
  let kernels = 0;
  let wallMs = 0;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    const info = await tf.profile(() => {
      trainer.step(step, rng);
    });
    wallMs += Number(process.hrtime.bigint() - start) / 1e6;
    for (const k of info.kernels) {
      const ms = Number(await k.kernelTimeMs);
      const shapes = k.inputShapes.filter((s): s is number[] => s !== undefined);
      const adam = shapes.some((s) => s.length === 1 && bufferSizes.has(s[0] ?? 0));
      // Reconstructions and their gradients: [rows, D] or [K, B, D].
      const pixels = shapes.some((s) => s.length >= 2 && s[s.length - 1] === config.xDim);
      const key =
        k.name === 'BatchMatMul'
          ? 'BatchMatMul (all matmuls)'
          : adam
            ? "Adam's update (flat parameter buffers)"
            : pixels
              ? 'elementwise on [rows, D] (pixels)'
              : 'other kernels';
      byOp.set(key, (byOp.get(key) ?? 0) + ms);
      kernelMs += ms;
      kernels += 1;
    }
  }
  trainer.dispose();
  // The ceiling: the decoder's output matmul alone, [rows, H] × [H, D], in a loop.
  const rows = objectiveOf(variant) === 'v2' || objectiveOf(variant) === 'v3' ? config.numClasses * config.batchSize : config.batchSize;
  const h = tf.tensor2d(standardNormal(rows * 500, 1), [rows, 500]);
  const w = tf.tensor2d(standardNormal(500 * config.xDim, 2), [500, config.xDim]);
  const reps = 20;
  for (let i = 0; i < 3; i++) tf.tidy(() => tf.sum(tf.matMul(h, w)).dataSync());
  const mmStart = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) tf.tidy(() => tf.sum(tf.matMul(h, w)).dataSync());
  const mmMs = Number(process.hrtime.bigint() - mmStart) / 1e6 / reps;
  const mmGflops = (2 * rows * 500 * config.xDim) / 1e9 / (mmMs / 1000);
  tf.dispose([h, w]);
  const stepGflop = stepFlops(config, step) / 1e9;
  const perStep = (ms: number) => (ms / rounds).toFixed(1).padStart(6);
  console.log(`profile of one ${variant} training step (${rounds} rounds, tf.profile adds some overhead):`);
  console.log(
    `  wall ${perStep(wallMs)} ms, in kernels ${perStep(kernelMs)} ms, outside kernels (JS, dispatch) ${perStep(wallMs - kernelMs)} ms`,
  );
  [...byOp.entries()].sort((a, b) => b[1] - a[1]).forEach(([name, ms]) => console.log(`  ${perStep(ms)} ms  ${name}`));
  console.log(
    `  ${(kernels / rounds).toFixed(0)} kernels per step; one tiny op ([10] + [10]) takes ${dispatchMicroseconds().toFixed(0)} µs of wall time in this run`,
  );
  console.log(`  matmul ceiling in this run: [${rows}, 500] × [500, ${config.xDim}] alone runs at ${mmGflops.toFixed(0)} GFLOP/s;`);
  console.log(`  this step's ${stepGflop.toFixed(2)} GFLOP of matmuls need ${((stepGflop / mmGflops) * 1000).toFixed(1)} ms at that rate`);
}

/** Seconds and achieved GFLOP/s of the IWAE bounds with m up to `samples` on the first `images` test images. */
function timeIwae(model: LikelihoodModel, testImages: Float32Array, images: number, samples: number): { seconds: number; gflops: number } {
  const xDim = model.kind === 'vae' ? model.vae.config.xDim : model.m2.config.xDim;
  const binary = binarizeImages(testImages.subarray(0, images * xDim), 0);
  const counts = [1, 10, 100, 1000].filter((m) => m <= samples && samples % m === 0);
  const { seconds } = iwaeBounds(model, binary, { sampleCounts: [...new Set([...counts, samples])], seed: 0 });
  // The decoder's matmul MACs per sample (all K classes for M2, whose y enters as a broadcast add);
  // the encoder runs once per image.
  const macs = (sizes: number[]) => sizes.slice(1).reduce((sum, n, i) => sum + (sizes[i] as number) * n, 0);
  const decoderMacs =
    model.kind === 'vae'
      ? macs([model.vae.config.zDim, ...model.vae.config.hidden, xDim])
      : model.m2.config.numClasses * macs([model.m2.config.zDim, ...model.m2.config.hidden, xDim]);
  return { seconds, gflops: (2 * decoderMacs * images * samples) / seconds / 1e9 };
}

function benchIwae(testImages: Float32Array, testCount: number, vaeImages: number, m2Images: number, samples: number): void {
  const vae = createVae(resolveVaeConfig({ ...CS236_PRESET, seed: 0 }));
  const m2 = createM2(resolveConfig({ variant: 'v3', labels: 100 }), 0);
  try {
    const a = timeIwae({ kind: 'vae', vae }, testImages, vaeImages, samples);
    console.log(
      `IWAE, CS236 VAE (2×300 ELU, z = 10): m = 1…${samples} on ${vaeImages} test images in ${a.seconds.toFixed(1)} s (${a.gflops.toFixed(0)} GFLOP/s in the decoder's matmuls)${vaeImages < testCount ? `, about ${((a.seconds * testCount) / vaeImages).toFixed(0)} s for all ${testCount}` : ''}`,
    );
    const b = timeIwae({ kind: 'm2', m2 }, testImages, m2Images, samples);
    console.log(
      `IWAE, M2 (y summed out, 10 decoder passes per sample): m = 1…${samples} on ${m2Images} test images in ${b.seconds.toFixed(1)} s (${b.gflops.toFixed(0)} GFLOP/s), about ${((b.seconds * testCount) / m2Images / 60).toFixed(0)} min for all ${testCount}; ${(b.seconds / m2Images / (a.seconds / vaeImages)).toFixed(1)}× the VAE per image, same run`,
    );
  } finally {
    disposeVae(vae);
    disposeM2(m2);
  }
}

function wasmMeasurement(steps: number): Measurement | string {
  const r = cp.spawnSync(process.execPath, [__filename, '--worker', '--variants', 'v3', '--warmup', '1', '--steps', String(steps)], {
    encoding: 'utf8',
    env: { ...process.env, SSVAE_BACKEND: 'wasm' },
    timeout: 30 * 60 * 1000,
  });
  if (r.status !== 0) return `WASM run failed: ${(r.stderr || '').trim().split('\n').pop()}`;
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return (JSON.parse(line) as Measurement[])[0] as Measurement;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      variants: { type: 'string', default: 'v1,v1-loo,v2,v3,baseline,m1,m1m2,gumbel' },
      warmup: { type: 'string', default: '5' },
      steps: { type: 'string', default: '40' },
      'wasm-steps': { type: 'string', default: '4' },
      'no-wasm': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '3' },
      worker: { type: 'boolean', default: false },
      classes: { type: 'string', default: '100' },
      'classes-steps': { type: 'string', default: '6' },
      'iwae-images': { type: 'string', default: '10000' },
      'iwae-m2-images': { type: 'string', default: '500' },
      'iwae-samples': { type: 'string', default: '1000' },
      'no-iwae': { type: 'boolean', default: false },
      'only-iwae': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const backend = await initBackend();
  if (!values['no-iwae'] && !values.worker) {
    const { test } = loadDataset();
    const count = (flag: string) => Math.min(test.count, Number(values[flag as keyof typeof values]));
    benchIwae(test.images, test.count, count('iwae-images'), count('iwae-m2-images'), Number(values['iwae-samples']));
    if (values['only-iwae']) return;
  }
  const variants = (values.variants as string).split(',') as Variant[];
  // Each variant is timed in several rounds; the machine is shared, so we report the fastest
  // round (least disturbed) next to the median.
  const rounds = Number(values.rounds);
  const timeVariant = (v: Variant, steps: number, classes: number) => {
    const all = Array.from({ length: rounds }, () => measure(v, Number(values.warmup), steps, classes)).sort(
      (a, b) => a.msPerStep - b.msPerStep,
    );
    const best = all[0] as Measurement;
    return { ...best, medianMsPerStep: (all[Math.floor((all.length - 1) / 2)] as Measurement).msPerStep };
  };
  const results = variants.map((v) => timeVariant(v, Number(values.steps), 10));
  // The three ways of handling y, again with many classes (fewer timed steps: exact steps are K/10 times longer).
  const manyClasses = values.worker ? [] : (values.classes as string).split(',').filter(Boolean).map(Number);
  for (const k of manyClasses) {
    if (!(Number.isInteger(k) && k >= 2 && k <= 255 && 3000 % k === 0))
      throw new Error(`--classes expects class counts from 2 to 255 that divide N = 3000, got ${k}`);
    for (const v of ['v1', 'v3', 'gumbel'] as Variant[]) results.push(timeVariant(v, Number(values['classes-steps']), k));
  }
  if (values.worker) {
    console.log(JSON.stringify(results));
    return;
  }
  console.log(`backend ${backend.name}; N = 3000, batch 200; ${values.steps} timed steps per variant after ${values.warmup} warm-up steps`);
  console.log(`fastest of ${rounds} rounds (median in parentheses)`);
  console.log('variant     K  ms/step (median)  steps/epoch  eval s  s/epoch  GFLOP/epoch  GFLOP/s');
  for (const r of results) {
    console.log(
      `${r.variant.padEnd(9)} ${String(r.classes).padStart(3)} ${r.msPerStep.toFixed(1).padStart(7)} (${r.medianMsPerStep.toFixed(1).padStart(6)})  ${String(r.stepsPerEpoch).padStart(11)}  ${r.evalSeconds.toFixed(2).padStart(6)}  ${r.secondsPerEpoch.toFixed(1).padStart(7)}  ${r.gflopPerEpoch.toFixed(0).padStart(11)}  ${r.gflops.toFixed(0).padStart(7)}`,
    );
  }
  const find = (v: Variant, classes = 10) => results.find((r) => r.variant === v && r.classes === classes);
  const perEpoch = (v: Variant, classes = 10) => find(v, classes)?.secondsPerEpoch;
  for (const k of [10, ...manyClasses]) {
    const [exact, relaxed, score] = [perEpoch('v3', k), perEpoch('gumbel', k), perEpoch('v1', k)];
    if (exact === undefined || relaxed === undefined || score === undefined) continue;
    // The ceiling of that ratio: the labelled batch, the classifier and the encoder's x part cost
    // the same in both, so v3 needs only this many times the relaxation's matrix-multiply FLOPs.
    const flopRatio = (find('v3', k)?.gflopPerEpoch ?? NaN) / (find('gumbel', k)?.gflopPerEpoch ?? NaN);
    console.log(
      `K = ${k}${k === 10 ? '' : ' (random labels)'}: summing y out (v3) costs ${(exact / relaxed).toFixed(1)}× the Gumbel relaxation and ${(exact / score).toFixed(1)}× the score function per epoch, same run (${flopRatio.toFixed(1)}× the relaxation's matmul FLOPs)`,
    );
  }
  const [m2Epoch, stackedEpoch] = [perEpoch('v3'), perEpoch('m1m2')];
  if (m2Epoch !== undefined && stackedEpoch !== undefined)
    console.log(
      `one M1+M2 epoch (on z₁, ${results.find((r) => r.variant === 'm1m2')?.gflopPerEpoch.toFixed(0)} GFLOP) costs ${(stackedEpoch / m2Epoch).toFixed(2)}× one M2 (v3) epoch, same run`,
    );
  if (values.profile) for (const v of ['v3', 'gumbel'] as Variant[]) await profileStep(v, 5);
  if (!values['no-wasm']) {
    const wasm = wasmMeasurement(Number(values['wasm-steps']));
    const v3 = results.find((r) => r.variant === 'v3');
    if (typeof wasm === 'string') console.log(wasm);
    else {
      console.log(
        `wasm v3: ${wasm.msPerStep.toFixed(0)} ms/step, ${wasm.secondsPerEpoch.toFixed(0)} s/epoch (${wasm.stepsTimed} timed steps)`,
      );
      if (v3) console.log(`native / wasm speed-up on the v3 step, same run: ${(wasm.msPerStep / v3.msPerStep).toFixed(1)}×`);
    }
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`bench: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}
