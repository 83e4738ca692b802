/**
 * The objectives of M2. Each function returns per-example values (shape [B]); training
 * averages them over the batch. Notation: x an image, y a class (one-hot), z the latent,
 * K classes, B images per batch, Z latent size, D pixels.
 */
import { tf } from '../core/backend';
import type { Likelihood } from './config';
import { classifierLogits, decode, decodeAllClasses, encode, encodeAllClasses, type Gaussian, type M2 } from './m2';

/**
 * tf.customGrad for a function of one tensor. tfjs types the function it wraps as taking
 * (Tensor | GradSaveFunc)[] (the inputs, then the function that saves tensors for the gradient),
 * so the two arguments are unpacked and checked here once.
 */
function unaryCustomGrad<T extends tf.Tensor>(
  f: (input: tf.Tensor, save: tf.GradSaveFunc) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor },
): (input: tf.Tensor) => T {
  const wrapped = tf.customGrad<T>((...args) => {
    const [input, save] = args;
    if (!(input instanceof tf.Tensor) || typeof save !== 'function')
      throw new Error('customGrad: expected one tensor and the save function');
    return f(input, save);
  });
  return (input) => wrapped(input);
}

/**
 * log p(x|y,z) = Σ_d [x_d log π_d + (1 − x_d) log(1 − π_d)],  π = sigmoid(l)
 *             = Σ_d [x_d l_d − softplus(l_d)]
 * The second form never takes log(0): it is exact and finite for |l| up to ~1e38.
 * `logits` may carry leading dimensions ([…, B, D]); x [B, D] broadcasts over them, which is
 * how the summed-out bound scores all K reconstructions of x without copying x K times.
 * Gradient (written out, as it is the largest elementwise work of a step):
 *   ∂/∂l_d = x_d − sigmoid(l_d)
 */
export function bernoulliLogLikelihood<R extends tf.Rank>(x: tf.Tensor2D, logits: tf.Tensor<R>): tf.Tensor {
  const f = unaryCustomGrad((l, save) => {
    save([l]);
    const last = l.rank - 1;
    const value = tf.sub(tf.sum(tf.mul(l, x), last), tf.sum(tf.softplus(l), last));
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.expandDims(dy, last), tf.sub(x, tf.sigmoid(saved[0] ?? l)));
    return { value, gradFunc };
  });
  return f(logits);
}

/**
 * log p(x|y,z) for a Gaussian observation model, the decoder's output being [μ, log σ] along the
 * last axis:
 *   log N(x | μ, diag σ²) = Σ_d [−½ log 2π − log σ_d − ½ ((x_d − μ_d) / σ_d)²]
 * log σ is the network's output as it is (unconstrained), as in Kingma et al.'s code, which
 * outputs log σ² the same way. Like bernoulliLogLikelihood, `out` may carry leading dimensions
 * ([…, B, 2D]) over which x [B, D] broadcasts.
 */
export function gaussianLogLikelihood<R extends tf.Rank>(x: tf.Tensor2D, out: tf.Tensor<R>): tf.Tensor {
  const last = out.rank - 1;
  const [loc, logScale] = tf.split(out, 2, last);
  if (loc === undefined || logScale === undefined) throw new Error('gaussianLogLikelihood: the output must hold a mean and a log scale');
  const standardised = tf.mul(tf.sub(x, loc), tf.exp(tf.neg(logScale)));
  const perFeature = tf.sub(tf.neg(tf.add(logScale, 0.5 * Math.log(2 * Math.PI))), tf.mul(0.5, tf.square(standardised)));
  return tf.sum(perFeature, last);
}

/** log p(x|y,z) under the model's observation model (config.likelihood), from the decoder's output. */
export function observationLogLikelihood<R extends tf.Rank>(likelihood: Likelihood, x: tf.Tensor2D, out: tf.Tensor<R>): tf.Tensor {
  return likelihood === 'gaussian' ? gaussianLogLikelihood(x, out) : bernoulliLogLikelihood(x, out);
}

/** KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ_j (μ_j² + σ_j² − 1 − 2 log σ_j),  in closed form. */
export function gaussianKl(q: Gaussian): tf.Tensor1D {
  return tf.mul(0.5, tf.sum(doubledKlTerms(q), 1));
}

/** The KL's share of each dimension j, ½ (μ_j² + σ_j² − 1 − 2 log σ_j): [B, Z], summing over j to gaussianKl. */
export function gaussianKlPerDimension(q: Gaussian): tf.Tensor2D {
  return tf.mul(0.5, doubledKlTerms(q));
}

/** μ_j² + σ_j² − 1 − 2 log σ_j, [B, Z]. */
function doubledKlTerms({ loc, logScale }: Gaussian): tf.Tensor2D {
  return tf.sub(tf.add(tf.square(loc), tf.exp(tf.mul(2, logScale))), tf.add(1, tf.mul(2, logScale)));
}

