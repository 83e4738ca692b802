/**
 * Training M2 (variants 1–3, and gumbel with y relaxed), the labelled-only baseline, and the
 * variants on M1's features (m1, m1m2: see m1.ts): the loss of each step by variant, one
 * optimisation step per batch of the epoch's schedule (schedule.ts), evaluation after every
 * epoch, checkpoints and the run record.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend, tf } from '../core/backend';
import {
  controlVariateOf,
  effectiveAlpha,
  objectiveOf,
  resolveConfig,
  resolveGumbelConfig,
  resolveM1Config,
  temperatureAt,
  usesM1,
  restartStream,
  type GumbelConfig,
  type TrainConfig,
  type TrainSettings,
} from '../model/config';
import { m1Splits, trainM1, type M1Options } from './m1';
import { loadNamedDataset, semiSupervisedSplits, type Dataset, type SemiSupervisedSplits } from '../data/datasets';
import { loadM2Into, saveM2 } from './checkpoint';
import { accuracy, klPerDimension } from './evaluate';
import { classifierVariables, createM2, disposeM2, networkVariables, type M2 } from '../model/m2';
import {
  aggregateClassKl,
  classificationLoss,
  labelledBound,
  logQy,
  sampleClasses,
  unlabelledBoundEnumerated,
  unlabelledBoundSampled,
  type LabelledTerms,
  type UnlabelledTerms,
} from '../model/objectives';
import { unlabelledBoundRelaxed } from '../model/relaxed';
import { Adam } from '../model/optimizer';
import { WeightAverage } from '../model/average';
import { drawSeed, gumbel, makeRng, standardNormal, type Rng } from '../core/random';
import { describeEnvironment, readRunRecord, summarise, writeRunRecord, type EpochRecord, type M1Record, type RunRecord } from './records';
import { epochPlan, labelledShare, type Step } from './schedule';
import { gradientStep, TrainingDiverged } from './step';

/** The training tensors, kept for the whole run (gathered into batches by index). */
interface TrainingData {
  unlabelledX: tf.Tensor2D;
  labelledX: tf.Tensor2D;
  labelledY: tf.Tensor2D;
  /** For Gaussian features (M1's z₁): the standard deviation of each value of unlabelledX and labelledX. */
  unlabelledScale?: tf.Tensor2D;
  labelledScale?: tf.Tensor2D;
}

function trainingData(splits: SemiSupervisedSplits, width: number, numClasses: number): TrainingData {
  const { unlabelled, labelled } = splits;
  return tf.tidy(() => ({
    unlabelledX: tf.tensor2d(unlabelled.images, [unlabelled.count, width]),
    labelledX: tf.tensor2d(labelled.images, [labelled.count, width]),
    labelledY: tf.oneHot(tf.tensor1d(labelled.labels, 'int32'), numClasses).toFloat() as tf.Tensor2D,
    ...(unlabelled.scales ? { unlabelledScale: tf.tensor2d(unlabelled.scales, [unlabelled.count, width]) } : {}),
    ...(labelled.scales ? { labelledScale: tf.tensor2d(labelled.scales, [labelled.count, width]) } : {}),
  }));
}

/**
 * Rows `idx` of x; for Gaussian features (a scale given), a fresh sample μ + σ ⊙ ε of those rows,
 * ε drawn from the step's random stream.
 */
function gatherRows(x: tf.Tensor2D, scale: tf.Tensor2D | undefined, idx: Int32Array, rng: Rng): tf.Tensor2D {
  return tf.tidy(() => {
    const i = tf.tensor1d(idx, 'int32');
    const rows = tf.gather(x, i);
    if (scale === undefined) return rows;
    const [n = 0, width = 0] = rows.shape;
    return tf.add(rows, tf.mul(tf.gather(scale, i), noise(n, width, rng))) as tf.Tensor2D;
  });
}

/** The tensors of one step. */
interface Batch {
  /** share: the factor on the labelled terms (labelledShare: 1 but under the spread schedule). */
  labelled?: { x: tf.Tensor2D; y: tf.Tensor2D; share: number };
  unlabelled?: { x: tf.Tensor2D; yHat?: tf.Tensor1D };
}

/**
 * Names a batch's bound terms in `terms` as `<batch>.loss` (−bound), `<batch>.reconstruction`
 * (−log p(x|y,z)) and `<batch>.kl`, batch means; returns the loss.
 */
