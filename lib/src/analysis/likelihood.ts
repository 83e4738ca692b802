/**
 * Test log-likelihood: the importance-weighted bounds IWAE_m of a trained VAE, GMVAE or M2
 * (model/iwae.ts) averaged over a set of images, for several m at once, in batches that fit in
 * memory.
 *
 * One pass draws m_max samples per image. For each smaller m that divides m_max, the m_max samples
 * form m_max/m disjoint groups of m, each an independent IWAE_m estimate; their mean has the same
 * expectation as one estimate and less variance, at no extra cost.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../core/backend';
import { forEachRowBatch } from '../core/batches';
import { readJsonFile } from '../core/files';
import { drawSeed, makeRng, standardNormal, uniform } from '../core/random';
import { mean, sampleStd } from '../core/stats';
import { logMeanExp } from '../model/densities';
import { m2LogWeights, vaeLogWeights } from '../model/iwae';
import type { M2 } from '../model/m2';
import type { Vae } from '../model/vae';
import type { Environment } from '../train/records';
import { vaeEvaluate, type VaeTerms } from '../train/vae';

/** A model whose bound is evaluated: the VAE or GMVAE, or M2 (y summed out exactly). */
export type LikelihoodModel = { kind: 'vae'; vae: Vae } | { kind: 'm2'; m2: M2 };

export interface IwaeOptions {
  /** The m of each bound, e.g. [1, 10, 100, 1000]; each must divide the largest. */
  sampleCounts: number[];
  seed: number;
  /** At most this many decoder rows in one pass (default 20,000): memory, not numerics. */
  rowBudget?: number;
  /** Images per batch (default 100). */
  batch?: number;
  /** Called after every batch of images with the images done so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface IwaeResult {
  sampleCounts: number[];
  /** Mean of IWAE_m over the images, in nats, for each m (a lower bound on the mean log p(x)). */
  bounds: number[];
  /** Standard error of each mean over the images. */
  standardErrors: number[];
  images: number;
  seconds: number;
}

/** Decoder rows one sample of one image costs: 1 for the VAE, K for M2 (every class decoded). */
function rowsPerSample(model: LikelihoodModel): number {
  return model.kind === 'vae' ? 1 : model.m2.config.numClasses;
}

/** log of each sample's weight, summed over y for M2: [S, B]. */
function logWeights(model: LikelihoodModel, x: tf.Tensor2D, samples: number, seed: number): tf.Tensor2D {
  const batch = x.shape[0];
  if (model.kind === 'vae') {
    const { zDim } = model.vae.config;
    return vaeLogWeights(model.vae, x, tf.tensor3d(standardNormal(samples * batch * zDim, seed), [samples, batch, zDim]));
  }
  const { zDim, numClasses: k } = model.m2.config;
  const eps = tf.tensor3d(standardNormal(samples * k * batch * zDim, seed), [samples, k * batch, zDim]);
  // log Σ_y p(y) w_ys: the sum over classes inside each sample's weight.
  return tf.logSumExp(m2LogWeights(model.m2, x, eps), 2) as tf.Tensor2D;
}

/** Checks IWAE sample counts (positive integers, each dividing the largest) and returns the largest. */
export function checkSampleCounts(counts: number[]): number {
  if (counts.length === 0 || counts.some((m) => !Number.isInteger(m) || m <= 0))
    throw new Error(`IWAE sample counts must be positive integers, got ${JSON.stringify(counts)}`);
  const largest = Math.max(...counts);
  const bad = counts.filter((m) => largest % m !== 0);
  if (bad.length > 0) throw new Error(`IWAE sample counts must each divide the largest (${largest}); ${bad.join(', ')} do not`);
  return largest;
}

/**
 * Mean IWAE_m over `images` (row-major, the model's xDim pixels each, values in {0, 1} for a
 * likelihood in the strict sense) for every m in options.sampleCounts.
 */