/** z = μ + σ ⊙ ε,  ε ~ N(0, I): the reparameterised sample, differentiable in μ and σ. */
export function reparameterise(q: Gaussian, eps: tf.Tensor2D): tf.Tensor2D {
  return tf.add(q.loc, tf.mul(tf.exp(q.logScale), eps));
}

/** log p(y) = log(1/K) for the uniform prior over K classes. */
export function logPriorY(numClasses: number): number {
  return -Math.log(numClasses);
}

/** log q(y|x) for every class: log-softmax of the classifier's logits, [B, K]. */
export function logQy(m: M2, x: tf.Tensor2D): tf.Tensor2D {
  return tf.logSoftmax(classifierLogits(m, x));
}

/**
 * How far the classifier's predictions over a batch are, as a whole, from the prior p(y) = 1/K:
 *   q̄(y) = (1/B) Σ_i q(y|x_i),      KL(q̄ ‖ p) = Σ_y q̄(y) log(K q̄(y))
 * The unlabelled bound already holds it once. Averaged over the batch, its KL term splits as
 *   (1/B) Σ_i KL(q(y|x_i) ‖ p) = (1/B) Σ_i KL(q(y|x_i) ‖ q̄) + KL(q̄ ‖ p)
 * (Hoffman and Johnson's "ELBO surgery"): how much y depends on the image, plus how unevenly the
 * classes are used. log q̄ is taken as a log-sum-exp of `logQ` [B, K], so it stays finite when a
 * class is all but unused. Returns a scalar.
 */
export function aggregateClassKl(logQ: tf.Tensor2D): tf.Scalar {
  const [rows = 0, k = 0] = logQ.shape;
  const logMean = tf.sub(tf.logSumExp(logQ, 0), Math.log(rows)); // log q̄(y), [K]
  return tf.sum(tf.mul(tf.exp(logMean), tf.add(logMean, Math.log(k)))) as tf.Scalar;
}

export interface LabelledTerms {
  /** L(x,y), [B]. */
  bound: tf.Tensor1D;
  /** log p(x|y,z) at the sampled z, [B]. */
  reconstruction: tf.Tensor1D;
  /** KL(q(z|x,y) ‖ p(z)), [B]. */
  kl: tf.Tensor1D;
}

/**
 * Labelled bound, one reparameterised sample of z:
 *   L(x,y) = E_q(z|x,y)[log p(x|y,z)] + log p(y) − KL(q(z|x,y) ‖ p(z))
 */
export function labelledBound(m: M2, x: tf.Tensor2D, y: tf.Tensor2D, eps: tf.Tensor2D): LabelledTerms {
  const q = encode(m, x, y);
  const z = reparameterise(q, eps);
  const reconstruction = observationLogLikelihood(m.config.likelihood, x, decode(m, z, y)) as tf.Tensor1D;
  const kl = gaussianKl(q);
  const bound = tf.sub(tf.add(reconstruction, logPriorY(m.config.numClasses)), kl) as tf.Tensor1D;
  return { bound, reconstruction, kl };
}

export interface UnlabelledTerms {
  /** U(x), [B]. */
  bound: tf.Tensor1D;
  /** Σ_y q(y|x) log p(x|y,z_y), [B]. */
  reconstruction: tf.Tensor1D;
  /** Σ_y q(y|x) KL(q(z|x,y) ‖ p(z)), [B]. */
  kl: tf.Tensor1D;
  /** H(q(y|x)), [B]. */
  entropy: tf.Tensor1D;
}

/**
 * Unlabelled bound with y summed out (variant 2):
 *   U(x) = Σ_y q(y|x) L(x,y) + H(q(y|x))
 * All K classes run as one batch of K·B rows; `eps` is [K·B, Z], one sample per (y, x).
 */
export function unlabelledBoundEnumerated(m: M2, x: tf.Tensor2D, eps: tf.Tensor2D): UnlabelledTerms {
  const k = m.config.numClasses;
  const batch = x.shape[0];
  const logQ = logQy(m, x); //                                    [B, K]
  const qy = tf.exp(logQ);
  const q = encodeAllClasses(m, x); //                              [K·B, Z], class-major
  const z = reparameterise(q, eps);
  const logits = decodeAllClasses(m, z).reshape([k, batch, -1]); // [K, B, D] (Gaussian: [K, B, 2D])
  const logLik = observationLogLikelihood(m.config.likelihood, x, logits).transpose() as tf.Tensor2D; //  [B, K]
  const kl = gaussianKl(q).reshape([k, batch]).transpose() as tf.Tensor2D; //                                              [B, K]
  const labelled = tf.sub(tf.add(logLik, logPriorY(k)), kl); //    L(x,y) for every y, [B, K]
  const entropy = tf.neg(tf.sum(tf.mul(qy, logQ), 1)) as tf.Tensor1D;
  const bound = tf.add(tf.sum(tf.mul(qy, labelled), 1), entropy) as tf.Tensor1D;
  return {
    bound,
    reconstruction: tf.sum(tf.mul(qy, logLik), 1) as tf.Tensor1D,
    kl: tf.sum(tf.mul(qy, kl), 1) as tf.Tensor1D,
    entropy,
  };
}

