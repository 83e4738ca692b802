/**
 * M1, the feature extractor of the variants m1 and m1m2 (Kingma et al. 2014, section 3.1): a VAE
 * trained on every training image without its label, cached like any VAE (train/vae.ts); the
 * dimensions of its code z₁ that carry information about the image; and a run's splits
 * re-expressed in z₁.
 *
 * Each image x becomes the Gaussian q(z₁|x) = N(μ(x), diag σ²(x)) on the kept dimensions: a split's
 * `images` hold μ(x) and its `scales` σ(x). The trainer draws z₁ = μ + σ ⊙ ε afresh for every
 * training batch, as Kingma et al.'s code does; validation and test images are represented by μ(x).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset, SemiSupervisedSplits, Split } from '../data/datasets';
import { resolveM1Config, type TrainConfig } from '../model/config';
import { disposeVae, resolveVaeConfig, vaeEncodeGaussian, vaeEncodeMean, type Vae, type VaeConfig } from '../model/vae';
import { codeVersion, defaultCacheRoot } from './cache-entries';
import { takeLockWaiting } from './run-dir';
import type { RunRecord } from './records';
import { loadVae, savedVaeRecord, trainVae, vaeCheckpointDirFor, type VaeEpochRecord, type VaeRun, type VaeRunRecord } from './vae';

/** The VAE settings of a run's M1: config.m1, with the run's seed and dataset. */
export function m1VaeConfig(config: TrainConfig, xDim: number): VaeConfig {
  const m1 = config.m1 ?? resolveM1Config({});
  return resolveVaeConfig({
    hidden: m1.hidden,
    zDim: m1.zDim,
    epochs: m1.epochs,
    batchSize: m1.batchSize,
    lr: m1.lr,
    binarize: m1.binarize,
    klWarmup: m1.klWarmup,
    seed: config.seed,
    dataset: config.dataset,
    xDim,
  });
}

export interface M1Options {
  cacheRoot?: string;
  /** Where the cache says what it did (default console.log). */
  log?: (line: string) => void;
  onEpoch?: (entry: VaeEpochRecord, record: VaeRunRecord) => void;
  /** How long to wait for another process that is training the same M1 (default 6 h). */
  waitMs?: number;
}

/**
 * The run's M1, from the cache or trained now. Several runs of a sweep (m1 and m1m2 at each N)
 * share one M1 per seed, and two of them may start at once: the first takes the lock next to the
 * M1's checkpoint and trains, the others wait for it and then load what it saved.
 *
 * Training saves every epoch, with the optimizer's state, to one checkpoint per setting of M1
 * whatever its number of epochs (vaeCheckpointDirFor). An M1 stopped midway continues where it
 * stopped, and a longer M1 (`m1.epochs`) continues from a shorter one instead of starting over;
 * it computes what an uninterrupted run would. A checkpoint further along than the M1 asked for
 * is left as it is, and that M1 is trained from the start.
 */
export async function trainM1(config: TrainConfig, dataset: Dataset, options: M1Options = {}): Promise<VaeRun> {
  const vaeConfig = m1VaeConfig(config, dataset.pixels);
  const cacheRoot = options.cacheRoot ?? defaultCacheRoot();
  const checkpoint = vaeCheckpointDirFor(vaeConfig, cacheRoot, codeVersion());
  fs.mkdirSync(cacheRoot, { recursive: true });
  const log = options.log ?? ((line: string) => console.log(line));
  const release = await takeLockWaiting(`${checkpoint}.lock`, `M1 ${path.basename(checkpoint)}`, options.waitMs ?? 6 * 3600_000, 2000, log);
  try {
    // One line per epoch unless the caller follows the epochs itself.
    const onEpoch =
      options.onEpoch ??
      ((e: VaeEpochRecord) =>
        log(
          `M1 epoch ${e.epoch}/${vaeConfig.epochs}  ${e.seconds.toFixed(1)} s  validation −ELBO ${e.validation.negativeElbo.toFixed(2)}`,
        ));
    const saved = savedVaeRecord(checkpoint);
    const usable = saved === undefined || saved.epochs.length <= vaeConfig.epochs;
    return await trainVae(vaeConfig, { dataset, cacheRoot, log, onEpoch, ...(usable ? { checkpointDir: checkpoint } : {}) });
  } finally {
    release();
  }
}

