/**
 * A plain, unsupervised variational autoencoder (Kingma & Welling 2014): the model M2 grows
 * out of. This file holds the model (its networks, its bound, mapping images to and from z);
 * train/vae.ts trains, records and caches it.
 *
 *   generative model p:                    inference model q:
 *     p(z)   = N(z | 0, I)                    q(z|x) = N(z | μ(x), diag σ²(x))   (encoder)
 *     p(x|z) = Bernoulli(x | decoder(z))
 *
 *   ELBO(x) = E_q(z|x)[log p(x|z)] − KL(q(z|x) ‖ p(z))  ≤  log p(x)
 *
 * The likelihood, the KL and the reparameterised sample are the very functions M2 uses (from
 * objectives.ts), so what a reader learns on this model carries over unchanged.
 *
 * The GMVAE (config.prior = 'mixture') replaces p(z) by a learnt mixture of k Gaussians with
 * equal weights,  p(z) = (1/k) Σ_i N(z | m_i, diag v_i).  Its KL has no closed form, so the
 * bound takes the one-sample estimate  KL ≈ log q(z|x) − log p(z)  at the same z.
 */
import { tf } from '../core/backend';
import { mapRowBatches, rowCount } from '../core/batches';
import { standardNormal, uniform } from '../core/random';
import { checkPositiveInts, checkTraining, stripUndefined } from './config';
import { gaussianLogDensity, mixtureLogDensity, standardNormalLogDensity } from './densities';
import { ACTIVATIONS, mlp, type Activation } from './layers';
import type { Gaussian } from './m2';
import { bernoulliLogLikelihood, gaussianKl, reparameterise } from './objectives';

export const VAE_PRIORS = ['gaussian', 'mixture'] as const;
/** p(z): N(0, I) (the VAE), or a uniform mixture of `components` learnt Gaussians (the GMVAE). */
export type VaePrior = (typeof VAE_PRIORS)[number];

export const SCALE_PARAMETRISATIONS = ['log-scale', 'softplus-variance'] as const;
/**
 * How a network's second half of outputs h becomes a standard deviation: log σ = h (the library's
 * default, as in M2), or σ² = softplus(h) + 10⁻⁸ (the CS236 networks, for q(z|x) and for the
 * mixture components alike).
 */
export type ScaleParametrisation = (typeof SCALE_PARAMETRISATIONS)[number];

export interface VaeConfig {
  /** Hidden layer sizes of the encoder and of the decoder (softplus units). */
  hidden: number[];
  zDim: number;
  /** Pixels per image. */
  xDim: number;
  seed: number;
  epochs: number;
  batchSize: number;
  lr: number;
  beta1: number;
  beta2: number;
  /**
   * Weight β of the KL term in the training objective, −E[log p(x|z)] + β·KL(q(z|x) ‖ p(z)).
   * β = 1 (the default) is the ELBO; β > 1 (the β-VAE) pushes q(z|x) towards the prior.
   */
  klWeight: number;
  /**
   * KL warm-up: over the first klWarmup epochs the KL weight rises linearly, step by step, from 0
   * to klWeight, reaching it at the last step of epoch klWarmup (0, the default, for none). Early in
   * training the KL term can close dimensions of z before the decoder has learnt to use them;
   * warm-up lets the reconstruction term claim them first (Bowman et al. 2016; Sønderby et al. 2016).
   */
  klWarmup: number;
  /**
   * Train on pixels binarised afresh in every batch, x̃_d ~ Bernoulli(x_d) (dynamic binarisation, as
   * Kingma et al. train M1), rather than on the grey levels (false, the default). The validation
   * bound is computed on the grey levels either way.
   */
  binarize: boolean;
  /** 'mnist', the directory of a dataset in MNIST's IDX layout, or the name of the Dataset passed to trainVae. */
  dataset: string;
  /** The hidden units' nonlinearity. */
  activation: Activation;
  /** How q(z|x)'s scale (and the mixture components' scales) is parametrised. */
  scale: ScaleParametrisation;
  prior: VaePrior;
  /** k, the number of mixture components (prior 'mixture' only). */
  components: number;
}