function boundTerms(terms: Record<string, tf.Scalar>, batch: 'labelled' | 'unlabelled', b: LabelledTerms): tf.Scalar {
  const loss = tf.neg(tf.mean(b.bound)) as tf.Scalar;
  terms[`${batch}.loss`] = loss;
  terms[`${batch}.reconstruction`] = tf.neg(tf.mean(b.reconstruction)) as tf.Scalar;
  terms[`${batch}.kl`] = tf.mean(b.kl) as tf.Scalar;
  return loss;
}

/** ε ~ N(0, I) of shape [rows, zDim], determined by the step's random stream. */
function noise(rows: number, zDim: number, rng: Rng): tf.Tensor2D {
  return tf.tensor2d(standardNormal(rows * zDim, drawSeed(rng)), [rows, zDim]);
}

/** The seed of a run's initial weights: its seed for restart 0, a seed drawn for its restart otherwise. */
export function initSeedOf(config: Pick<TrainConfig, 'seed' | 'restart'>): number {
  return config.restart === 0 ? config.seed : drawSeed(makeRng(config.seed, restartStream(config, 'initial-weights')));
}

/** Model, optimizers and data of a run in progress; `step` performs one update. */
export class Trainer {
  readonly model: M2;
  readonly optimizer: Adam;
  /** The moving average of the trained weights (config.averageDecay > 0), updated after every step. */
  readonly average?: WeightAverage;
  /** α′, from config.alpha or config.alphaRule. */
  readonly alpha: number;
  /** The Gumbel-softmax temperature τ of the next step (variant gumbel; trainEpoch sets it by step). */
  temperature: number;
  /** The relaxation's settings (config.gumbel; the defaults for the other variants, which never use them). */
  private readonly gumbel: GumbelConfig;
  private readonly data: TrainingData;
  private readonly variables: tf.Variable[];

  constructor(
    readonly config: TrainConfig,
    readonly splits: SemiSupervisedSplits,
  ) {
    this.model = createM2(config, initSeedOf(config));
    // One optimizer group per network: a network gets a gradient in a step as a whole or not at all.
    const groups = objectiveOf(config.variant) === 'baseline' ? [classifierVariables(this.model)] : networkVariables(this.model);
    this.variables = groups.flat();
    this.optimizer = new Adam(groups, { lr: config.lr, beta1: config.beta1, beta2: config.beta2 });
    if (config.averageDecay > 0) this.average = new WeightAverage(this.variables, config.averageDecay);
    this.data = trainingData(splits, config.xDim, config.numClasses);
    this.alpha = effectiveAlpha(config, splits.unlabelled.count + splits.labelled.count);
    this.gumbel = config.gumbel ?? resolveGumbelConfig({});
    this.temperature = this.gumbel.temperature;
  }