/** The standard deviation over the rows of each column of a row-major [n, width] array (n ≥ 2). */
export function columnSpreads(values: Float32Array, width: number): number[] {
  const n = values.length / width;
  if (!Number.isInteger(n) || n < 2)
    throw new Error(`columnSpreads: need at least two rows of ${width} values, got ${values.length} values`);
  return Array.from({ length: width }, (_, j) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[i * width + j] ?? 0;
    const mean = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += ((values[i * width + j] ?? 0) - mean) ** 2;
    return Math.sqrt(squares / (n - 1));
  });
}

/**
 * The columns of a row-major [n, width] array whose values vary over the rows: standard deviation
 * above `threshold`. Kingma et al.'s code keeps the dimensions of z₁ whose mean μ(x) varies by
 * more than 0.1 over images; the others stay at the prior whatever the image, and carry nothing.
 */
export function activeDimensions(values: Float32Array, width: number, threshold: number): number[] {
  return columnSpreads(values, width).flatMap((spread, j) => (spread > threshold ? [j] : []));
}

/** Columns `columns` of a row-major [n, width] array, as a row-major [n, columns.length] array. */
export function selectColumns(values: Float32Array, width: number, columns: number[]): Float32Array {
  const n = values.length / width;
  const out = new Float32Array(n * columns.length);
  for (let i = 0; i < n; i++) columns.forEach((c, k) => (out[i * columns.length + k] = values[i * width + c] ?? 0));
  return out;
}

export interface M1Splits {
  /** The run's splits in z₁ (kept dimensions only): images are μ(x); labelled and unlabelled also carry σ(x) as scales. */
  splits: SemiSupervisedSplits;
  /** The kept dimensions of z₁, in increasing order. */
  dims: number[];
}

/**
 * A run's splits seen through M1: the dimensions of z₁ are chosen on the unlabelled images
 * (activeDimensions with `threshold`), then every split is encoded on them.
 */
export function m1Splits(vae: Vae, splits: SemiSupervisedSplits, threshold: number): M1Splits {
  const { zDim } = vae.config;
  const unlabelled = vaeEncodeGaussian(vae, splits.unlabelled.images);
  const dims = activeDimensions(unlabelled.loc, zDim, threshold);
  if (dims.length === 0)
    throw new Error(
      `M1: no dimension of z₁ varies over the images by more than ${threshold} (config.m1.activeThreshold); M1 has learnt nothing`,
    );
  // Training splits carry σ(x) to sample from; validation and test images are μ(x) alone.
  const features = (split: Split, q: { loc: Float32Array; scale?: Float32Array }): Split => ({
    name: split.name,
    count: split.count,
    labels: split.labels,
    images: selectColumns(q.loc, zDim, dims),
    ...(q.scale ? { scales: selectColumns(q.scale, zDim, dims) } : {}),
  });
  const means = (split: Split) => features(split, { loc: vaeEncodeMean(vae, split.images) });
  return {
    splits: {
      labelled: features(splits.labelled, vaeEncodeGaussian(vae, splits.labelled.images)),
      unlabelled: features(splits.unlabelled, unlabelled),
      validation: means(splits.validation),
      test: means(splits.test),
      labelledIndices: splits.labelledIndices,
    },
    dims,
  };
}

/**
 * `split` seen through the M1 that a recorded m1 or m1m2 run used (read from the cache): μ(x) on
 * the run's kept dimensions, what the run's classifier takes.
 */
export function recordedM1Split(record: RunRecord, split: Split, cacheRoot = defaultCacheRoot()): Split {
  const m1 = record.derived?.m1;
  if (m1 === undefined) throw new Error(`the run (variant ${record.config.variant}) records no M1`);
  const dir = path.join(cacheRoot, m1.cacheEntry);
  if (!fs.existsSync(dir)) throw new Error(`${dir}: the run's M1 is not in the cache; train the run again (its M1 is trained first)`);
  const { vae } = loadVae(dir);
  try {
    return { ...split, images: selectColumns(vaeEncodeMean(vae, split.images), vae.config.zDim, m1.dims), scales: undefined };
  } finally {
    disposeVae(vae);
  }
}
