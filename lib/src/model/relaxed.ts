/**
 * The unlabelled bound of M2 with y relaxed instead of summed out: the Gumbel-softmax (Jang et
 * al. 2017), also called the Concrete distribution (Maddison et al. 2017).
 *
 * Summing y out costs K passes through the encoder and decoder per image. Sampling ŷ ~ q(y|x)
 * costs one, but the sample cannot carry a gradient to q(y|x), and the score function (variant 1)
 * is too noisy. The relaxation replaces the one-hot sample by a point of the simplex that is a
 * differentiable function of q(y|x) and of noise:
 *
 *   ỹ = softmax((log π + g) / τ),   π = q(·|x),   g_k ~ Gumbel(0, 1) independent.
 *
 * As τ → 0, ỹ tends to the one-hot vector of argmax_k (log π_k + g_k), which is an exact sample
 * of Cat(π) (the Gumbel-max trick). For τ > 0 it is biased: the decoder sees blends of classes it
 * never sees at test time. The straight-through form feeds the decoder the one-hot vector
 * and lets the gradient flow as if it were ỹ.
 *
 * The y terms of U(x) = Σ_y q(y|x) L(x,y) + H(q(y|x)) are E_q[log p(y)] + H(q) = −KL(q(y|x) ‖ p(y)).
 * That KL is computed exactly, from π. The KL between the two relaxed (Concrete) distributions
 * has no closed form, and a one-sample estimate of it is noisy. The rest of the bound is
 * evaluated at the single relaxed sample:
 *
 *   Ũ(x) = log p(x|ỹ,z) − KL(q(z|x,ỹ) ‖ p(z)) − KL(q(y|x) ‖ p(y)),   z = μ(x,ỹ) + σ(x,ỹ) ⊙ ε.
 */
import { tf } from '../core/backend';
import { decode, encode, type M2 } from './m2';
import { gaussianKl, logQy, observationLogLikelihood, reparameterise, stopGradient, type UnlabelledTerms } from './objectives';

/** ỹ = softmax((logits + g) / τ), [B, K]: a relaxed one-hot sample (any logits: log π up to a constant). */
export function relaxedSample(logits: tf.Tensor2D, g: tf.Tensor2D, temperature: number): tf.Tensor2D {
  if (!(temperature > 0)) throw new Error(`the temperature τ must be positive, got ${temperature}`);
  return tf.softmax(tf.div(tf.add(logits, g), temperature)) as tf.Tensor2D;
}

/** The one-hot vector of each row's largest entry in the forward pass, with the gradient of `soft` itself. */
export function straightThrough(soft: tf.Tensor2D): tf.Tensor2D {
  const [, k = 0] = soft.shape;
  const hard = tf.oneHot(tf.argMax(soft, 1), k).toFloat();
  return tf.add(stopGradient(tf.sub(hard, soft)), soft) as tf.Tensor2D;
}

/** KL(q(y|x) ‖ p(y)) for the uniform prior over K classes: Σ_y q log q + log K, from log q(y|x) [B, K]; [B]. */
export function categoricalKlToUniform(logQ: tf.Tensor2D): tf.Tensor1D {
  const [, k = 0] = logQ.shape;
  return tf.add(tf.sum(tf.mul(tf.exp(logQ), logQ), 1), Math.log(k)) as tf.Tensor1D;
}

/**
 * log density of the Concrete distribution with logits a (log π up to a constant) and temperature τ
 * at a point y of the open simplex, per row ([B, K] → [B]):
 *   log p(y) = log (K−1)! + (K−1) log τ + Σ_k [a_k − (τ+1) log y_k] − K · logsumexp_k(a_k − τ log y_k)
 */
export function concreteLogDensity(logits: tf.Tensor2D, y: tf.Tensor2D, temperature: number): tf.Tensor1D {
  const [, k = 0] = logits.shape;
  let logFactorial = 0;
  for (let i = 2; i < k; i++) logFactorial += Math.log(i);
  const logY = tf.log(y);
  const perClass = tf.sum(tf.sub(logits, tf.mul(temperature + 1, logY)), 1);
  const normaliser = tf.mul(k, tf.logSumExp(tf.sub(logits, tf.mul(temperature, logY)), 1));
  return tf.sub(tf.add(perClass, logFactorial + (k - 1) * Math.log(temperature)), normaliser) as tf.Tensor1D;
}

export interface RelaxedOptions {
  temperature: number;
  /** Feed the encoder and decoder the one-hot vector of the relaxed sample (gradient as if it were ỹ). */
  straightThrough: boolean;
}

/**
 * Ũ(x) with one relaxed sample per image: `g` [B, K] standard Gumbel noise, `eps` [B, Z] the z
 * noise. `reconstruction` and `kl` are those of the sample; `entropy` is H(q(y|x)), exact.
 */
export function unlabelledBoundRelaxed(m: M2, x: tf.Tensor2D, g: tf.Tensor2D, eps: tf.Tensor2D, options: RelaxedOptions): UnlabelledTerms {
  const logQ = logQy(m, x); //                                         [B, K]
  const soft = relaxedSample(logQ, g, options.temperature);
  const y = options.straightThrough ? straightThrough(soft) : soft;
  const q = encode(m, x, y);
  const z = reparameterise(q, eps);
  const reconstruction = observationLogLikelihood(m.config.likelihood, x, decode(m, z, y)) as tf.Tensor1D;
  const kl = gaussianKl(q);
  const bound = tf.sub(tf.sub(reconstruction, kl), categoricalKlToUniform(logQ)) as tf.Tensor1D;
  const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logQ), logQ), 1)) as tf.Tensor1D;
  return { bound, reconstruction, kl, entropy };
}
