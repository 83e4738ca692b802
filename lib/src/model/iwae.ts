/**
 * Importance weights for the importance-weighted bound of Burda, Grosse and Salakhutdinov (2016):
 *
 *   log p(x) ≥ IWAE_m(x) = E[ log (1/m) Σ_{s<m} w_s ],   w_s = p(x, z_s) / q(z_s|x),   z_s ~ q(z|x)
 *
 * IWAE_1 is the ELBO; IWAE_m never decreases in m and tends to log p(x). Everything here is in
 * log space: log w_s = log p(x|z_s) + log p(z_s) − log q(z_s|x), and the mean over s becomes a
 * log-mean-exp (densities.ts). The functions return log w; analysis/likelihood.ts averages them
 * over samples and images.
 */
import { tf } from '../core/backend';
import { gaussianLogDensity, standardNormalLogDensity } from './densities';
import { decodeAllClasses, encodeAllClasses, type M2 } from './m2';
import { logPriorY, observationLogLikelihood } from './objectives';
import { vaeDecodeLogits, vaeEncode, vaeLogPrior, type Vae } from './vae';

/**
 * log w_s(x) for the VAE and the GMVAE: q(z|x) is computed once per image, then S samples
 * z_s = μ(x) + σ(x) ⊙ ε_s (ε [S, B, Z]) are decoded as one batch of S·B rows.
 * Returns [S, B].
 */
export function vaeLogWeights(vae: Vae, x: tf.Tensor2D, eps: tf.Tensor3D): tf.Tensor2D {
  const [samples = 0, batch = 0, zDim = 0] = eps.shape;
  const q = vaeEncode(vae, x); //                                                  [B, Z]
  const z = tf.add(q.loc, tf.mul(tf.exp(q.logScale), eps)); //                      [S, B, Z]
  const flat = z.reshape([samples * batch, zDim]) as tf.Tensor2D;
  const logits = vaeDecodeLogits(vae, flat).reshape([samples, batch, -1]); //       [S, B, D]
  const logPx = observationLogLikelihood('bernoulli', x, logits); //                [S, B]
  const logPz = vaeLogPrior(vae, flat).reshape([samples, batch]);
  const logQz = gaussianLogDensity(z, q.loc, q.logScale); //                        [S, B]
  return tf.sub(tf.add(logPx, logPz), logQz) as tf.Tensor2D;
}

/**
 * log w for M2, with y summed out exactly rather than sampled:
 *
 *   p(x) = Σ_y p(y) ∫ p(x|y,z) p(z) dz,   each integral estimated with q(z|x,y) as proposal:
 *   p̂(x) = Σ_y p(y) (1/m) Σ_s p(x|y,z_ys) p(z_ys) / q(z_ys|x,y),   z_ys ~ q(z|x,y)
 *
 * E[p̂(x)] = p(x), so E[log p̂(x)] ≤ log p(x) by Jensen's inequality, as for the IWAE. Summing over
 * the K classes instead of drawing y from q(y|x) costs K decoder passes per sample, but it leaves
 * no variance from y and makes the bound a property of the generative model p and of q(z|x,y)
 * alone, not of how confident the classifier is. Even at m = 1 it is at least the ELBO U(x) of
 * variant 2 (Jensen again, over q(y|x)).
 *
 * eps [S, K·B, Z] holds the noise of each sample, class-major within a sample as encodeAllClasses
 * lays out its rows. Returns log p(y) + log w_ys of shape [S, B, K]: log p̂(x) is then the
 * log-sum-exp over (s, y) minus log m.
 */
export function m2LogWeights(m: M2, x: tf.Tensor2D, eps: tf.Tensor3D): tf.Tensor3D {
  const k = m.config.numClasses;
  const [samples = 0, rows = 0, zDim = 0] = eps.shape;
  const batch = rows / k;
  const q = encodeAllClasses(m, x); //                                              [K·B, Z]
  const z = tf.add(q.loc, tf.mul(tf.exp(q.logScale), eps)); //                      [S, K·B, Z]
  // decodeAllClasses wants class-major rows: [K, S·B] with block y holding class y.
  const classMajor = z
    .reshape([samples, k, batch, zDim])
    .transpose([1, 0, 2, 3])
    .reshape([k * samples * batch, zDim]) as tf.Tensor2D;
  const out = decodeAllClasses(m, classMajor).reshape([k, samples, batch, -1]); //   [K, S, B, D]
  const logPx = observationLogLikelihood(m.config.likelihood, x, out).transpose([1, 2, 0]); //  [S, B, K]
  const logPz = standardNormalLogDensity(z); //                                                 [S, K·B]
  const logQz = gaussianLogDensity(z, q.loc, q.logScale); //                                    [S, K·B]
  const logRatio = tf.sub(logPz, logQz).reshape([samples, k, batch]).transpose([0, 2, 1]); //   [S, B, K]
  return tf.add(tf.add(logPx, logRatio), logPriorY(k)) as tf.Tensor3D;
}
