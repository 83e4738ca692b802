/**
 * The state of a run directory, seen from someone who wants the run finished: nothing there yet,
 * a run to resume, or a finished run; and a lock so that two processes never train the same
 * directory at once (a sweep restarted while an earlier worker is still alive, two overlapping
 * shards, a command list run twice).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveConfig, type TrainConfig } from '../model/config';
import { readRunRecord, runFile, type RunRecord } from './records';

export type RunState =
  | { kind: 'new' }
  | { kind: 'resumable'; record: RunRecord }
  | { kind: 'finished'; record: RunRecord }
  /** Stopped on a non-finite loss: resuming would replay the same steps, so it is left as it is. */
  | { kind: 'failed'; record: RunRecord };

/** Settings that may differ between a planned run and its record: the length, and what the dataset fixes. */
const NOT_COMPARED = new Set<keyof TrainConfig>(['epochs', 'xDim', 'numClasses']);

/** Fields whose values differ between two configurations, epochs and dataset shape aside. */
export function configDifferences(a: TrainConfig, b: TrainConfig): (keyof TrainConfig)[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof TrainConfig)[]);
  return [...keys].filter((k) => !NOT_COMPARED.has(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

/**
 * Where the run `config` stands in `dir`. Throws if `dir` holds a run with other settings
 * (a finished run is never silently replaced by another configuration). A run recorded with
 * fewer epochs than `config.epochs` is resumable (resuming extends it) if its checkpoint is
 * there, and new otherwise.
 */
export function runState(dir: string, config: TrainConfig): RunState {
  if (!fs.existsSync(runFile(dir))) return { kind: 'new' };
  const record = readRunRecord(dir);
  const differs = configDifferences(resolveConfig(record.config), resolveConfig(config));
  if (differs.length > 0) {
    const show = (c: TrainConfig, k: keyof TrainConfig) => JSON.stringify(c[k]);
    const detail = differs.map((k) => `${k}: recorded ${show(record.config, k)}, planned ${show(config, k)}`).join('; ');
    throw new Error(`${dir} holds a run with other settings (${detail}); move it away or plan it under another directory`);
  }
  if (record.result.error) return { kind: 'failed', record };
  if (record.epochs.length >= config.epochs) return { kind: 'finished', record };
  // An unfinished record without its checkpoint (copied from elsewhere, or its checkpoint
  // deleted) cannot be continued: the run starts over.
  const checkpoint = path.join(dir, 'checkpoint');
  return fs.existsSync(checkpoint) || fs.existsSync(`${checkpoint}.old`) ? { kind: 'resumable', record } : { kind: 'new' };
}

/** True if process `pid` exists and has not exited (a killed process not yet reaped by its parent counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Linux: field 3 of /proc/PID/stat is the state; Z is a zombie, X dead.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(pid, 0)
  }
}

/** DIR/.lock is held by a live process (pid `holder`). */
export class RunLocked extends Error {
  constructor(
    message: string,
    readonly holder: number,
  ) {
    super(message);
  }
}

/**
 * Takes the lock file `file` for this process (created exclusively, holding the pid). A lock left
 * by a process that no longer exists is taken over; a live one is a RunLocked error naming its
 * pid and `what` is held. Returns the function that releases it.
 */
export function takeLock(file: string, what: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new RunLocked(`${what} is being trained by another process (pid ${holder}); wait for it or stop it`, holder);
      }
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`${what}: could not take the lock ${file}`);
}

/**
 * takeLock, waiting up to `waitMs` (polling every `pollMs`) for a live holder to let go;
 * `say`, when given, is told once that the caller waits, naming the holder's pid.
 */
export async function takeLockWaiting(
  file: string,
  what: string,
  waitMs: number,
  pollMs = 200,
  say?: (line: string) => void,
): Promise<() => void> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return takeLock(file, what);
    } catch (err) {
      if (!(err instanceof RunLocked) || Date.now() >= deadline) throw err;
      if (attempt === 0) say?.(`${what} is being trained by another process (pid ${err.holder}); waiting for it to finish`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}

/** Takes DIR/.lock (see takeLock), so that no other process trains the run in DIR meanwhile. */
export function lockRunDir(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  return takeLock(path.join(dir, '.lock'), dir);
}

/**
 * lockRunDir, waiting up to `waitMs` for a live holder to let go (a worker of a sweep that was
 * killed finishes the evaluation or checkpoint in progress before it notices and stops).
 */
export async function lockRunDirWaiting(dir: string, waitMs: number): Promise<() => void> {
  fs.mkdirSync(dir, { recursive: true });
  return takeLockWaiting(path.join(dir, '.lock'), dir, waitMs);
}
