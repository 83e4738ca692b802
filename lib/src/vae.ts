/**
 * A plain, unsupervised variational autoencoder (Kingma & Welling 2014): the model M2 grows
 * out of. Notebook-independent: it trains, records, caches, and maps images to and from z.
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
 * A trained VAE is cached like an M2 run: data/cache/vae-…-<hash of the config>/ holds its
 * record (vae.json) and weights, and asking for the same configuration again loads them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend, tf } from './backend';
import { configHash, projectDataDir } from './cache';
import { readNetworkInto, serialise, writeNetwork } from './checkpoint';
import { loadDataset, type Dataset } from './data';
import { readableDir, replaceDirAtomic } from './files';
import type { Gaussian } from './model';
import { bernoulliLogLikelihood, gaussianKl, reparameterise } from './objectives';
import { Adam } from './optimizer';
import { drawSeed, makeRng, shuffleInPlace, standardNormal } from './random';
import { describeEnvironment, type Environment } from './records';

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
  dataset: 'mnist',
};

/** Fills in defaults and checks the fields; one error naming the first bad one. */
export function resolveVaeConfig(overrides: Partial<VaeConfig> = {}): VaeConfig {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<VaeConfig>;
  const config: VaeConfig = { ...VAE_DEFAULTS, ...given };
  for (const name of ['zDim', 'xDim', 'epochs', 'batchSize'] as const) {
    if (!Number.isInteger(config[name]) || config[name] <= 0) throw new Error(`vae config.${name} must be a positive integer, got ${JSON.stringify(config[name])}`);
  }
  if (!Number.isInteger(config.seed) || config.seed < 0) throw new Error(`vae config.seed must be a non-negative integer, got ${config.seed}`);
  if (!Array.isArray(config.hidden) || config.hidden.length === 0 || !config.hidden.every((h) => Number.isInteger(h) && h > 0)) {
    throw new Error(`vae config.hidden must be a non-empty list of positive integers, got ${JSON.stringify(config.hidden)}`);
  }
  if (!(config.lr > 0)) throw new Error(`vae config.lr must be positive, got ${config.lr}`);
  return config;
}

export interface Vae {
  config: VaeConfig;
  /** q(z|x): x [B, D] → [μ, log σ] concatenated [B, 2Z]. */
  encoder: tf.LayersModel;
  /** p(x|z): z [B, Z] → Bernoulli logits [B, D]. */
  decoder: tf.LayersModel;
}

function mlp(name: string, input: tf.SymbolicTensor, hidden: number[], outputSize: number, seed: number): tf.SymbolicTensor {
  let h = input;
  [...hidden, outputSize].forEach((units, i) => {
    const last = i === hidden.length;
    h = tf.layers
      .dense({
        units,
        activation: last ? 'linear' : 'softplus',
        kernelInitializer: tf.initializers.glorotNormal({ seed: seed + i }),
        biasInitializer: tf.initializers.zeros(),
        name: `${name}_dense${i}`,
      })
      .apply(h) as tf.SymbolicTensor;
  });
  return h;
}

/** Builds encoder and decoder, initialised from config.seed (Glorot-normal weights, zero biases). */
export function createVae(config: VaeConfig): Vae {
  const x = tf.input({ shape: [config.xDim], name: 'x' });
  const encoder = tf.model({ inputs: x, outputs: mlp('vae_encoder', x, config.hidden, 2 * config.zDim, config.seed * 1000 + 51), name: 'vae_encoder' });
  const z = tf.input({ shape: [config.zDim], name: 'z' });
  const decoder = tf.model({ inputs: z, outputs: mlp('vae_decoder', z, config.hidden, config.xDim, config.seed * 1000 + 61), name: 'vae_decoder' });
  return { config, encoder, decoder };
}

export function disposeVae(vae: Vae): void {
  vae.encoder.dispose();
  vae.decoder.dispose();
}

function vaeVariables(vae: Vae): tf.Variable[][] {
  return [vae.encoder, vae.decoder].map((net) => net.trainableWeights.map((w) => w.read() as tf.Variable));
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
  return { elbo: tf.sub(reconstruction, kl) as tf.Tensor1D, reconstruction, kl };
}

/** Batch means in nats per image: −ELBO, −log p(x|z) and KL (each of them is minimised, or is part of what is). */
export interface VaeTerms {
  negativeElbo: number;
  reconstruction: number;
  kl: number;
}

export interface VaeEpochRecord {
  epoch: number;
  seconds: number;
  /** Averaged over the epoch's training batches (the weights changing as it goes). */
  train: VaeTerms;
  /** On the validation split after the epoch, with the same ε every epoch. */
  validation: VaeTerms;
}

export interface VaeRunRecord {
  format: 'ssvae-vae/1';
  config: VaeConfig;
  epochs: VaeEpochRecord[];
  finished: boolean;
  environment: Environment;
  wallSeconds: number;
}

const EVAL_BATCH = 1000;

