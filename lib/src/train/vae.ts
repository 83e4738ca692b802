/**
 * Training the plain VAE (model/vae.ts): Adam on −ELBO over shuffled batches, the bound on the
 * validation split after every epoch, and the run record. A trained VAE is cached like an M2 run:
 * data/cache/vae-…-<hash of the config>/ holds its record (vae.json) and weights, and asking for
 * the same configuration again loads them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zip } from '../core/arrays';
import { initBackend, tf } from '../core/backend';
import { forEachRowBatch } from '../core/batches';
import { readableDir, readJsonFile, replaceDirAtomic } from '../core/files';
import { drawSeed, makeRng, shuffleInPlace, standardNormal, uniform } from '../core/random';
import { loadNamedDataset, type Dataset } from '../data/datasets';
import { Adam } from '../model/optimizer';
import { createVae, disposeVae, resolveVaeConfig, VAE_NETWORKS, vaeElbo, vaeVariables, type Vae, type VaeConfig } from '../model/vae';
import { gaussianKlPerDimension } from '../model/objectives';
import { cacheEntryDir, codeVersion, defaultCacheRoot, lookUpEntry, trainingReason } from './cache-entries';
import { optimizerFiles, readNetworkInto, readOptimizerInto, serialise, writeNetwork, writeOptimizer } from './checkpoint';
import { describeEnvironment, threadChangeNote, type Environment } from './records';
import { gradientStep, TrainingDiverged } from './step';

/** Batch means in nats per image: −ELBO, −log p(x|z) and KL (each of them is minimised, or is part of what is). */
export interface VaeTerms {
  negativeElbo: number;
  reconstruction: number;
  kl: number;
  /** The KL's share of each dimension of z (validation only; absent in records written before it existed). */
  klPerDimension?: number[];
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
  /** The environment the VAE's training started in (kept when a checkpoint is continued). */
  environment: Environment;
  /** Seconds of wall time over all sessions of the training. */
  wallSeconds: number;
}

/** Mean −ELBO, −log p(x|z), KL and KL per dimension of z over `images` (row-major, `xDim` pixels each), ε drawn from `seed`. */
export function vaeEvaluate(vae: Vae, images: Float32Array, seed: number): VaeTerms {
  const { xDim, zDim } = vae.config;
  const count = images.length / xDim;
  const eps = standardNormal(count * zDim, seed);
  const sums = { elbo: 0, reconstruction: 0, kl: 0 };
  const perDimension = new Float64Array(zDim);
  forEachRowBatch(images, xDim, (x, start, n) => {
    const totals = tf.tidy(() => {
      const t = vaeElbo(vae, x, tf.tensor2d(eps.subarray(start * zDim, (start + n) * zDim), [n, zDim]));
      // Per dimension only where the KL is N(0, I)'s closed form.
      const klByDim = vae.prior ? tf.zeros([zDim]) : tf.sum(gaussianKlPerDimension(t.q), 0);
      return tf.concat([tf.stack([tf.sum(t.elbo), tf.sum(t.reconstruction), tf.sum(t.kl)]), klByDim]);
    });
    const [elbo = NaN, reconstruction = NaN, kl = NaN, ...byDim] = totals.dataSync();
    totals.dispose();
    sums.elbo += elbo;
    sums.reconstruction += reconstruction;
    sums.kl += kl;
    byDim.forEach((v, j) => (perDimension[j] = (perDimension[j] ?? 0) + v));
  });
  return {
    negativeElbo: -sums.elbo / count,
    reconstruction: -sums.reconstruction / count,
    kl: sums.kl / count,
    ...(vae.prior ? {} : { klPerDimension: Array.from(perDimension, (v) => v / count) }),
  };
}

/**
 * The KL weight β of step `step` (0-based) of epoch `epoch` (1-based), with `stepsPerEpoch` steps
 * an epoch: config.klWeight, times min(1, t / T) during warm-up, t the step's number counted from
 * 1 over the whole run and T = klWarmup · stepsPerEpoch.
 */
export function klWeightAt(config: Pick<VaeConfig, 'klWeight' | 'klWarmup'>, epoch: number, step: number, stepsPerEpoch: number): number {
  if (config.klWarmup === 0) return config.klWeight;
  const t = (epoch - 1) * stepsPerEpoch + step + 1;
  return config.klWeight * Math.min(1, t / (config.klWarmup * stepsPerEpoch));
}

