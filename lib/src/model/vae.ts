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
 */
import { tf } from '../core/backend';
import { mapRowBatches, rowCount } from '../core/batches';
import { standardNormal } from '../core/random';
import { checkPositiveInts, checkTraining, stripUndefined } from './config';
import { mlp } from './layers';
import type { Gaussian } from './m2';
import { bernoulliLogLikelihood, gaussianKl, reparameterise } from './objectives';

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
   * Train on pixels binarised afresh in every batch, x̃_d ~ Bernoulli(x_d) (dynamic binarisation, as
   * Kingma et al. train M1), rather than on the grey levels (false, the default). The validation
   * bound is computed on the grey levels either way.
   */
  binarize: boolean;
  /** 'mnist', the directory of a dataset in MNIST's IDX layout, or the name of the Dataset passed to trainVae. */
  dataset: string;
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
  binarize: false,
  dataset: 'mnist',
};

/** Fills in defaults and checks the fields; one error naming the first bad one. */
export function resolveVaeConfig(overrides: Partial<VaeConfig> = {}): VaeConfig {
  const config: VaeConfig = { ...VAE_DEFAULTS, ...stripUndefined(overrides) };
  checkPositiveInts('vae config', config, ['zDim', 'xDim', 'epochs', 'batchSize']);
  checkTraining('vae config', config);
  if (!(config.klWeight >= 0)) throw new Error(`vae config.klWeight must be non-negative, got ${config.klWeight}`);
  if (typeof config.binarize !== 'boolean')
    throw new Error(`vae config.binarize must be true or false, got ${JSON.stringify(config.binarize)}`);
  return config;
}

export interface Vae {
  config: VaeConfig;
  /** q(z|x): x [B, D] → [μ, log σ] concatenated [B, 2Z]. */
  encoder: tf.LayersModel;
  /** p(x|z): z [B, Z] → Bernoulli logits [B, D]. */
  decoder: tf.LayersModel;
}

/** Builds encoder and decoder, initialised from config.seed (Glorot-normal weights, zero biases). */
export function createVae(config: VaeConfig): Vae {
  const x = tf.input({ shape: [config.xDim], name: 'x' });
  const encoder = tf.model({
    inputs: x,
    outputs: mlp('vae_encoder', x, config.hidden, 2 * config.zDim, { init: 'glorot-normal', seed: config.seed * 1000 + 51 }),
    name: 'vae_encoder',
  });
  const z = tf.input({ shape: [config.zDim], name: 'z' });
  const decoder = tf.model({
    inputs: z,
    outputs: mlp('vae_decoder', z, config.hidden, config.xDim, { init: 'glorot-normal', seed: config.seed * 1000 + 61 }),
    name: 'vae_decoder',
  });
  return { config, encoder, decoder };
}

export function disposeVae(vae: Vae): void {
  vae.encoder.dispose();
  vae.decoder.dispose();
}

/** The VAE's networks, in the order of vaeVariables and of a saved VAE's folders. */
export const VAE_NETWORKS = ['encoder', 'decoder'] as const;

/** The trainable variables of each network: [encoder, decoder]. */
export function vaeVariables(vae: Vae): tf.Variable[][] {
  return VAE_NETWORKS.map((name) => vae[name]).map((net) => net.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** q(z|x): μ and log σ, [B, Z] each. */
export function vaeEncode(vae: Vae, x: tf.Tensor2D): Gaussian {
  const out = vae.encoder.apply(x) as tf.Tensor2D; //                   [B, 2Z]
  const [loc, logScale] = tf.split(out, [vae.config.zDim, vae.config.zDim], 1) as [tf.Tensor2D, tf.Tensor2D];
  return { loc, logScale };
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
  /** KL(q(z|x) ‖ p(z)), [B]. */
  kl: tf.Tensor1D;
  /** q(z|x) itself, μ and log σ [B, Z]. */
  q: Gaussian;
}

/**
 * ELBO(x) with one reparameterised sample z = μ(x) + σ(x) ⊙ ε, ε [B, Z] ~ N(0, I):
 *   ELBO(x) ≈ log p(x|z) − KL(q(z|x) ‖ p(z))
 */
export function vaeElbo(vae: Vae, x: tf.Tensor2D, eps: tf.Tensor2D): ElboTerms {
  const q = vaeEncode(vae, x);
  const z = reparameterise(q, eps); //                                  [B, Z]
  const reconstruction = bernoulliLogLikelihood(x, vaeDecodeLogits(vae, z)) as tf.Tensor1D;
  const kl = gaussianKl(q);
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

/** `count` images generated from the prior: z ~ N(0, I) drawn from `seed`, then sigmoid(decoder(z)), [count, D]. */
export function vaeSample(vae: Vae, count: number, seed: number): Float32Array {
  return vaeDecode(vae, standardNormal(count * vae.config.zDim, seed));
}
