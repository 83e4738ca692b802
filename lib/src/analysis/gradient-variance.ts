/**
 * How noisy is the gradient of the unlabelled bound U(x)? A measurement for variant 1.
 *
 * On one model and one batch x of unlabelled images, this draws the gradient of −mean U(x)
 * many times with independent random numbers and summarises the spread of the draws, per
 * network (parameter group), for three estimators:
 *
 *   summed-out                 ∇ Σ_y q(y|x) L(x,y) + ∇H(q(y|x))        (variant 2)
 *   score-function             ∇[L(x,ŷ) − log q(ŷ|x)] + Û(x) ∇log q(ŷ|x),  ŷ ~ q(y|x)   (variant 1)
 *   score-function-baseline    the same with Û(x) replaced by Û(x) − b(x), b(x) the mean of Û
 *                              over the other images of the batch (leave-one-out: still unbiased)
 *
 * All three have the same expectation. Two more, the relaxations of model/relaxed.ts, are biased
 * (their expectation is the gradient of the relaxed bound, not of U) and are measured when asked:
 *
 *   gumbel-relaxed             ∇Ũ(x) with ỹ = softmax((log q(y|x) + g)/τ), g Gumbel noise
 *   straight-through           the same, the networks fed one-hot(argmax ỹ) on the forward pass
 *
 * Their `meanError` then shows the bias as well as the noise. Two settings of the noise:
 *   'y'        ε (the z noise) is drawn once and shared by every draw and every class, so only ŷ
 *              varies; the expected gradient is then exactly the summed-out gradient at that ε
 *              (the score-function estimator averages to it, class by class), which is the
 *              reference.
 *   'y-and-z'  ε is redrawn too; the reference is the mean of `referenceDraws` further,
 *              independent summed-out draws.
 *
 * Per draw it records the gradient's norm and its cosine with the reference; over the draws,
 * the total variance tr Cov[g] = E‖g − ḡ‖², the distance of the mean from the reference, and
 * signal-to-noise ratios. Moments are accumulated in double precision (Welford), one draw at a
 * time, so memory does not grow with the number of draws.
 */
import { zip } from '../core/arrays';
import { tf } from '../core/backend';
import { M2_NETWORKS, networkVariables, type M2, type Network } from '../model/m2';
import { sampleClasses, unlabelledBoundEnumerated, unlabelledBoundSampled } from '../model/objectives';
import { drawSeed, gumbel, makeRng, standardNormal } from '../core/random';
import { unlabelledBoundRelaxed } from '../model/relaxed';

/** The unbiased estimators, measured by default. */
export const ESTIMATORS = ['summed-out', 'score-function', 'score-function-baseline'] as const;
/** The relaxed (biased) estimators, at `GradientVarianceOptions.temperature`. */
export const RELAXED_ESTIMATORS = ['gumbel-relaxed', 'straight-through'] as const;
export type Estimator = (typeof ESTIMATORS)[number] | (typeof RELAXED_ESTIMATORS)[number];

/** The parameter groups: M2's three networks, and all of them together. */
export const GRADIENT_GROUPS = [...M2_NETWORKS, 'all'] as const;
export type GradientGroup = (typeof GRADIENT_GROUPS)[number];

export type GradientNoise = 'y' | 'y-and-z';

export interface GradientVarianceOptions {
  /** Independent draws per estimator. */
  draws: number;
  seed: number;
  noise: GradientNoise;
  /** Estimators to measure (default: all three). */
  estimators?: readonly Estimator[];
  /** Summed-out draws averaged into the reference when noise is 'y-and-z' (default: `draws`). */
  referenceDraws?: number;
  /** τ of the relaxed estimators (default 1). */
  temperature?: number;
}

export interface GroupStats {
  estimator: Estimator;
  group: GradientGroup;
  /** Number of parameters in the group. */
  size: number;
  /** ‖g_s‖ of each draw. */
  norms: number[];
  /** cos(g_s, reference) of each draw. */
  cosines: number[];
  /** ‖ḡ‖, the norm of the mean over the draws. */
  meanNorm: number;
  /** Total variance tr Cov[g] = (1/(S−1)) Σ_s ‖g_s − ḡ‖². */
  variance: number;
  /** ‖ḡ − reference‖: how far the mean of the S draws lies from the reference. */
  meanError: number;
  /** E‖g_s − reference‖² ≈ variance + ‖ḡ − reference‖²: a single draw's mean squared error. */
  meanSquaredError: number;
  /** ‖reference‖ / √variance: how large the true gradient is against one draw's noise. */
  snr: number;
  /** Median over the parameters of |ḡ_i| / sd_i. */
  medianParameterSnr: number;
}

