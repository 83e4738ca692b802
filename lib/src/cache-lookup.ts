/**
 * Looking a run up in the cache of trained runs (cache.ts) without training it: for a
 * comparison that uses a run if someone has trained it already and does without it otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheDirFor } from './cache';
import { resolveConfig, type TrainConfig } from './config';
import { readRunRecord, type RunRecord } from './records';

/** The record of the finished cached run with exactly this configuration, or undefined. */
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