/** M2's network sizes (one hidden layer of 500, z of 50), so the two models' latent spaces compare fairly. */
export const VAE_DEFAULTS: VaeConfig = {
  hidden: [500],
  zDim: 50,
  xDim: 784,
  seed: 0,
  epochs: 20,
  batchSize: 200,
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  klWeight: 1,
  klWarmup: 0,
  binarize: false,
  dataset: 'mnist',
  activation: 'softplus',
  scale: 'log-scale',
  prior: 'gaussian',
  components: 500,
};

/**
 * The VAE and GMVAE of Stanford CS236's second homework (its public starter code: nns/v1.py,
 * run_vae.py, run_gmvae.py, train.py, utils.py): encoder and decoder with two hidden layers of
 * 300 ELU units, z of 10 dimensions, σ² = softplus(h) + 10⁻⁸, k = 500 mixture components, Adam at
 * 10⁻³ on batches of 100 pixel images binarised afresh at every step, 20,000 steps. The course
 * trains on all 60,000 training images; here the train split (50,000, the rest being validation)
 * is used, so 20,000 steps are 40 epochs.
 */
export const CS236_PRESET: Partial<VaeConfig> = {
  hidden: [300, 300],
  zDim: 10,
  activation: 'elu',
  scale: 'softplus-variance',
  components: 500,
  batchSize: 100,
  lr: 1e-3,
  epochs: 40,
  binarize: true,
};

/** Fills in defaults and checks the fields; one error naming the first bad one. */
export function resolveVaeConfig(overrides: Partial<VaeConfig> = {}): VaeConfig {
  const config: VaeConfig = { ...VAE_DEFAULTS, ...stripUndefined(overrides) };
  checkPositiveInts('vae config', config, ['zDim', 'xDim', 'epochs', 'batchSize']);
  checkTraining('vae config', config);
  if (!(config.klWeight >= 0)) throw new Error(`vae config.klWeight must be non-negative, got ${config.klWeight}`);
  if (!(Number.isInteger(config.klWarmup) && config.klWarmup >= 0))
    throw new Error(`vae config.klWarmup must be a whole number of epochs ≥ 0, got ${config.klWarmup}`);
  if (typeof config.binarize !== 'boolean')
    throw new Error(`vae config.binarize must be true or false, got ${JSON.stringify(config.binarize)}`);
  const choices: [keyof VaeConfig, readonly string[]][] = [
    ['activation', ACTIVATIONS],
    ['scale', SCALE_PARAMETRISATIONS],
    ['prior', VAE_PRIORS],
  ];
  for (const [field, allowed] of choices)
    if (!allowed.includes(config[field] as string))
      throw new Error(`vae config.${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(config[field])}`);
  checkPositiveInts('vae config', config, ['components']);
  return config;
}

export interface Vae {
  config: VaeConfig;
  /** q(z|x): x [B, D] → [μ, log σ] concatenated [B, 2Z]. */
  encoder: tf.LayersModel;
  /** p(x|z): z [B, Z] → Bernoulli logits [B, D]. */
  decoder: tf.LayersModel;
  /**
   * The GMVAE's prior parameters [2k, Z]: rows 0…k−1 are the components' means m_i, rows k…2k−1
   * their scales' raw values (config.scale). Absent for the Gaussian prior.
   */
  prior?: tf.Variable;
}

/**
 * Builds encoder and decoder, initialised from config.seed (Glorot-normal weights, zero biases),
 * and for the mixture prior its parameters, drawn N(0, 1/(k·Z)) as in the CS236 code.
 */
export function createVae(config: VaeConfig): Vae {
  const { activation } = config;
  const x = tf.input({ shape: [config.xDim], name: 'x' });
  const encoder = tf.model({
    inputs: x,
    outputs: mlp('vae_encoder', x, config.hidden, 2 * config.zDim, { init: 'glorot-normal', seed: config.seed * 1000 + 51, activation }),
    name: 'vae_encoder',
  });
  const z = tf.input({ shape: [config.zDim], name: 'z' });
  const decoder = tf.model({
    inputs: z,
    outputs: mlp('vae_decoder', z, config.hidden, config.xDim, { init: 'glorot-normal', seed: config.seed * 1000 + 61, activation }),
    name: 'vae_decoder',
  });
  if (config.prior === 'gaussian') return { config, encoder, decoder };
  const { components: k, zDim } = config;
  const initial = Float32Array.from(standardNormal(2 * k * zDim, config.seed * 1000 + 71), (v) => v / Math.sqrt(k * zDim));
  const prior = tf.variable(tf.tensor2d(initial, [2 * k, zDim]), true, `vae_prior_${config.seed}_${priorCount++}`);
  return { config, encoder, decoder, prior };
}