export interface GradientVarianceResult {
  noise: GradientNoise;
  draws: number;
  batchSize: number;
  /** ‖reference‖ per group. */
  referenceNorms: Record<GradientGroup, number>;
  stats: GroupStats[];
  /** Û(x) = L(x,ŷ) − log q(ŷ|x) of every image of every score-function draw: its mean and standard deviation (nats). */
  learningSignal: { mean: number; sd: number };
}

/** Gradient of −mean over the batch of the estimator's objective, flattened per network: [classifier, encoder, decoder]. */
function drawGradient(
  m: M2,
  x: tf.Tensor2D,
  estimator: Estimator,
  eps: tf.Tensor2D,
  seed: number,
  signal?: number[],
  temperature = 1,
): Float32Array[] {
  const groups = networkVariables(m);
  const variables = groups.flat();
  const k = m.config.numClasses;
  const relaxed = (RELAXED_ESTIMATORS as readonly Estimator[]).includes(estimator);
  const sampled = !relaxed && estimator !== 'summed-out';
  const yHat = sampled ? tf.tidy(() => sampleClasses(m, x, seed)) : undefined; // ŷ [B], sampled outside the tape
  const g = relaxed ? tf.tensor2d(gumbel(x.shape[0] * k, seed), [x.shape[0], k]) : undefined;
  let bound: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    if (g !== undefined) {
      const options = { temperature, straightThrough: estimator === 'straight-through' };
      return tf.neg(tf.mean(unlabelledBoundRelaxed(m, x, g, eps, options).bound)) as tf.Scalar;
    }
    if (yHat === undefined) {
      // eps is [B, Z] (shared by all classes) or [K·B, Z] (one per class and image).
      const e = eps.shape[0] === x.shape[0] ? (tf.tile(eps, [k, 1]) as tf.Tensor2D) : eps;
      return tf.neg(tf.mean(unlabelledBoundEnumerated(m, x, e).bound)) as tf.Scalar;
    }
    const u = unlabelledBoundSampled(m, x, yHat, eps, estimator === 'score-function-baseline' ? 'leave-one-out' : 'none');
    bound = tf.keep(u.bound.clone());
    return tf.neg(tf.mean(u.surrogate)) as tf.Scalar;
  }, variables);
  try {
    if (bound !== undefined && signal !== undefined) signal.push(...(bound.dataSync() as Float32Array));
    return groups.map((vars) => {
      const flat = tf.tidy(() => tf.concat(vars.map((v) => (grads[v.name] ?? tf.zerosLike(v)).reshape([-1]))));
      // Read outside tf.tidy: tidy would walk a returned typed array element by element.
      const values = (flat.dataSync() as Float32Array).slice();
      flat.dispose();
      return values;
    });
  } finally {
    tf.dispose(value);
    tf.dispose(grads);
    if (yHat !== undefined) yHat.dispose();
    if (g !== undefined) g.dispose();
    if (bound !== undefined) bound.dispose();
  }
}

/**
 * Running mean and sum of squared deviations per parameter (Welford) of one network's gradient,
 * plus each draw's squared norm and dot product with the reference.
 */
class Moments {
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  count = 0;
  readonly squaredNorms: number[] = [];
  readonly dots: number[] = [];

  constructor(readonly reference: Float64Array) {
    this.mean = new Float64Array(reference.length);
    this.m2 = new Float64Array(reference.length);
  }

  add(g: Float32Array): void {
    this.count++;
    let sq = 0;
    let dot = 0;
    for (let i = 0; i < g.length; i++) {
      const v = g[i]!;
      const delta = v - this.mean[i]!;
      this.mean[i]! += delta / this.count;
      this.m2[i]! += delta * (v - this.mean[i]!);
      sq += v * v;
      dot += v * this.reference[i]!;
    }
    this.squaredNorms.push(sq);
    this.dots.push(dot);
  }
}

