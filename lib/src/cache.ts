/**
 * Trained runs cached on disk by configuration, so that a notebook (or anyone) needing a
 * model trained earlier loads it instead of retraining. A cache entry is an ordinary run
 * directory (run.json, checkpoint/, best/) under data/cache/, named by variant, N and a hash of
 * the full resolved configuration: any change of setting is a different entry.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from './backend';
import { loadM2Into } from './checkpoint';
import { resolveConfig, type TrainConfig } from './config';
import { createM2, type M2 } from './model';
import { readRunRecord, type RunRecord } from './records';
import { isResumable, train, type TrainOptions } from './train';

/** The project's data/ folder (next to lib/). */
export function projectDataDir(): string {
  return path.resolve(__dirname, '..', '..', 'data');
}

/** JSON with object keys sorted, so that equal settings always give the same text. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A short hash of a configuration: any change of setting gives another one. */
export function configHash(config: object): string {
  return crypto.createHash('sha256').update(stableJson(config)).digest('hex').slice(0, 12);
}

/** The cache directory of a configuration. */
export function cacheDirFor(config: TrainConfig, cacheRoot = path.join(projectDataDir(), 'cache')): string {
  const hash = configHash(config);
  return path.join(cacheRoot, `${config.variant}-n${config.labels}-e${config.epochs}-s${config.seed}-${hash}`);
}

export interface CachedTrainOptions extends Omit<TrainOptions, 'outDir' | 'resume' | 'keepModel'> {
  /** Retrain even if the cache holds this run. */
  force?: boolean;
  cacheRoot?: string;
  /** Which weights to hand back: the best validation epoch's (default) or the last epoch's. */
  weights?: 'best' | 'last';
}

export interface CachedRun {
  record: RunRecord;
  model: M2;
  /** Where the run lives on disk. */
  dir: string;
  /** True if it was loaded rather than trained now. */
  fromCache: boolean;
}

/** Trains `overrides` (or resumes a partial run) unless the cache already holds it finished; returns record and model. */
export async function trainCached(overrides: Partial<TrainConfig>, options: CachedTrainOptions = {}): Promise<CachedRun> {
  await initBackend();
  const config = resolveConfig(overrides);
  const dir = cacheDirFor(config, options.cacheRoot);
  const { force, cacheRoot: _root, weights = 'best', ...trainOptions } = options;
  let fromCache = false;
  if (force) fs.rmSync(dir, { recursive: true, force: true });
  if (fs.existsSync(path.join(dir, 'run.json')) && readRunRecord(dir).result.finished) {
    fromCache = true;
  } else {
    const resume = isResumable(dir);
    if (!resume) fs.rmSync(dir, { recursive: true, force: true });
    await train(resume ? { epochs: config.epochs } : config, { ...trainOptions, outDir: dir, resume });
  }
  const record = readRunRecord(dir);
  const model = createM2(record.config, record.config.seed);
  loadM2Into(path.join(dir, weights === 'best' ? 'best' : 'checkpoint'), model);
  return { record, model, dir, fromCache };
}
