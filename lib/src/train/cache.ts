/**
 * Trained runs cached on disk by configuration, so that a notebook (or anyone) needing a
 * model trained earlier loads it instead of retraining. A cache entry is an ordinary run
 * directory (run.json, checkpoint/, best/) under data/cache/, named by variant, N and a hash of
 * the full resolved configuration: any change of setting is a different entry.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../core/backend';
import { configHash } from '../core/hash';
import { projectDataDir } from '../core/paths';
import { loadM2Into } from './checkpoint';
import { resolveConfig, type TrainConfig } from '../model/config';
import { createM2, type M2 } from '../model/m2';
import { readRunRecord, type RunRecord } from './records';
import { isResumable, train, type TrainOptions } from './trainer';

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

/**
 * The record of the finished cached run with exactly this configuration, or undefined: looks a
 * run up without training it, for a comparison that uses a run if someone has trained it already.
 */
export function findCachedRun(overrides: Partial<TrainConfig>, cacheRoot?: string): RunRecord | undefined {
  const dir = cacheDirFor(resolveConfig(overrides), cacheRoot);
  if (!fs.existsSync(path.join(dir, 'run.json'))) return undefined;
  try {
    const record = readRunRecord(dir);
    return record.result.finished ? record : undefined;
  } catch {
    return undefined;
  }
}