/**
 * One epoch of Adam on −ELBO (−E[log p(x|z)] + β·KL) over shuffled batches (the partial last batch
 * is dropped), on binarised pixels if config.binarize; β as klWeightAt gives it.
 */
function trainEpoch(vae: Vae, optimizer: Adam, x: tf.Tensor2D, epoch: number): VaeTerms {
  const { batchSize, zDim, seed, binarize } = vae.config;
  const rng = makeRng(seed, `vae-epoch-${epoch}`);
  const count = x.shape[0];
  const order = Int32Array.from({ length: count }, (_, i) => i);
  shuffleInPlace(order, rng);
  const variables = vaeVariables(vae).flat();
  const sums = { negativeElbo: 0, reconstruction: 0, kl: 0 };
  let steps = 0;
  const stepsPerEpoch = Math.floor(count / batchSize);
  for (let start = 0; start + batchSize <= count; start += batchSize) {
    const klWeight = klWeightAt(vae.config, epoch, steps, stepsPerEpoch);
    const batch = tf.tidy(() => {
      const grey = tf.gather(x, tf.tensor1d(order.subarray(start, start + batchSize), 'int32')) as tf.Tensor2D;
      if (!binarize) return grey;
      // x̃ = 1 where u < x, u ~ U[0, 1): a Bernoulli(x) draw per pixel.
      return tf.less(tf.tensor2d(uniform(grey.size, drawSeed(rng)), grey.shape), grey).toFloat() as tf.Tensor2D;
    });
    const eps = tf.tensor2d(standardNormal(batchSize * zDim, drawSeed(rng)), [batchSize, zDim]);
    try {
      const { terms } = gradientStep(optimizer, variables, () => {
        const t = vaeElbo(vae, batch, eps);
        const negativeElbo = tf.neg(tf.mean(t.elbo)) as tf.Scalar;
        // −E[log p(x|z)] + β·KL; with β = 1 exactly −ELBO.
        const loss = klWeight === 1 ? negativeElbo : (tf.sub(tf.mul(klWeight, tf.mean(t.kl)), tf.mean(t.reconstruction)) as tf.Scalar);
        return { loss, terms: tf.stack([negativeElbo, tf.neg(tf.mean(t.reconstruction)), tf.mean(t.kl)]) as tf.Tensor1D };
      });
      const [negativeElbo = NaN, reconstruction = NaN, kl = NaN] = terms;
      sums.negativeElbo += negativeElbo;
      sums.reconstruction += reconstruction;
      sums.kl += kl;
      steps++;
    } catch (err) {
      if (err instanceof TrainingDiverged) throw new TrainingDiverged(`VAE training: ${err.message} at epoch ${epoch}, step ${steps + 1}`);
      throw err;
    } finally {
      tf.dispose([batch, eps]);
    }
  }
  if (steps === 0) throw new Error(`VAE training: ${count} images make no batch of ${batchSize}`);
  return { negativeElbo: sums.negativeElbo / steps, reconstruction: sums.reconstruction / steps, kl: sums.kl / steps };
}

/** The cache directory of a VAE configuration: any change of setting is a different entry. */
export function vaeCacheDirFor(config: VaeConfig, cacheRoot = defaultCacheRoot(), code = codeVersion()): string {
  return cacheEntryDir(cacheRoot, `vae-z${config.zDim}-e${config.epochs}-s${config.seed}`, config, code);
}

/**
 * The training checkpoint of a VAE configuration, whatever its number of epochs: a longer run of
 * the same settings continues from the latest epoch a shorter one saved there (see checkpointDir).
 */
export function vaeCheckpointDirFor(config: VaeConfig, cacheRoot = defaultCacheRoot(), code = codeVersion()): string {
  return cacheEntryDir(cacheRoot, `vae-z${config.zDim}-s${config.seed}-checkpoint`, { ...config, epochs: 0 }, code);
}

/** The GMVAE's prior parameters in a saved VAE's folder. */
const PRIOR_FILE = 'prior.json';

/**
 * Writes dir/vae.json (the record), each network in dir/<net>/ (as checkpoint.ts does for M2) and
 * the GMVAE's prior parameters in dir/prior.json, replacing dir atomically.
 */