/** Variable names must be unique in a process; this makes each mixture prior's so. */
let priorCount = 0;

export function disposeVae(vae: Vae): void {
  vae.encoder.dispose();
  vae.decoder.dispose();
  vae.prior?.dispose();
}

/** The VAE's networks, in the order of vaeVariables and of a saved VAE's folders. */
export const VAE_NETWORKS = ['encoder', 'decoder'] as const;

/** The trainable variables of each network, [encoder, decoder], then [the prior] for the GMVAE. */
export function vaeVariables(vae: Vae): tf.Variable[][] {
  const networks = VAE_NETWORKS.map((name) => vae[name]).map((net) => net.trainableWeights.map((w) => w.read() as tf.Variable));
  return vae.prior ? [...networks, [vae.prior]] : networks;
}

/** log σ from a network's raw scale outputs h, by config.scale: h itself, or ½ log(softplus(h) + 10⁻⁸). */
function logScaleOf(scale: ScaleParametrisation, h: tf.Tensor2D): tf.Tensor2D {
  return scale === 'log-scale' ? h : tf.mul(0.5, tf.log(tf.add(tf.softplus(h), 1e-8)));
}

/** q(z|x): μ and log σ, [B, Z] each. */
export function vaeEncode(vae: Vae, x: tf.Tensor2D): Gaussian {
  const out = vae.encoder.apply(x) as tf.Tensor2D; //                   [B, 2Z]
  const [loc, raw] = tf.split(out, [vae.config.zDim, vae.config.zDim], 1) as [tf.Tensor2D, tf.Tensor2D];
  return { loc, logScale: logScaleOf(vae.config.scale, raw) };
}

/** The mixture prior's components: means m_i and log σ_i, [k, Z] each (GMVAE only). */
export function vaePriorComponents(vae: Vae): Gaussian {
  if (!vae.prior) throw new Error('vaePriorComponents: this VAE has the standard normal prior, not a mixture');
  const k = vae.config.components;
  const [loc, raw] = tf.split(vae.prior, [k, k], 0) as [tf.Tensor2D, tf.Tensor2D];
  return { loc, logScale: logScaleOf(vae.config.scale, raw) };
}

/** log p(z) under the VAE's prior, for z [N, Z]: [N]. */
export function vaeLogPrior(vae: Vae, z: tf.Tensor2D): tf.Tensor1D {
  if (!vae.prior) return standardNormalLogDensity(z) as tf.Tensor1D;
  const { loc, logScale } = vaePriorComponents(vae);
  return mixtureLogDensity(z, loc, logScale);
}

/** p(x|z) as Bernoulli logits, [B, D]. */
export function vaeDecodeLogits(vae: Vae, z: tf.Tensor2D): tf.Tensor2D {
  return vae.decoder.apply(z) as tf.Tensor2D;
}

export interface ElboTerms {
  /** ELBO(x), [B]. */
  elbo: tf.Tensor1D;
  /** log p(x|z) at the sampled z, [B]. */
  reconstruction: tf.Tensor1D;
  /** KL(q(z|x) ‖ p(z)), [B]: in closed form for the Gaussian prior, estimated at z for the mixture. */
  kl: tf.Tensor1D;
  /** q(z|x) itself, μ and log σ [B, Z]. */
  q: Gaussian;
}

/**
 * ELBO(x) with one reparameterised sample z = μ(x) + σ(x) ⊙ ε, ε [B, Z] ~ N(0, I):
 *   ELBO(x) ≈ log p(x|z) − KL(q(z|x) ‖ p(z))
 * with KL = ½ Σ_j (μ_j² + σ_j² − 1 − 2 log σ_j) for p(z) = N(0, I), and for the mixture prior
 * the one-sample estimate  KL ≈ log q(z|x) − log p(z).
 */