/** Rows [start, start + n) of a row-major image array as a tensor. */
function rows(images: Float32Array, pixels: number, start: number, n: number): tf.Tensor2D {
  return tf.tensor2d(images.subarray(start * pixels, (start + n) * pixels), [n, pixels]);
}

/** Mean −ELBO, −log p(x|z) and KL over `images` (row-major, `xDim` pixels each), ε drawn from `seed`. */
export function vaeEvaluate(vae: Vae, images: Float32Array, seed: number): VaeTerms {
  const { xDim, zDim } = vae.config;
  const count = images.length / xDim;
  const eps = standardNormal(count * zDim, seed);
  const sums = [0, 0, 0];
  for (let start = 0; start < count; start += EVAL_BATCH) {
    const n = Math.min(EVAL_BATCH, count - start);
    const totals = tf.tidy(() => {
      const t = vaeElbo(vae, rows(images, xDim, start, n), tf.tensor2d(eps.subarray(start * zDim, (start + n) * zDim), [n, zDim]));
      return tf.stack([tf.sum(t.elbo), tf.sum(t.reconstruction), tf.sum(t.kl)]);
    });
    const [elbo, rec, kl] = totals.dataSync() as Float32Array;
    totals.dispose();
    sums[0]! -= elbo as number;
    sums[1]! -= rec as number;
    sums[2]! += kl as number;
  }
  return { negativeElbo: sums[0]! / count, reconstruction: sums[1]! / count, kl: sums[2]! / count };
}

/** One epoch of Adam on −ELBO over shuffled batches (the partial last batch is dropped). */
function trainEpoch(vae: Vae, optimizer: Adam, x: tf.Tensor2D, epoch: number): VaeTerms {
  const { batchSize, zDim, seed } = vae.config;
  const rng = makeRng(seed, `vae-epoch-${epoch}`);
  const count = x.shape[0];
  const order = Int32Array.from({ length: count }, (_, i) => i);
  shuffleInPlace(order, rng);
  const variables = vaeVariables(vae).flat();
  const sums = [0, 0, 0];
  let steps = 0;
  for (let start = 0; start + batchSize <= count; start += batchSize) {
    const batch = tf.tidy(() => tf.gather(x, tf.tensor1d(order.subarray(start, start + batchSize), 'int32')) as tf.Tensor2D);
    const eps = tf.tensor2d(standardNormal(batchSize * zDim, drawSeed(rng)), [batchSize, zDim]);
    let means: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const t = vaeElbo(vae, batch, eps);
      means = tf.keep(tf.stack([tf.neg(tf.mean(t.elbo)), tf.neg(tf.mean(t.reconstruction)), tf.mean(t.kl)]));
      return tf.neg(tf.mean(t.elbo)) as tf.Scalar;
    }, variables);
    try {
      const [negElbo, rec, kl] = (means as tf.Tensor).dataSync() as Float32Array;
      if (!Number.isFinite(negElbo as number)) throw new Error(`VAE training: non-finite loss ${negElbo} at epoch ${epoch}, step ${steps + 1}`);
      optimizer.apply(grads);
      sums[0]! += negElbo as number;
      sums[1]! += rec as number;
      sums[2]! += kl as number;
      steps++;
    } finally {
      tf.dispose([batch, eps, value, means as tf.Tensor]);
      tf.dispose(grads);
    }
  }
  if (steps === 0) throw new Error(`VAE training: ${count} images make no batch of ${batchSize}`);
  return { negativeElbo: sums[0]! / steps, reconstruction: sums[1]! / steps, kl: sums[2]! / steps };
}

/** The cache directory of a VAE configuration: any change of setting is a different entry. */
export function vaeCacheDirFor(config: VaeConfig, cacheRoot = path.join(projectDataDir(), 'cache')): string {
  const hash = configHash(config);
  return path.join(cacheRoot, `vae-z${config.zDim}-e${config.epochs}-s${config.seed}-${hash}`);
}

const NETWORKS = ['encoder', 'decoder'] as const;

/** Writes dir/vae.json (the record) and each network in dir/<net>/ (as checkpoint.ts does for M2), replacing dir atomically. */
export async function saveVae(dir: string, vae: Vae, record: VaeRunRecord): Promise<void> {
  const saved = await Promise.all(NETWORKS.map((name) => serialise(vae[name])));
  replaceDirAtomic(dir, (tmp) => {
    NETWORKS.forEach((name, i) => writeNetwork(path.join(tmp, name), saved[i]!));
    fs.writeFileSync(path.join(tmp, 'vae.json'), `${JSON.stringify(record, null, 2)}\n`);
  });
}

/** Reads a VAE saved by saveVae: its record and a model holding the saved weights. */
export function loadVae(dir: string): { record: VaeRunRecord; vae: Vae } {
  const source = readableDir(dir);
  if (source === undefined) throw new Error(`${dir}: no saved VAE there`);
  const record = JSON.parse(fs.readFileSync(path.join(source, 'vae.json'), 'utf8')) as VaeRunRecord;
  if (record.format !== 'ssvae-vae/1') throw new Error(`${path.join(source, 'vae.json')}: not a VAE record (format ${JSON.stringify(record.format)})`);
  const vae = createVae(record.config);
  try {
    for (const name of NETWORKS) readNetworkInto(path.join(source, name), vae[name]);
  } catch (err) {
    disposeVae(vae);
    throw err;
  }
  return { record, vae };
}