/**
 * The median of `values` (no NaN among them), which it reorders; NaN for none. Hoare's
 * selection: partition around the middle element and keep only the side that holds the middle
 * rank, O(n) on average where sorting is O(n log n). summarise takes it over each network's
 * parameters and over all 1.3 million of them, for every estimator.
 */
export function medianInPlace(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  selectInPlace(values, mid);
  const upper = values[mid]!;
  if (n % 2 === 1) return upper;
  // Even count: the other middle value is the largest of the ranks below mid.
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (values[i]! > lower) lower = values[i]!;
  return (lower + upper) / 2;
}

/** Reorders `a` so that a[k] is its k-th smallest value, no larger value before it and no smaller after. */
function selectInPlace(a: Float64Array, k: number): void {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    // Now a[lo..j] ≤ pivot, a[i..hi] ≥ pivot, and anything between equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** The statistics of one estimator for the parameters of `parts` taken together (one network, or all three). */
function summarise(estimator: Estimator, group: GradientGroup, parts: Moments[]): GroupStats {
  const s = parts[0]?.count ?? 0;
  const size = parts.reduce((n, p) => n + p.reference.length, 0);
  let variance = 0;
  let meanSq = 0;
  let errSq = 0;
  let refSq = 0;
  const parameterSnr = new Float64Array(size);
  let withVariance = 0;
  for (const moments of parts) {
    for (let i = 0; i < moments.reference.length; i++) {
      const mean = moments.mean[i]!;
      const v = s > 1 ? moments.m2[i]! / (s - 1) : 0;
      variance += v;
      meanSq += mean * mean;
      const r = moments.reference[i]!;
      errSq += (mean - r) * (mean - r);
      refSq += r * r;
      if (v > 0) parameterSnr[withVariance++] = Math.abs(mean) / Math.sqrt(v);
    }
  }
  const norms: number[] = [];
  const cosines: number[] = [];
  for (let d = 0; d < s; d++) {
    const sq = parts.reduce((a, p) => a + p.squaredNorms[d]!, 0);
    const dot = parts.reduce((a, p) => a + p.dots[d]!, 0);
    norms.push(Math.sqrt(sq));
    cosines.push(sq > 0 && refSq > 0 ? dot / Math.sqrt(sq * refSq) : NaN);
  }
  // (1/S) Σ‖g_s − r‖² = ((S−1)/S)·variance + ‖ḡ − r‖²
  const meanSquaredError = ((s - 1) / s) * variance + errSq;
  return {
    estimator,
    group,
    size,
    norms,
    cosines,
    meanNorm: Math.sqrt(meanSq),
    variance,
    meanError: Math.sqrt(errSq),
    meanSquaredError,
    snr: variance > 0 ? Math.sqrt(refSq / variance) : Infinity,
    medianParameterSnr: withVariance > 0 ? medianInPlace(parameterSnr.subarray(0, withVariance)) : Infinity,
  };
}

/**
 * Measures the estimators (by default the three unbiased ones) on the batch `x` ([B, D] tensor, or B images row-major) of
 * model `m`, which is left unchanged. Draw s of an estimator uses its own seeds, independent of
 * every other draw.
 */
export function measureGradientVariance(m: M2, x: tf.Tensor2D | Float32Array, options: GradientVarianceOptions): GradientVarianceResult {
  const { draws, seed, noise } = options;
  if (!Number.isInteger(draws) || draws < 2) throw new Error(`draws must be an integer of at least 2, got ${draws}`);
  const estimators = options.estimators ?? ESTIMATORS;
  const { zDim, numClasses: k, xDim } = m.config;
  const batch = x instanceof tf.Tensor ? x : tf.tensor2d(x, [x.length / xDim, xDim]);
  const b = batch.shape[0];
  const rng = (stream: string) => makeRng(seed, `gradient-variance/${stream}`);
  // ε for noise 'y': one [B, Z] draw shared by everything.
  const fixedEps = tf.tensor2d(standardNormal(b * zDim, drawSeed(rng('fixed-eps'))), [b, zDim]);
  const epsFor = (estimator: Estimator, r: () => number): tf.Tensor2D => {
    if (noise === 'y') return fixedEps;
    const rowsNeeded = estimator === 'summed-out' ? k * b : b; // one ε per image for the sampled and relaxed ones
    return tf.tensor2d(standardNormal(rowsNeeded * zDim, drawSeed(r)), [rowsNeeded, zDim]);
  };
  try {
    // The reference: exact at the shared ε, or the mean of independent summed-out draws.
    let referenceParts: Float32Array[];
    if (noise === 'y') {
      referenceParts = drawGradient(m, batch, 'summed-out', fixedEps, 0);
    } else {
      const r = rng('reference');
      const count = options.referenceDraws ?? draws;
      const sums = networkVariables(m).map((vars) => new Float64Array(vars.reduce((n, v) => n + v.size, 0)));
      for (let s = 0; s < count; s++) {
        const eps = epsFor('summed-out', r);
        const parts = drawGradient(m, batch, 'summed-out', eps, 0);
        eps.dispose();
        for (const [sum, part] of zip(sums, parts)) part.forEach((v, i) => (sum[i] = (sum[i] ?? 0) + v));
      }
      referenceParts = sums.map((sum) => Float32Array.from(sum, (v) => v / count));
    }
    const reference = referenceParts.map((p) => Float64Array.from(p)); // per network
    const squared = reference.map((r) => r.reduce((a, v) => a + v * v, 0));
    const [classifier = NaN, encoder = NaN, decoder = NaN] = squared;
    const referenceNorms = {
      classifier: Math.sqrt(classifier),
      encoder: Math.sqrt(encoder),
      decoder: Math.sqrt(decoder),
      all: Math.sqrt(squared.reduce((a, v) => a + v, 0)),
    };

    const stats: GroupStats[] = [];
    const signal: number[] = [];
    for (const estimator of estimators) {
      const moments = reference.map((r) => new Moments(r));
      const r = rng(`draws/${estimator}`);
      for (let s = 0; s < draws; s++) {
        const eps = epsFor(estimator, r);
        const parts = drawGradient(
          m,
          batch,
          estimator,
          eps,
          drawSeed(r),
          estimator === 'score-function' ? signal : undefined,
          options.temperature,
        );
        if (eps !== fixedEps) eps.dispose();
        for (const [moment, part] of zip(moments, parts)) moment.add(part);
      }
      for (const [network, moment] of zip(M2_NETWORKS, moments)) stats.push(summarise(estimator, network, [moment]));
      stats.push(summarise(estimator, 'all', moments));
    }
    const mean = signal.reduce((a, v) => a + v, 0) / Math.max(1, signal.length);
    const sd = Math.sqrt(signal.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, signal.length - 1));
    return {
      noise,
      draws,
      batchSize: b,
      referenceNorms,
      stats,
      learningSignal: { mean: signal.length ? mean : NaN, sd: signal.length > 1 ? sd : NaN },
    };
  } finally {
    fixedEps.dispose();
    if (batch !== x) batch.dispose();
  }
}

/**
 * ‖∇ loss‖ with respect to each network's parameters, for one evaluation of `loss` (which must
 * depend on at least one network); null for a network the loss does not depend on at all, as
 * q(y|x) for the labelled bound L(x,y). Shows which objective trains which network.
 */
export function networkGradientNorms(m: M2, loss: () => tf.Scalar): Record<Network, number | null> {
  const groups = networkVariables(m);
  const { value, grads } = tf.variableGrads(loss, groups.flat());
  try {
    const entries = M2_NETWORKS.map((name, i) => {
      const present = groups[i]!.map((v) => grads[v.name]).filter((g): g is tf.Tensor => g !== undefined);
      if (present.length === 0) return [name, null] as const;
      const norm = tf.tidy(() => tf.sqrt(tf.addN(present.map((g) => tf.sum(tf.square(g))))));
      const n = norm.dataSync()[0] ?? NaN;
      norm.dispose();
      return [name, n] as const;
    });
    return Object.fromEntries(entries) as Record<Network, number | null>;
  } finally {
    value.dispose();
    tf.dispose(grads);
  }
}
