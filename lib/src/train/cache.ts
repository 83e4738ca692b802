/**
 * Trained runs cached on disk, so that a notebook (or anyone) needing a model trained earlier
 * loads it instead of retraining. A cache entry is an ordinary run directory (run.json,
 * checkpoint/, best/) under data/cache/, named by variant, N, epochs and seed, a hash of the full
 * resolved configuration and the version of the library code that trains (codeVersion): a change
 * of setting, or of the code that computes the run, is a different entry. Every load says which
 * entry it read, how old it is and the code version; an unreadable entry is reported and trained
 * again. Within one process, asking again for a run already loaded hands back the same model.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../core/backend';
import { cacheEntryDir, codeVersion, defaultCacheRoot, lookUpEntry, trainingReason } from './cache-entries';
import { loadM2Into } from './checkpoint';
import { resolveConfig, type TrainConfig, type TrainSettings } from '../model/config';
import { createM2, disposeM2, M2_NETWORKS, type M2 } from '../model/m2';
import { readRunRecord, type RunRecord } from './records';
import { takeLockWaiting } from './run-dir';
import { isResumable, train, type TrainOptions } from './trainer';

/** The cache directory of a configuration, trained by library code `code`. */
export function cacheDirFor(config: TrainConfig, cacheRoot = defaultCacheRoot(), code = codeVersion()): string {
  return cacheEntryDir(cacheRoot, `${config.variant}-n${config.labels}-e${config.epochs}-s${config.seed}`, config, code);
}

export interface CachedTrainOptions extends Omit<TrainOptions, 'outDir' | 'resume' | 'keepModel'> {
  /** Retrain even if the cache holds this run. */
  force?: boolean;
  cacheRoot?: string;
  /** Which weights to hand back: the best validation epoch's (default) or the last epoch's. */
  weights?: 'best' | 'last';
  /** Where the cache says what it did: loaded (from where, how old), or why it trains again. Default console.log. */
  log?: (line: string) => void;
  /** The code version to key the entry by (default codeVersion()). */
  code?: string;
}

export interface CachedRun {
  record: RunRecord;
  model: M2;
  /** Where the run lives on disk. */
  dir: string;
  /** True if it was loaded rather than trained now. */
  fromCache: boolean;
}

/** How long trainCached waits for another process that trains the same entry. */
const ENTRY_LOCK_WAIT_MS = 6 * 3600_000;

/** Runs loaded in this process, by directory and weights: asking again hands back the same model. */
const held = new Map<string, CachedRun>();

/** Loads a cache entry's record and weights; throws if either is unreadable. */
function loadEntry(dir: string, weights: 'best' | 'last'): { record: RunRecord; model: M2 } {
  const record = readRunRecord(dir);
  const model = createM2(record.config, record.config.seed);
  try {
    loadM2Into(path.join(dir, weights === 'best' ? 'best' : 'checkpoint'), model);
  } catch (err) {
    disposeM2(model);
    throw err;
  }
  return { record, model };
}

/**
 * Trains `overrides` (or resumes a partial run) unless the cache already holds it finished;
 * returns record and model. The model stays in use for the rest of the process (a notebook's
 * kernel): a later call for the same run returns it again, so re-running a notebook cell neither
 * leaks it nor finds it disposed. `force` trains again.
 */
export async function trainCached(overrides: TrainSettings, options: CachedTrainOptions = {}): Promise<CachedRun> {
  await initBackend();
  const config = resolveConfig(overrides);
  const { force, cacheRoot, weights = 'best', log = (line: string) => console.log(line), code = codeVersion(), ...trainOptions } = options;
  const dir = cacheDirFor(config, cacheRoot, code);
  // Two processes asking for the same run at once (two notebooks open side by side) must not
  // both train it into one directory: the second waits for the first, then loads what it saved.
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const release = await takeLockWaiting(`${dir}.lock`, `the cache entry ${path.basename(dir)}`, ENTRY_LOCK_WAIT_MS, 1000, log);
  try {
    const key = `${dir}#${weights}`;
    const { entry, unreadable } = lookUpEntry(
      held,
      key,
      dir,
      { code, force: force === true, log },
      {
        recordFile: 'run.json',
        load: () => {
          const loaded = loadEntry(dir, weights);
          return { entry: { ...loaded, dir, fromCache: true }, finished: loaded.record.result.finished };
        },
        networks: (run) => M2_NETWORKS.map((name) => run.model[name]),
      },
    );
    if (entry) return { ...entry, fromCache: true };
    const resume = unreadable === undefined && isResumable(dir);
    if (!resume) {
      const reason = trainingReason(dir, code, unreadable);
      if (reason) log(reason);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await train(resume ? { epochs: config.epochs } : config, { ...trainOptions, outDir: dir, resume, m1: { cacheRoot, log } });
    const run = { ...loadEntry(dir, weights), dir, fromCache: false };
    held.set(key, run);
    return run;
  } finally {
    release();
  }
}

/**
 * The record of the finished cached run with exactly this configuration, or undefined: looks a
 * run up without training it, for a comparison that uses a run if someone has trained it already.
 */
export function findCachedRun(overrides: TrainSettings, cacheRoot?: string, code = codeVersion()): RunRecord | undefined {
  const dir = cacheDirFor(resolveConfig(overrides), cacheRoot, code);
  if (!fs.existsSync(path.join(dir, 'run.json'))) return undefined;
  try {
    const record = readRunRecord(dir);
    return record.result.finished ? record : undefined;
  } catch {
    return undefined;
  }
}