  /**
   * The loss of one step and its named terms (batch means, as scalars). Which terms enter
   * the loss depends on the variant:
   *   labelled batch:   w·(−L(x,y))  [+ α′·(−log q(y|x)) for v3 and gumbel]  baseline: −log q(y|x)
   *                     (w = config.labelledBoundWeight, 1 by default)
   *   unlabelled batch: −U(x) summed out (v2, v3), the score-function surrogate (v1; v1-loo with
   *                     the leave-one-out control variate), or −Ũ(x)
   *                     with y relaxed at temperature τ (gumbel)
   *                     [+ λ·KL(q̄(y) ‖ p(y)), λ = config.classBalance, when λ > 0]
   * Under the spread schedule the labelled terms are scaled by the batch's share (labelledShare).
   */
  private lossTerms(batch: Batch, rng: Rng): { loss: tf.Scalar; terms: Record<string, tf.Scalar> } {
    const { numClasses: k, zDim } = this.config;
    const variant = objectiveOf(this.config.variant);
    const alpha = this.alpha;
    const m = this.model;
    const terms: Record<string, tf.Scalar> = {};
    const parts: tf.Scalar[] = [];
    if (batch.labelled) {
      const { x, y, share } = batch.labelled;
      const classification = tf.mean(classificationLoss(m, x, y)) as tf.Scalar;
      terms['labelled.classification'] = classification;
      // Under the spread schedule the labelled means become sums over the unlabelled batch size.
      const shared = (t: tf.Scalar) => (share === 1 ? t : (tf.mul(share, t) as tf.Scalar));
      if (variant === 'baseline') {
        parts.push(classification);
      } else {
        const eps = noise(x.shape[0], zDim, rng);
        const bound = boundTerms(terms, 'labelled', labelledBound(m, x, y, eps));
        // The bound is always reported; it enters the loss with config.labelledBoundWeight (1 as it is).
        const w = this.config.labelledBoundWeight;
        if (w === 1) parts.push(shared(bound));
        else if (w > 0) parts.push(shared(tf.mul(w, bound) as tf.Scalar));
        if (variant === 'v3' || variant === 'gumbel') parts.push(shared(tf.mul(alpha, classification) as tf.Scalar));
      }
    }
    if (batch.unlabelled) {
      const { x, yHat } = batch.unlabelled;
      const rows = x.shape[0];
      // v1: one sampled class per image, trained through the score-function surrogate;
      // v2, v3: all K classes, trained through U itself; gumbel: one relaxed class per image.
      const sampled = yHat ? unlabelledBoundSampled(m, x, yHat, noise(rows, zDim, rng), controlVariateOf(this.config.variant)) : undefined;
      const u: UnlabelledTerms =
        sampled ?? (variant === 'gumbel' ? this.relaxed(x, rng) : unlabelledBoundEnumerated(m, x, noise(k * rows, zDim, rng)));
      const loss = boundTerms(terms, 'unlabelled', u);
      terms['unlabelled.entropy'] = tf.mean(u.entropy) as tf.Scalar;
      parts.push(sampled ? (tf.neg(tf.mean(sampled.surrogate)) as tf.Scalar) : loss);
      const lambda = this.config.classBalance;
      if (lambda > 0) {
        const balance = aggregateClassKl(logQy(m, x));
        terms['unlabelled.balance'] = balance;
        parts.push(tf.mul(lambda, balance) as tf.Scalar);
      }
    }
    const loss = parts.length === 1 ? (parts[0] as tf.Scalar) : (tf.addN(parts) as tf.Scalar);
    return { loss, terms };
  }

  /** Ũ(x) with one relaxed sample per image at the current temperature: Gumbel noise [B, K], then ε [B, Z]. */
  private relaxed(x: tf.Tensor2D, rng: Rng): UnlabelledTerms {
    const { numClasses: k, zDim } = this.config;
    const rows = x.shape[0];
    const g = tf.tensor2d(gumbel(rows * k, drawSeed(rng)), [rows, k]);
    const options = { temperature: this.temperature, straightThrough: this.gumbel.straightThrough };
    return unlabelledBoundRelaxed(this.model, x, g, noise(rows, zDim, rng), options);
  }

  /** The step's images (and labels) gathered, and for v1 the classes ŷ sampled outside the gradient tape. */
  private gatherBatch(step: Step, rng: Rng): Batch {
    const batch: Batch = {};
    const { labelledX, labelledScale, labelledY, unlabelledX, unlabelledScale } = this.data;
    if (step.labelled) {
      const idx = step.labelled;
      const x = gatherRows(labelledX, labelledScale, idx, rng);
      const y = tf.tidy(() => tf.gather(labelledY, tf.tensor1d(idx, 'int32')));
      batch.labelled = { x, y, share: labelledShare(this.config, step) };
    }
    if (step.unlabelled) {
      const x = gatherRows(unlabelledX, unlabelledScale, step.unlabelled, rng);
      batch.unlabelled = {
        x,
        yHat: objectiveOf(this.config.variant) === 'v1' ? tf.tidy(() => sampleClasses(this.model, x, drawSeed(rng))) : undefined,
      };
    }
    return batch;
  }

  /**
   * One update (and the weight average's, if any). Returns the step's loss terms as numbers;
   * throws TrainingDiverged (and leaves the weights untouched) if the loss is not finite.
   */
  step(step: Step, rng: Rng): Record<string, number> {
    let names: string[] = [];
    const batch = this.gatherBatch(step, rng);
    try {
      const { loss, terms } = gradientStep(this.optimizer, this.variables, () => {
        const { loss, terms } = this.lossTerms(batch, rng);
        names = Object.keys(terms);
        return { loss, terms: tf.stack(Object.values(terms)) as tf.Tensor1D };
      });
      this.average?.update();
      return Object.fromEntries([['loss', loss], ...names.map((n, i) => [n, terms[i] ?? NaN])]);
    } finally {
      for (const t of [batch.labelled?.x, batch.labelled?.y, batch.unlabelled?.x, batch.unlabelled?.yHat]) t?.dispose();
    }
  }