export function iwaeBounds(model: LikelihoodModel, images: Float32Array, options: IwaeOptions): IwaeResult {
  const started = process.hrtime.bigint();
  const largest = checkSampleCounts(options.sampleCounts);
  const xDim = model.kind === 'vae' ? model.vae.config.xDim : model.m2.config.xDim;
  const total = images.length / xDim;
  const batch = options.batch ?? 100;
  const chunk = Math.max(1, Math.min(largest, Math.floor((options.rowBudget ?? 20_000) / (batch * rowsPerSample(model)))));
  const rng = makeRng(options.seed, 'iwae');
  const sums = options.sampleCounts.map(() => ({ sum: 0, squares: 0 }));
  let done = 0;
  forEachRowBatch(
    images,
    xDim,
    (x, _start, n) => {
      const perImage = tf.tidy(() => {
        const parts: tf.Tensor2D[] = [];
        for (let s = 0; s < largest; s += chunk) parts.push(logWeights(model, x, Math.min(chunk, largest - s), drawSeed(rng)));
        const all = tf.concat(parts, 0); //                                            [m_max, n]
        // For each m: m_max/m groups of m samples, one IWAE_m estimate each, averaged.
        return tf.stack(options.sampleCounts.map((m) => tf.mean(logMeanExp(all.reshape([largest / m, m, n]), 1), 0))); // [counts, n]
      });
      const values = perImage.arraySync() as number[][];
      perImage.dispose();
      values.forEach((row, i) => {
        const acc = sums[i] as { sum: number; squares: number };
        for (const v of row) {
          acc.sum += v;
          acc.squares += v * v;
        }
      });
      done += n;
      options.onProgress?.(done, total);
    },
    batch,
  );
  const bounds = sums.map(({ sum }) => sum / total);
  const standardErrors = sums.map(({ sum, squares }) => {
    const average = sum / total;
    return total > 1 ? Math.sqrt(Math.max(0, (squares - total * average * average) / (total - 1)) / total) : NaN;
  });
  return {
    sampleCounts: [...options.sampleCounts],
    bounds,
    standardErrors,
    images: total,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

/**
 * A fixed binarisation of grey-level images: pixel d of image i is 1 with probability x_id, drawn
 * once from `seed`. The same seed gives the same binary images, so bounds compare across models.
 */
export function binarizeImages(images: Float32Array, seed: number): Float32Array {
  const u = uniform(images.length, seed);
  const out = new Float32Array(images.length);
  for (let i = 0; i < out.length; i++) out[i] = (u[i] ?? 1) < (images[i] ?? 0) ? 1 : 0;
  return out;
}

/** Where `ssvae eval --iwae` and `ssvae vae` put a run's scores. */
export const LIKELIHOOD_FILE = 'likelihood.json';

export interface LikelihoodRecord {
  format: 'ssvae-likelihood/1';
  /** What was scored: 'vae' or 'gmvae' (a VAE run), or the M2 run's variant. */
  model: string;
  /** The run's seed (which labelled subset and initialisation, for M2). */
  seed: number;
  /** M2 only: the labelled count and which weights ('best' validation epoch or 'last'). */
  labels?: number;
  weights?: 'best' | 'last';
  /** Test images scored and the seed of their binarisation. */
  images: number;
  binarizeSeed: number;
  /** VAE runs only: −ELBO, −log p(x|z) and KL on the same images, one ε per image. */
  elbo?: VaeTerms;
  iwae: IwaeResult;
  /** Where the scoring ran (records written by the CLI). */
  environment?: Environment;
}

/**
 * Scores a model on binary images: the IWAE bounds for options.sampleCounts and, for a VAE, the
 * −ELBO with its two terms (ε drawn from options.seed). `describe` names the model in the record.
 */
export function scoreLikelihood(
  model: LikelihoodModel,
  images: Float32Array,
  options: IwaeOptions & { binarizeSeed: number },
  describe: Pick<LikelihoodRecord, 'model' | 'seed' | 'labels' | 'weights'>,
): LikelihoodRecord {
  const elbo = model.kind === 'vae' ? vaeEvaluate(model.vae, images, options.seed) : undefined;
  const iwae = iwaeBounds(model, images, options);
  return {
    format: 'ssvae-likelihood/1',
    ...describe,
    images: iwae.images,
    binarizeSeed: options.binarizeSeed,
    ...(elbo ? { elbo: { negativeElbo: elbo.negativeElbo, reconstruction: elbo.reconstruction, kl: elbo.kl } } : {}),
    iwae,
  };
}

/** The likelihood records of the runs directly under `root` (root/<run>/likelihood.json), by run name. */
export function loadLikelihoodRecords(root: string): Map<string, LikelihoodRecord> {
  const out = new Map<string, LikelihoodRecord>();
  if (!fs.existsSync(root)) return out;
  for (const name of fs.readdirSync(root).sort()) {
    const file = path.join(root, name, LIKELIHOOD_FILE);
    if (!fs.existsSync(file)) continue;
    const record = readJsonFile(file, 'cannot read the likelihood record') as LikelihoodRecord;
    if (record?.format !== 'ssvae-likelihood/1')
      throw new Error(`${file}: not a likelihood record (format ${JSON.stringify(record?.format)})`);
    out.set(name, record);
  }
  return out;
}

/** Mean and sample standard deviation over seeds, in nats (sd NaN for one seed). */
export interface OverSeeds {
  mean: number;
  sd: number;
  n: number;
}

export interface LikelihoodRow {
  /** 'vae', 'gmvae', or an M2 variant with its label count, e.g. 'v3, N = 100'. */
  model: string;
  seeds: number[];
  images: number;
  negativeElbo?: OverSeeds;
  kl?: OverSeeds;
  reconstruction?: OverSeeds;
  /** −IWAE_m by m, over the seeds that scored that m. */
  negativeIwae: Map<number, OverSeeds>;
  /** Seconds of one IWAE evaluation, mean over seeds. */
  seconds: number;
}

function overSeeds(values: number[]): OverSeeds | undefined {
  if (values.length === 0) return undefined;
  return { mean: mean(values), sd: values.length > 1 ? sampleStd(values) : NaN, n: values.length };
}

/** One row per model (and label count): the records' numbers as −log-likelihood bounds in nats, over seeds. */
export function likelihoodRows(records: Iterable<LikelihoodRecord>): LikelihoodRow[] {
  const groups = new Map<string, LikelihoodRecord[]>();
  for (const r of records) {
    const key = r.labels === undefined ? r.model : `${r.model}, N = ${r.labels}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups].map(([model, rs]) => {
    const counts = [...new Set(rs.flatMap((r) => r.iwae.sampleCounts))].sort((a, b) => a - b);
    const terms = (pick: (t: VaeTerms) => number) => overSeeds(rs.flatMap((r) => (r.elbo ? [pick(r.elbo)] : [])));
    return {
      model,
      seeds: rs.map((r) => r.seed).sort((a, b) => a - b),
      images: Math.min(...rs.map((r) => r.images)),
      negativeElbo: terms((t) => t.negativeElbo),
      kl: terms((t) => t.kl),
      reconstruction: terms((t) => t.reconstruction),
      negativeIwae: new Map(
        counts.map((m) => [
          m,
          overSeeds(
            rs.flatMap((r) => {
              const i = r.iwae.sampleCounts.indexOf(m);
              return i < 0 ? [] : [-(r.iwae.bounds[i] ?? NaN)];
            }),
          ) as OverSeeds,
        ]),
      ),
      seconds: mean(rs.map((r) => r.iwae.seconds)),
    };
  });
}