export function vaeElbo(vae: Vae, x: tf.Tensor2D, eps: tf.Tensor2D): ElboTerms {
  const q = vaeEncode(vae, x);
  const z = reparameterise(q, eps); //                                  [B, Z]
  const reconstruction = bernoulliLogLikelihood(x, vaeDecodeLogits(vae, z)) as tf.Tensor1D;
  const kl = vae.prior ? (tf.sub(gaussianLogDensity(z, q.loc, q.logScale), vaeLogPrior(vae, z)) as tf.Tensor1D) : gaussianKl(q);
  return { elbo: tf.sub(reconstruction, kl) as tf.Tensor1D, reconstruction, kl, q };
}

/** μ(x), the mean of q(z|x), for each image: row-major [n, Z]. */
export function vaeEncodeMean(vae: Vae, images: Float32Array): Float32Array {
  const { xDim, zDim } = vae.config;
  return mapRowBatches(images, xDim, new Float32Array(rowCount(images, xDim) * zDim), (x) => vaeEncode(vae, x).loc);
}

/** q(z|x) of each image as arrays: means μ(x) and standard deviations σ(x), row-major [n, Z] each (one encoder pass). */
export function vaeEncodeGaussian(vae: Vae, images: Float32Array): { loc: Float32Array; scale: Float32Array } {
  const { xDim, zDim } = vae.config;
  const n = rowCount(images, xDim);
  const both = mapRowBatches(images, xDim, new Float32Array(n * 2 * zDim), (x) => {
    const q = vaeEncode(vae, x);
    return tf.concat([q.loc, tf.exp(q.logScale)], 1); //                [B, 2Z]: μ, then σ
  });
  const loc = new Float32Array(n * zDim);
  const scale = new Float32Array(n * zDim);
  for (let i = 0; i < n; i++) {
    loc.set(both.subarray(2 * i * zDim, (2 * i + 1) * zDim), i * zDim);
    scale.set(both.subarray((2 * i + 1) * zDim, (2 * i + 2) * zDim), i * zDim);
  }
  return { loc, scale };
}

/** Reconstructions: the pixel probabilities sigmoid(decoder(μ(x))) of each image, row-major [n, D]. */
export function vaeReconstruct(vae: Vae, images: Float32Array): Float32Array {
  const { xDim } = vae.config;
  return mapRowBatches(images, xDim, new Float32Array(images.length), (x) => tf.sigmoid(vaeDecodeLogits(vae, vaeEncode(vae, x).loc)));
}

/** Pixel probabilities sigmoid(decoder(z)) for latent codes z, row-major [n, Z] → [n, D]. */
export function vaeDecode(vae: Vae, z: Float32Array): Float32Array {
  const { zDim, xDim } = vae.config;
  const count = z.length / zDim;
  const probabilities = tf.tidy(() => tf.sigmoid(vaeDecodeLogits(vae, tf.tensor2d(z, [count, zDim]))));
  const out = (probabilities.dataSync() as Float32Array).slice(0, count * xDim);
  probabilities.dispose();
  return out;
}

/**
 * `count` images generated from the prior: z ~ p(z) drawn from `seed` (for the mixture: a
 * component i uniformly, then z = m_i + σ_i ⊙ ε), then sigmoid(decoder(z)), [count, D].
 */
export function vaeSample(vae: Vae, count: number, seed: number): Float32Array {
  const eps = standardNormal(count * vae.config.zDim, seed);
  if (!vae.prior) return vaeDecode(vae, eps);
  const { components: k, zDim } = vae.config;
  const picks = Int32Array.from(uniform(count, seed + 1), (u) => Math.min(k - 1, Math.floor(u * k)));
  const z = tf.tidy(() => {
    const { loc, logScale } = vaePriorComponents(vae);
    const index = tf.tensor1d(picks, 'int32');
    return reparameterise({ loc: tf.gather(loc, index), logScale: tf.gather(logScale, index) }, tf.tensor2d(eps, [count, zDim]));
  });
  const codes = z.dataSync() as Float32Array;
  z.dispose();
  return vaeDecode(vae, codes);
}