  /** Runs one epoch (1-based number) and returns the averaged loss terms. */
  trainEpoch(epoch: number, onStep?: (done: number, total: number) => void): Record<string, number> {
    const rng = makeRng(this.config.seed, restartStream(this.config, `epoch-${epoch}`));
    const plan = epochPlan(this.config, this.splits.unlabelled.count, this.splits.labelled.count, rng);
    // Per term: the sum over the steps that report it, and how many do (labelled and unlabelled
    // terms come from different steps under the alternating schedule).
    const totals = new Map<string, { sum: number; count: number }>();
    plan.forEach((s, i) => {
      this.temperature = temperatureAt(this.gumbel, (epoch - 1) * plan.length + i);
      let terms: Record<string, number>;
      try {
        terms = this.step(s, rng);
      } catch (err) {
        if (err instanceof TrainingDiverged)
          throw new TrainingDiverged(`${err.message} at epoch ${epoch}, step ${i + 1} of ${plan.length}`);
        throw err;
      }
      for (const [name, v] of Object.entries(terms)) {
        const total = totals.get(name) ?? { sum: 0, count: 0 };
        total.sum += v;
        total.count += 1;
        totals.set(name, total);
      }
      onStep?.(i + 1, plan.length);
    });
    totals.delete('loss'); // mixes labelled and unlabelled steps; the named terms say more
    return Object.fromEntries(
      [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, { sum, count }]) => [name, sum / count]),
    );
  }

  /** Frees data and optimizer state; the networks too unless `keepModel`. */
  dispose(keepModel = false): void {
    tf.dispose(Object.values(this.data));
    this.optimizer.dispose();
    this.average?.dispose();
    if (!keepModel) disposeM2(this.model);
  }
}

export interface TrainOptions {
  /** Run directory: run.json and checkpoint/ are written there after every epoch. */
  outDir?: string;
  /** Continue the run in outDir from its last checkpoint. */
  resume?: boolean;
  /** A dataset already loaded (otherwise loaded from config.dataset). */
  dataset?: Dataset;
  /** Called after every step and every epoch, e.g. for a progress bar. */
  onStep?: (epoch: number, done: number, total: number) => void;
  onEpoch?: (record: EpochRecord, run: RunRecord) => void;
  /**
   * Keep the model after training (the caller disposes it); default: dispose it. With
   * config.averageDecay > 0 it holds the averaged weights.
   */
  keepModel?: boolean;
  /** For m1 and m1m2: where M1 is cached (default data/cache/) and where the cache says what it did. */
  m1?: Pick<M1Options, 'cacheRoot' | 'log'>;
}

export interface TrainResult {
  record: RunRecord;
  model?: M2;
}

