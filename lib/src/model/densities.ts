/**
 * Log-densities of the continuous latents, and the one reduction importance weighting needs.
 * Shapes: z [N, Z] (or [S, N, Z] where said), μ and log σ [N, Z], a mixture's parameters [k, Z].
 */
import { tf } from '../core/backend';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * log (1/m) Σ_{i<m} exp(a_i) along `axis`, where m is that axis's length:
 *   logMeanExp(a) = max a + log (1/m) Σ_i exp(a_i − max a)  =  logsumexp(a) − log m
 * tf.logSumExp subtracts the maximum first, so no exp overflows even when every a_i is −500.
 */
export function logMeanExp(a: tf.Tensor, axis: number | number[]): tf.Tensor {
  const axes = typeof axis === 'number' ? [axis] : axis;
  const m = axes.reduce((n, ax) => n * (a.shape.at(ax) ?? 1), 1);
  return tf.sub(tf.logSumExp(a, axes), Math.log(m));
}

/**
 * log N(z | μ, diag σ²) = Σ_j [−½ log 2π − log σ_j − ½ ((z_j − μ_j) / σ_j)²],  summed over the last
 * axis. z may carry leading dimensions ([S, N, Z]) over which μ and log σ [N, Z] broadcast.
 */
export function gaussianLogDensity(z: tf.Tensor, loc: tf.Tensor, logScale: tf.Tensor): tf.Tensor {
  const standardised = tf.mul(tf.sub(z, loc), tf.exp(tf.neg(logScale)));
  return tf.neg(tf.sum(tf.add(tf.add(logScale, 0.5 * LOG_2PI), tf.mul(0.5, tf.square(standardised))), -1));
}

/** log N(z | 0, I) = −½ Σ_j (z_j² + log 2π), over the last axis. */
export function standardNormalLogDensity(z: tf.Tensor): tf.Tensor {
  return tf.mul(-0.5, tf.sum(tf.add(tf.square(z), LOG_2PI), -1));
}

/**
 * The mixture prior of the GMVAE, k Gaussians with equal weights:
 *   p(z) = (1/k) Σ_i N(z | m_i, diag v_i),   log p(z) = logMeanExp_i log N(z | m_i, diag v_i)
 * Each component's log-density is a quadratic form in z, so all N × k of them come from two
 * matrix products instead of an [N, k, Z] tensor (which at N = 10⁵ samples and k = 500 would
 * not fit in memory):
 *   log N(z | m_i, v_i) = −½ Σ_j z_j²/v_ij + Σ_j z_j m_ij/v_ij − ½ Σ_j (m_ij²/v_ij + log v_ij + log 2π)
 * z [N, Z]; means and log σ of the components [k, Z] (v = σ²). Returns [N].
 */
export function mixtureLogDensity(z: tf.Tensor2D, means: tf.Tensor2D, logScales: tf.Tensor2D): tf.Tensor1D {
  const precision = tf.exp(tf.mul(-2, logScales)); //                                   1/v, [k, Z]
  const quadratic = tf.matMul(tf.square(z), precision, false, true); //                  Σ_j z_j²/v_ij, [N, k]
  const cross = tf.matMul(z, tf.mul(means, precision), false, true); //                  Σ_j z_j m_ij/v_ij, [N, k]
  const constant = tf.sum(tf.add(tf.add(tf.mul(tf.square(means), precision), tf.mul(2, logScales)), LOG_2PI), 1); // [k]
  const perComponent = tf.sub(tf.sub(cross, tf.mul(0.5, quadratic)), tf.mul(0.5, constant)); //                [N, k]
  return logMeanExp(perComponent, 1) as tf.Tensor1D;
}