export async function saveVae(dir: string, vae: Vae, record: VaeRunRecord, optimizer?: Adam): Promise<void> {
  const saved = zip(VAE_NETWORKS, await Promise.all(VAE_NETWORKS.map((name) => serialise(vae[name]))));
  const prior = vae.prior ? { shape: vae.prior.shape, values: Array.from(await vae.prior.data()) } : undefined;
  const opt = optimizer ? optimizerFiles(optimizer) : undefined;
  replaceDirAtomic(dir, (tmp) => {
    for (const [name, network] of saved) writeNetwork(path.join(tmp, name), network);
    if (prior) fs.writeFileSync(path.join(tmp, PRIOR_FILE), `${JSON.stringify(prior)}\n`);
    if (opt) writeOptimizer(tmp, opt);
    fs.writeFileSync(path.join(tmp, 'vae.json'), `${JSON.stringify(record, null, 2)}\n`);
  });
}

/** Reads the networks and the mixture prior saved by saveVae in dir into vae. */
function readVaeInto(dir: string, vae: Vae): void {
  for (const name of VAE_NETWORKS) readNetworkInto(path.join(dir, name), vae[name]);
  readPriorInto(dir, vae);
}

/** Reads dir/prior.json into the VAE's prior variable, checking its shape. */
function readPriorInto(dir: string, vae: Vae): void {
  if (!vae.prior) return;
  const file = path.join(dir, PRIOR_FILE);
  const saved = readJsonFile(file, 'cannot read the mixture prior') as { shape?: number[]; values?: number[] };
  const expected = vae.prior.shape;
  if (JSON.stringify(saved?.shape) !== JSON.stringify(expected) || saved.values?.length !== vae.prior.size)
    throw new Error(`${file}: expected a prior of shape [${expected}], got shape ${JSON.stringify(saved?.shape)}`);
  const values = tf.tensor2d(saved.values, expected as [number, number]);
  vae.prior.assign(values);
  values.dispose();
}