export interface SampledTerms {
  /** Single-sample estimate of U(x): L(x,ŷ) − log q(ŷ|x), [B]. Its value, not its gradient, is the bound. */
  bound: tf.Tensor1D;
  /** Surrogate whose gradient is the score-function estimate of ∇U, [B]. */
  surrogate: tf.Tensor1D;
  reconstruction: tf.Tensor1D;
  kl: tf.Tensor1D;
  /** −log q(ŷ|x), a one-sample estimate of H(q(y|x)), [B]. */
  entropy: tf.Tensor1D;
}

/**
 * A control variate for the score-function term: a baseline b(x) subtracted from the learning
 * signal, Û(x) − b(x). Any b that does not depend on ŷ keeps the gradient unbiased, because
 * E_q[∇log q(ŷ|x)] = Σ_y ∇q(y|x) = ∇1 = 0.
 *   none:           b = 0 (variant 1 as Kingma et al. and Pyro's Trace_ELBO have it);
 *   leave-one-out:  b_i = the mean of Û over the other images of the batch,
 *                   b_i = (Σ_j Û_j − Û_i)/(B − 1), which does not depend on ŷ_i.
 */
export const CONTROL_VARIATES = ['none', 'leave-one-out'] as const;
export type ControlVariate = (typeof CONTROL_VARIATES)[number];

/**
 * Unlabelled bound with y sampled (variant 1). ŷ ~ q(y|x) cannot be reparameterised, so its
 * gradient comes from the score function (REINFORCE), as Pyro's Trace_ELBO does for such a site:
 *   Û(x) = L(x,ŷ) − log q(ŷ|x)
 *   ∇Û  ≈ ∇[L(x,ŷ) − log q(ŷ|x)] + (Û(x) − b(x)) · ∇log q(ŷ|x)      (Û − b held constant)
 *   surrogate(x) = Û(x) + stopGradient(Û(x) − b(x)) · log q(ŷ|x)
 * With no baseline (b = 0) and no Rao-Blackwellisation, Û is a sum over 784 pixels of order
 * −100 nats, so the second term's variance is what starves q(y|x) of signal; `controlVariate`
 * picks b (see CONTROL_VARIATES). `yIndex` [B] holds the sampled classes ŷ (see sampleClasses).
 */
export function unlabelledBoundSampled(
  m: M2,
  x: tf.Tensor2D,
  yIndex: tf.Tensor1D,
  eps: tf.Tensor2D,
  controlVariate: ControlVariate = 'none',
): SampledTerms {
  const k = m.config.numClasses;
  const logQ = logQy(m, x);
  const y = tf.oneHot(yIndex, k).toFloat() as tf.Tensor2D;
  const logQSampled = tf.sum(tf.mul(logQ, y), 1) as tf.Tensor1D; // log q(ŷ|x)
  const { bound: labelled, reconstruction, kl } = labelledBound(m, x, y, eps);
  const bound = tf.sub(labelled, logQSampled) as tf.Tensor1D;
  const signal = stopGradient(bound);
  const batch = x.shape[0];
  const learningSignal =
    controlVariate === 'leave-one-out' && batch > 1 ? tf.sub(signal, tf.div(tf.sub(tf.sum(signal), signal), batch - 1)) : signal;
  const surrogate = tf.add(bound, tf.mul(learningSignal, logQSampled)) as tf.Tensor1D;
  return { bound, surrogate, reconstruction, kl, entropy: tf.neg(logQSampled) as tf.Tensor1D };
}

/** The identity, with no gradient flowing back through it (tfjs has no stop_gradient op). */
export function stopGradient<T extends tf.Tensor>(a: T): T {
  // clone() keeps the tensor's rank, which its declared type forgets.
  return unaryCustomGrad<T>((input) => ({ value: input.clone() as T, gradFunc: (dy) => tf.zerosLike(dy) }))(a);
}

/** ŷ ~ q(y|x): one class per row, [B] int32. Sampling blocks gradients by construction. */
export function sampleClasses(m: M2, x: tf.Tensor2D, seed: number): tf.Tensor1D {
  return tf.multinomial(classifierLogits(m, x), 1, seed).reshape([-1]) as tf.Tensor1D;
}

/** The extra classification term of variant 3 and the baseline's loss: −log q(y|x), [B]. */
export function classificationLoss(m: M2, x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(logQy(m, x), y), 1)) as tf.Tensor1D;
}