/** Trains a run to config.epochs, resuming from outDir if asked; writes the record after every epoch. */
export async function train(configOverrides: TrainSettings, options: TrainOptions = {}): Promise<TrainResult> {
  const backend = await initBackend();
  let config = resolveConfig(configOverrides);
  let previous: RunRecord | undefined;
  const checkpointDir = options.outDir ? path.join(options.outDir, 'checkpoint') : undefined;
  if (options.resume) {
    if (!options.outDir) throw new Error('resume needs a run directory');
    previous = readRunRecord(options.outDir);
    // The run's own configuration wins; only the number of epochs may be extended.
    config = resolveConfig({ ...previous.config, epochs: configOverrides.epochs ?? previous.config.epochs });
  }
  const dataset = options.dataset ?? loadNamedDataset(config.dataset);
  if (dataset.pixels !== config.xDim || dataset.numClasses !== config.numClasses) {
    config = resolveConfig({ ...config, xDim: dataset.pixels, numClasses: dataset.numClasses });
  }
  let splits = semiSupervisedSplits(dataset, config.labels, config.seed);
  let m1: M1Record | undefined;
  if (usesM1(config.variant)) {
    // m1 and m1m2 see each image as M1's code z₁ (train/m1.ts), on the dimensions M1 uses.
    ({ splits, config, m1 } = await m1Features(config, dataset, splits, options.m1));
  }
  const trainer = new Trainer(config, splits);
  const epochs: EpochRecord[] = previous ? previous.epochs.slice() : [];
  const environment = previous?.environment ?? describeEnvironment(backend.name);
  let wallSeconds = previous?.wallSeconds ?? 0;
  if (previous && checkpointDir) {
    const state = loadM2Into(checkpointDir, trainer.model, trainer.optimizer, trainer.average) as { epoch?: number };
    const done = state.epoch ?? 0;
    epochs.splice(done); // epochs recorded after the checkpoint are redone
  }
  const derived = { alpha: trainer.alpha, trainSize: splits.unlabelled.count + splits.labelled.count, ...(m1 ? { m1 } : {}) };
  const record = (): RunRecord => ({
    format: 'ssvae-run/1',
    config,
    derived,
    epochs,
    result: summarise(epochs, config.epochs),
    environment,
    wallSeconds,
  });
  try {
    for (let epoch = epochs.length + 1; epoch <= config.epochs; epoch++) {
      const started = process.hrtime.bigint();
      let losses: Record<string, number>;
      try {
        losses = trainer.trainEpoch(epoch, (done, total) => options.onStep?.(epoch, done, total));
      } catch (err) {
        if (err instanceof TrainingDiverged && options.outDir) {
          writeRunRecord(options.outDir, { ...record(), result: { ...summarise(epochs, config.epochs), error: err.message } });
        }
        throw err;
      }
      const accuracies = (): { validationAccuracy: number; testAccuracy: number } => ({
        validationAccuracy: accuracy(trainer.model, splits.validation),
        testAccuracy: accuracy(trainer.model, splits.test),
      });
      // With averaging, the model is evaluated (and its best weights saved) with the averaged
      // weights swapped in; the trained weights come back before the checkpoint.
      const unaveraged = trainer.average ? accuracies() : undefined;
      const restore = trainer.average?.swapIn();
      let entry: EpochRecord;
      try {
        const { validationAccuracy, testAccuracy } = accuracies();
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        wallSeconds += seconds;
        const klPerDim = objectiveOf(config.variant) === 'baseline' ? undefined : klPerDimension(trainer.model, splits.validation);
        entry = {
          epoch,
          seconds,
          losses,
          validationAccuracy,
          testAccuracy,
          ...(klPerDim ? { klPerDimension: klPerDim } : {}),
          ...(unaveraged ? { unaveraged } : {}),
        };
        epochs.push(entry);
        if (options.outDir && summarise(epochs, config.epochs).bestEpoch === epoch)
          await saveM2(path.join(options.outDir, 'best'), trainer.model, undefined, { epoch });
      } finally {
        restore?.();
      }
      if (options.outDir && checkpointDir) {
        await saveM2(checkpointDir, trainer.model, trainer.optimizer, { epoch }, trainer.average);
        writeRunRecord(options.outDir, record());
      }
      options.onEpoch?.(entry, record());
    }
  } finally {
    // A kept model is the one the run evaluated: with averaging, the averaged weights.
    if (options.keepModel) trainer.average?.apply();
    trainer.dispose(options.keepModel);
  }
  return options.keepModel ? { record: record(), model: trainer.model } : { record: record() };
}

/**
 * The run's splits in M1's code z₁ and the config with xDim set to the number of kept dimensions,
 * with what the record says about M1.
 */
async function m1Features(
  config: TrainConfig,
  dataset: Dataset,
  splits: SemiSupervisedSplits,
  options: TrainOptions['m1'] = {},
): Promise<{ config: TrainConfig; splits: SemiSupervisedSplits; m1: M1Record }> {
  const run = await trainM1(config, dataset, options);
  const threshold = (config.m1 ?? resolveM1Config({})).activeThreshold;
  const features = m1Splits(run.vae, splits, threshold);
  const last = run.record.epochs.at(-1);
  const m1: M1Record = {
    cacheEntry: run.dir === undefined ? '' : path.basename(run.dir),
    dims: features.dims,
    epochs: run.record.epochs.length,
    wallSeconds: run.record.wallSeconds,
    validationNegativeElbo: last?.validation.negativeElbo ?? NaN,
    environment: run.record.environment,
  };
  return { config: resolveConfig({ ...config, xDim: features.dims.length }), splits: features.splits, m1 };
}

/** True if `dir` holds a run that can be resumed. */
export function isResumable(dir: string): boolean {
  return (
    fs.existsSync(path.join(dir, 'run.json')) &&
    (fs.existsSync(path.join(dir, 'checkpoint')) || fs.existsSync(path.join(dir, 'checkpoint.old')))
  );
}