/** Reads a VAE saved by saveVae: its record and a model holding the saved weights. */
export function loadVae(dir: string): { record: VaeRunRecord; vae: Vae } {
  const source = readableDir(dir);
  if (source === undefined) throw new Error(`${dir}: no saved VAE there`);
  const record = readJsonFile(path.join(source, 'vae.json'), 'cannot read the VAE record') as VaeRunRecord;
  if (record?.format !== 'ssvae-vae/1')
    throw new Error(`${path.join(source, 'vae.json')}: not a VAE record (format ${JSON.stringify(record.format)})`);
  // Records written before a setting existed lack its field; the default is what such a run used.
  const vae = createVae(resolveVaeConfig(record.config));
  try {
    readVaeInto(source, vae);
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
  /** Where the cache says what it did: loaded (from where, how old), or why it trains again. Default console.log. */
  log?: (line: string) => void;
  /** The code version to key the cache entry by (default codeVersion()). */
  code?: string;
  /**
   * Save the model, the optimizer and the record here after every epoch, and continue from what
   * is there if it holds an unfinished run of the same configuration (its epochs may be fewer).
   * Each epoch's batches and noise depend only on the seed and the epoch, so a resumed run
   * computes what an uninterrupted one would.
   */
  checkpointDir?: string;
}

/** The record saveVae wrote in dir (a finished run or a checkpoint), or undefined if dir holds none. */
export function savedVaeRecord(dir: string): VaeRunRecord | undefined {
  return savedVae(dir)?.record;
}

/** savedVaeRecord, with the folder it was read from (dir, or its copy left by an interrupted save). */
function savedVae(dir: string): { record: VaeRunRecord; source: string } | undefined {
  const source = readableDir(dir);
  if (source === undefined || !fs.existsSync(path.join(source, 'vae.json'))) return undefined;
  return { record: readJsonFile(path.join(source, 'vae.json'), 'cannot read the VAE record') as VaeRunRecord, source };
}

/**
 * Loads a run of vae's configuration (epochs aside, at most as many) from a checkpoint folder into
 * vae and the optimizer; undefined if the folder holds nothing. An error if it holds another
 * configuration.
 */
function resumeFrom(dir: string, vae: Vae, optimizer: Adam): VaeRunRecord | undefined {
  const found = savedVae(dir);
  if (found === undefined) return undefined;
  const { record: saved, source } = found;
  const sameRun = JSON.stringify({ ...saved.config, epochs: 0 }) === JSON.stringify({ ...vae.config, epochs: 0 });
  if (!sameRun) throw new Error(`${dir}: holds a checkpoint of a VAE with other settings`);
  if (saved.epochs.length > vae.config.epochs)
    throw new Error(`${dir}: the checkpoint has ${saved.epochs.length} epochs, more than the ${vae.config.epochs} asked for`);
  readVaeInto(source, vae);
  readOptimizerInto(source, optimizer);
  return saved;
}

/** VAEs loaded from the cache in this process, by directory: asking again hands back the same model. */
const held = new Map<string, VaeRun>();

export interface VaeRun {
  record: VaeRunRecord;
  /**
   * The trained model. One from the cache stays in use for the process (the next call for the same
   * configuration returns it again, or loads it again if it was disposed); one trained with
   * `cache: false` is the caller's to dispose.
   */
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
  const dataset = options.dataset ?? loadNamedDataset(config.dataset);
  if (dataset.pixels !== config.xDim) config = resolveVaeConfig({ ...config, xDim: dataset.pixels });
  const useCache = options.cache ?? true;
  const code = options.code ?? codeVersion();
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = useCache ? vaeCacheDirFor(config, options.cacheRoot, code) : undefined;
  if (dir) {
    const { entry, unreadable } = lookUpEntry(
      held,
      dir,
      dir,
      { code, force: options.force === true, log },
      {
        recordFile: 'vae.json',
        load: () => {
          const loaded = loadVae(dir);
          return { entry: { ...loaded, dir, fromCache: true }, finished: loaded.record.finished };
        },
        networks: (run) => VAE_NETWORKS.map((name) => run.vae[name]),
      },
    );
    if (entry) return { ...entry, fromCache: true };
    const reason = trainingReason(dir, code, unreadable);
    if (reason) log(reason);
  }

  const vae = createVae(config);
  const optimizer = new Adam(vaeVariables(vae), { lr: config.lr, beta1: config.beta1, beta2: config.beta2 });
  const record: VaeRunRecord = {
    format: 'ssvae-vae/1',
    config,
    epochs: [],
    finished: false,
    environment: describeEnvironment(backend.name),
    wallSeconds: 0,
  };
  const checkpoint = options.checkpointDir;
  try {
    const resumed = checkpoint ? resumeFrom(checkpoint, vae, optimizer) : undefined;
    if (checkpoint && resumed) {
      log(`${checkpoint}: continuing from epoch ${resumed.epochs.length} of ${config.epochs}`);
      const note = threadChangeNote(checkpoint, resumed.environment);
      if (note) log(note);
      // Like a run's record, the VAE's keeps the environment its training started in.
      Object.assign(record, {
        environment: resumed.environment ?? record.environment,
        epochs: resumed.epochs,
        wallSeconds: resumed.wallSeconds,
        finished: resumed.epochs.length === config.epochs,
      });
    }
  } catch (err) {
    disposeVae(vae);
    optimizer.dispose();
    throw err;
  }
  const x = tf.tensor2d(dataset.train.images, [dataset.train.count, config.xDim]);
  try {
    for (let epoch = record.epochs.length + 1; epoch <= config.epochs; epoch++) {
      const started = process.hrtime.bigint();
      const trainTerms = trainEpoch(vae, optimizer, x, epoch);
      const validation = vaeEvaluate(vae, dataset.validation.images, drawSeed(makeRng(config.seed, 'vae-validation')));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      record.wallSeconds += seconds;
      const entry: VaeEpochRecord = { epoch, seconds, train: trainTerms, validation };
      record.epochs.push(entry);
      record.finished = epoch === config.epochs;
      if (checkpoint) await saveVae(checkpoint, vae, record, optimizer);
      options.onEpoch?.(entry, record);
      // Let the event loop run between epochs (a notebook's progress lines go out here).
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (dir) {
      await saveVae(dir, vae, record);
      held.set(dir, { record, vae, dir, fromCache: false });
    }
  } catch (err) {
    disposeVae(vae);
    throw err;
  } finally {
    x.dispose();
    optimizer.dispose();
  }
  return { record, vae, dir, fromCache: false };
}
