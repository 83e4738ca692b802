/**
 * Summaries over seeds: the mean and a 95% confidence interval of the mean.
 *
 * With n runs, the interval is  x̄ ± t_{0.975, n−1} · s / √n,  s the sample standard deviation:
 * the Student t interval, right for a handful of seeds where the normal 1.96 would be too
 * narrow (with 5 seeds t is 2.78, with 3 it is 4.30). The t quantile is computed here, from
 * the regularised incomplete beta function, so that the library needs no statistics package.
 */

/** A mean with its 95% interval; low/high/halfWidth are NaN when n < 2 (no spread to measure). */
export interface MeanInterval {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator). */
  std: number;
  halfWidth: number;
  low: number;
  high: number;
  /** The confidence level of the interval, e.g. 0.95. */
  level: number;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation, √(Σ(x − x̄)² / (n − 1)); NaN for fewer than two values. */
export function sampleStd(values: readonly number[]): number {
  if (values.length < 2) return NaN;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return Math.sqrt(ss / (values.length - 1));
}

/**
 * log Γ(x) for x > 0: shift x up to at least 15 with Γ(x + 1) = x Γ(x), then Stirling's series
 *   log Γ(x) ≈ (x − ½) log x − x + ½ log 2π + Σ_k B_{2k} / (2k (2k − 1) x^{2k−1}),
 * whose terms (B_2 … B_14, the Bernoulli numbers) leave an error near double precision there.
 */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new Error(`logGamma: x must be positive, got ${x}`);
  let shift = 0;
  while (x < 15) {
    shift += Math.log(x);
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  // 1/12, −1/360, 1/1260, −1/1680, 1/1188, −691/360360, 1/156 (Horner in 1/x²).
  const series =
    inv * (1 / 12 + inv2 * (-1 / 360 + inv2 * (1 / 1260 + inv2 * (-1 / 1680 + inv2 * (1 / 1188 + inv2 * (-691 / 360360 + inv2 / 156))))));
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/**
 * Continued fraction of the incomplete beta function (evaluated with the modified Lentz
 * method); converges quickly for x < (a + 1) / (a + b + 2).
 */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const awayFromZero = (v: number) => (Math.abs(v) < tiny ? tiny : v);
  let c = 1;
  let d = 1 / awayFromZero(1 - ((a + b) * x) / (a + 1));
  let f = d;
  // One Lentz update with the next coefficient; returns the factor it multiplies f by.
  const next = (coefficient: number): number => {
    d = 1 / awayFromZero(1 + coefficient * d);
    c = awayFromZero(1 + coefficient / c);
    return d * c;
  };
  for (let m = 1; m <= 500; m++) {
    // Even step: d_{2m} = m (b − m) x / ((a + 2m − 1)(a + 2m)).
    f *= next((m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)));
    // Odd step: d_{2m+1} = −(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    const delta = next((-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)));
    f *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return f;
}

/** The regularised incomplete beta function I_x(a, b), for 0 ≤ x ≤ 1 and a, b > 0. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1)) throw new Error(`incompleteBeta: x must lie in [0, 1], got ${x}`);
  if (x === 0 || x === 1) return x;
  // x^a (1 − x)^b / (a B(a, b)), in logs.
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges on one side; use I_x(a, b) = 1 − I_{1−x}(b, a) on the other.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df > 0, need not be an integer). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new Error(`studentTCdf: degrees of freedom must be positive, got ${df}`);
  if (t === 0) return 0.5;
  // P(|T| > |t|) = I_{df / (df + t²)}(df / 2, 1 / 2).
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom, by bisection on the CDF. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`studentTQuantile: p must lie in (0, 1), got ${p}`);
  if (!(df > 0) || !Number.isFinite(df)) throw new Error(`studentTQuantile: degrees of freedom must be positive and finite, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, hi); i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Mean of `values` with its two-sided confidence interval (Student t, default level 0.95). */
export function meanInterval(values: readonly number[], level = 0.95): MeanInterval {
  if (!(level > 0 && level < 1)) throw new Error(`meanInterval: level must lie in (0, 1), got ${level}`);
  const n = values.length;
  const m = mean(values);
  const std = sampleStd(values);
  const halfWidth = n < 2 ? NaN : (studentTQuantile(0.5 + level / 2, n - 1) * std) / Math.sqrt(n);
  return { n, mean: m, std, halfWidth, low: m - halfWidth, high: m + halfWidth, level };
}
