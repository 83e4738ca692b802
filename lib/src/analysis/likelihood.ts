/**
 * Test log-likelihood: the importance-weighted bounds IWAE_m of a trained VAE, GMVAE or M2
 * (model/iwae.ts) averaged over a set of images, for several m at once, in batches that fit in
 * memory.
 *
 * One pass draws m_max samples per image. For each smaller m that divides m_max, the m_max samples
 * form m_max/m disjoint groups of m, each an independent IWAE_m estimate; their mean has the same
 * expectation as one estimate and less variance, at no extra cost.
 */
import { tf } from '../core/backend';
import { forEachRowBatch } from '../core/batches';
import { drawSeed, makeRng, standardNormal, uniform } from '../core/random';
import { logMeanExp } from '../model/densities';
import { m2LogWeights, vaeLogWeights } from '../model/iwae';
import type { M2 } from '../model/m2';
import type { Vae } from '../model/vae';

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

function checkSampleCounts(counts: number[]): number {
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
    const mean = sum / total;
    return total > 1 ? Math.sqrt(Math.max(0, (squares - total * mean * mean) / (total - 1)) / total) : NaN;
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
  return Float32Array.from(images, (p, i) => ((u[i] ?? 1) < p ? 1 : 0));
}
