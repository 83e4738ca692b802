/**
 * Test log-likelihood of recorded runs, and the VAE/GMVAE runs that CS236 evaluates that way.
 *
 * evaluateLikelihood(dir) reads either kind of run directory: an M2 run (run.json with best/ and
 * checkpoint/) or a VAE run (vae.json with its networks, as `ssvae vae` writes it). It scores a
 * fixed binarisation of the test images (pixel d of image i is 1 with probability x_id, drawn
 * once from a seed), so every model is measured on the same binary images, where the Bernoulli
 * likelihood is a probability. The result goes to DIR/likelihood.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../core/backend';
import { writeFileAtomic } from '../core/files';
import { loadNamedDataset } from '../data/datasets';
import { binarizeImages, LIKELIHOOD_FILE, scoreLikelihood, type LikelihoodModel, type LikelihoodRecord } from '../analysis/likelihood';
import { resolveConfig } from '../model/config';
import { createM2, disposeM2 } from '../model/m2';
import { CS236_PRESET, disposeVae, resolveVaeConfig, type VaeConfig } from '../model/vae';
import { loadM2Into } from '../train/checkpoint';
import { describeEnvironment, readRunRecord } from '../train/records';
import { loadVae, savedVaeRecord, saveVae, trainVae, type VaeEpochRecord } from '../train/vae';

export interface LikelihoodOptions {
  sampleCounts: number[];
  /** Score the first `images` test images only (default all). */
  images?: number;
  /** The seed of the binarisation and of the samples (default 0). */
  seed?: number;
  weights?: 'best' | 'last';
  onProgress?: (done: number, total: number) => void;
}

/** The IWAE bounds (and for a VAE run the ELBO's terms) of the run in `dir` on the binarised test images, written to dir/likelihood.json. */
export async function evaluateLikelihood(dir: string, options: LikelihoodOptions): Promise<LikelihoodRecord> {
  const backend = await initBackend();
  const seed = options.seed ?? 0;
  const isVae = fs.existsSync(path.join(dir, 'vae.json'));
  if (!isVae && !fs.existsSync(path.join(dir, 'run.json')))
    throw new Error(`${dir}: neither an M2 run (run.json) nor a VAE run (vae.json)`);
  const loaded = isVae ? vaeModel(dir) : m2Model(dir, options.weights ?? 'best');
  try {
    const dataset = loadNamedDataset(loaded.dataset);
    const count = Math.min(options.images ?? dataset.test.count, dataset.test.count);
    const images = binarizeImages(dataset.test.images.subarray(0, count * dataset.pixels), seed);
    const record: LikelihoodRecord = {
      ...scoreLikelihood(
        loaded.model,
        images,
        { sampleCounts: options.sampleCounts, seed, binarizeSeed: seed, onProgress: options.onProgress },
        loaded.describe,
      ),
      environment: describeEnvironment(backend.name),
    };
    writeFileAtomic(path.join(dir, LIKELIHOOD_FILE), `${JSON.stringify(record, null, 2)}\n`);
    return record;
  } finally {
    loaded.dispose();
  }
}

interface LoadedModel {
  model: LikelihoodModel;
  dataset: string;
  describe: Pick<LikelihoodRecord, 'model' | 'seed' | 'labels' | 'weights'>;
  dispose: () => void;
}

function vaeModel(dir: string): LoadedModel {
  const { vae, record } = loadVae(dir);
  const model = record.config.prior === 'mixture' ? 'gmvae' : 'vae';
  return {
    model: { kind: 'vae', vae },
    dataset: record.config.dataset,
    describe: { model, seed: record.config.seed },
    dispose: () => disposeVae(vae),
  };
}

function m2Model(dir: string, weights: 'best' | 'last'): LoadedModel {
  const record = readRunRecord(dir);
  const config = resolveConfig(record.config);
  if (config.likelihood !== 'bernoulli' || config.variant === 'm1' || config.variant === 'baseline')
    throw new Error(`${dir}: a ${config.variant} run has no model of the pixels to score (M2 variants only)`);
  const m2 = createM2(config, config.seed);
  try {
    loadM2Into(path.join(dir, weights === 'best' ? 'best' : 'checkpoint'), m2);
  } catch (err) {
    disposeM2(m2);
    throw err;
  }
  return {
    model: { kind: 'm2', m2 },
    dataset: config.dataset,
    describe: { model: config.variant, seed: config.seed, labels: config.labels, weights },
    dispose: () => disposeM2(m2),
  };
}

export const VAE_MODELS = ['vae', 'gmvae'] as const;
export type VaeModelName = (typeof VAE_MODELS)[number];

/** The configuration of `ssvae vae`: the model's prior, the preset, then any overrides. */
export function vaeRunConfig(model: VaeModelName, preset: 'cs236' | 'none', overrides: Partial<VaeConfig>): VaeConfig {
  return resolveVaeConfig({ ...(preset === 'cs236' ? CS236_PRESET : {}), prior: model === 'gmvae' ? 'mixture' : 'gaussian', ...overrides });
}

/** Where a VAE run directory stands: nothing yet, a checkpoint to resume, trained but not scored, or scored. */
export type VaeRunState = { kind: 'new' } | { kind: 'resumable'; epochsDone: number } | { kind: 'trained' } | { kind: 'scored' };

/** The state of `dir` for the run `config`; an error if dir holds a finished run with other settings. */
export function vaeRunState(dir: string, config: VaeConfig): VaeRunState {
  const saved = savedVaeRecord(dir);
  if (saved !== undefined) {
    // xDim is set from the data at training time.
    if (JSON.stringify({ ...saved.config, xDim: config.xDim }) !== JSON.stringify(config))
      throw new Error(`${dir} holds a VAE run with other settings; move it away or choose another --out`);
    if (saved.finished) return fs.existsSync(path.join(dir, LIKELIHOOD_FILE)) ? { kind: 'scored' } : { kind: 'trained' };
  }
  const checkpoint = savedVaeRecord(path.join(dir, 'checkpoint'));
  return checkpoint === undefined ? { kind: 'new' } : { kind: 'resumable', epochsDone: checkpoint.epochs.length };
}

/**
 * Trains one VAE or GMVAE into `dir` (vae.json and its networks) unless dir holds it finished
 * with the same configuration, resuming from dir/checkpoint/ if an earlier attempt was killed;
 * an error if dir holds a run with another configuration.
 */
export async function trainVaeRun(
  config: VaeConfig,
  dir: string,
  onEpoch?: (entry: VaeEpochRecord) => void,
): Promise<'trained' | 'finished'> {
  const state = vaeRunState(dir, config);
  if (state.kind === 'trained' || state.kind === 'scored') return 'finished';
  // Checkpoints every epoch in dir/checkpoint/, which the final save replaces: a killed run resumes.
  const { vae, record } = await trainVae(config, { cache: false, onEpoch, checkpointDir: path.join(dir, 'checkpoint') });
  try {
    await saveVae(dir, vae, record);
  } finally {
    disposeVae(vae);
  }
  return 'trained';
}