export interface TrainVaeOptions {
  /** A dataset already loaded (otherwise loaded from config.dataset); its train split is used without labels. */
  dataset?: Dataset;
  /** Keep the run in the cache (default true); false trains in memory only. */
  cache?: boolean;
  /** Retrain even if the cache holds this configuration. */
  force?: boolean;
  cacheRoot?: string;
  /** Called after every epoch, e.g. to print one line. */
  onEpoch?: (entry: VaeEpochRecord, record: VaeRunRecord) => void;
}

export interface VaeRun {
  record: VaeRunRecord;
  /** The trained model; the caller disposes it (disposeVae). */
  vae: Vae;
  /** The cache directory (when cached). */
  dir?: string;
  fromCache: boolean;
}

/**
 * Trains a VAE on the train split's images (labels unused), evaluating −ELBO on the validation
 * split after every epoch; or loads it from the cache if this configuration was trained before.
 */
export async function trainVae(overrides: Partial<VaeConfig> = {}, options: TrainVaeOptions = {}): Promise<VaeRun> {
  const backend = await initBackend();
  let config = resolveVaeConfig(overrides);
  const dataset = options.dataset ?? loadDataset(config.dataset === 'mnist' ? {} : { dataDir: config.dataset });
  if (dataset.pixels !== config.xDim) config = resolveVaeConfig({ ...config, xDim: dataset.pixels });
  const useCache = options.cache ?? true;
  const dir = useCache ? vaeCacheDirFor(config, options.cacheRoot) : undefined;
  if (dir && options.force) fs.rmSync(dir, { recursive: true, force: true });
  if (dir && fs.existsSync(path.join(dir, 'vae.json'))) {
    try {
      const loaded = loadVae(dir);
      if (loaded.record.finished) return { ...loaded, dir, fromCache: true };
      disposeVae(loaded.vae);
    } catch {
      // An unreadable entry is retrained below.
    }
  }

  const vae = createVae(config);
  const optimizer = new Adam(vaeVariables(vae), { lr: config.lr, beta1: config.beta1, beta2: config.beta2 });
  const x = tf.tensor2d(dataset.train.images, [dataset.train.count, config.xDim]);
  const record: VaeRunRecord = { format: 'ssvae-vae/1', config, epochs: [], finished: false, environment: describeEnvironment(backend.name), wallSeconds: 0 };
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const started = process.hrtime.bigint();
      const trainTerms = trainEpoch(vae, optimizer, x, epoch);
      const validation = vaeEvaluate(vae, dataset.validation.images, drawSeed(makeRng(config.seed, 'vae-validation')));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      record.wallSeconds += seconds;
      const entry: VaeEpochRecord = { epoch, seconds, train: trainTerms, validation };
      record.epochs.push(entry);
      record.finished = epoch === config.epochs;
      options.onEpoch?.(entry, record);
      // Let the event loop run between epochs (a notebook's progress lines go out here).
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (dir) await saveVae(dir, vae, record);
  } catch (err) {
    disposeVae(vae);
    throw err;
  } finally {
    x.dispose();
    optimizer.dispose();
  }
  return { record, vae, dir, fromCache: false };
}

/** Applies `f` to `images` (row-major, xDim each) in batches; returns the rows of its [n, width] outputs, concatenated. */
function mapBatches(vae: Vae, images: Float32Array, width: number, f: (x: tf.Tensor2D) => tf.Tensor2D): Float32Array {
  const { xDim } = vae.config;
  const count = images.length / xDim;
  if (!Number.isInteger(count)) throw new Error(`${images.length} values are not a whole number of ${xDim}-pixel images`);
  const out = new Float32Array(count * width);
  for (let start = 0; start < count; start += EVAL_BATCH) {
    const n = Math.min(EVAL_BATCH, count - start);
    const y = tf.tidy(() => f(rows(images, xDim, start, n)));
    out.set(y.dataSync() as Float32Array, start * width);
    y.dispose();
  }
  return out;
}

/** μ(x), the mean of q(z|x), for each image: row-major [n, Z]. */
export function vaeEncodeMean(vae: Vae, images: Float32Array): Float32Array {
  return mapBatches(vae, images, vae.config.zDim, (x) => vaeEncode(vae, x).loc);
}

/** Reconstructions: the pixel probabilities sigmoid(decoder(μ(x))) of each image, row-major [n, D]. */
export function vaeReconstruct(vae: Vae, images: Float32Array): Float32Array {
  return mapBatches(vae, images, vae.config.xDim, (x) => tf.sigmoid(vaeDecodeLogits(vae, vaeEncode(vae, x).loc)));
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
