/**
 * What every kind of cache entry shares (M2 runs in cache.ts, VAEs in vae.ts): the code version
 * that keys an entry, the entry's directory, the lines that say what the cache did, and the
 * lookup of a finished entry. Nothing here trains, so the trainers can use it.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { tf } from '../core/backend';
import { configHash } from '../core/hash';
import { projectDataDir } from '../core/paths';

/** The library folders whose code decides what a training run computes. */
const NUMERIC_FOLDERS = ['core', 'data', 'model', 'train'] as const;

let codeVersionMemo: string | undefined;

/**
 * A short hash of the library code that decides what training computes: the compiled files of
 * core/, data/, model/ and train/ (their sources under ts-node). Part of every cache key, so that
 * a notebook never loads a model trained by other code; any edit there, comments included, makes
 * the next run train again.
 */
export function codeVersion(): string {
  if (codeVersionMemo !== undefined) return codeVersionMemo;
  const root = path.resolve(__dirname, '..');
  const hash = crypto.createHash('sha256');
  for (const folder of NUMERIC_FOLDERS) {
    const names = fs.readdirSync(path.join(root, folder)).filter((n) => /\.(js|ts)$/.test(n) && !n.endsWith('.d.ts'));
    for (const name of names.sort()) hash.update(`${folder}/${name}\n`).update(fs.readFileSync(path.join(root, folder, name)));
  }
  codeVersionMemo = hash.digest('hex').slice(0, 8);
  return codeVersionMemo;
}

/** The default root of the cache: $SSVAE_CACHE_DIR if set, else data/cache/ of the project. */
export function defaultCacheRoot(): string {
  const fromEnv = process.env.SSVAE_CACHE_DIR;
  return fromEnv ? path.resolve(fromEnv) : path.join(projectDataDir(), 'cache');
}

/** `<root>/<name>-<hash of config>-<code>`: the directory of one cache entry. */
export function cacheEntryDir(root: string, name: string, config: object, code: string): string {
  return path.join(root, `${name}-${configHash(config)}-${code}`);
}

/** The code versions of other entries with the same name and configuration as `dir` (trained by other code). */
export function otherCodeVersions(dir: string): string[] {
  const base = path.basename(dir);
  const prefix = base.slice(0, base.lastIndexOf('-') + 1);
  const root = path.dirname(dir);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((n) => n.startsWith(prefix) && n !== base && !n.slice(prefix.length).includes('.'))
    .map((n) => n.slice(prefix.length));
}

/** "3 min", "2 h", "5 days": how long ago a time in milliseconds was. */
export function formatAge(ms: number, now = Date.now()): string {
  const minutes = Math.max(0, (now - ms) / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 90) return `${Math.round(minutes)} min`;
  if (minutes < 36 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / (24 * 60))} days`;
}

/** "loaded from cache: v3-n3000-e10-s0 (trained 2 h ago, code 1a2b3c4d)", from the time `file` was written. */
export function cacheHitLine(dir: string, file: string, code: string): string {
  const base = path.basename(dir);
  const name = base.split('-').slice(0, -2).join('-');
  return `loaded from cache: ${name} (trained ${formatAge(fs.statSync(file).mtimeMs)} ago, code ${code}) in ${dir}`;
}

/** The line that says why a cache entry is trained now, or undefined when there is nothing to say (a first run). */
export function trainingReason(dir: string, code: string, unreadable?: string): string | undefined {
  if (unreadable !== undefined) return `the cache entry ${dir} is unreadable (${unreadable}); training it again`;
  const others = otherCodeVersions(dir);
  if (others.length > 0)
    return `the cache holds this run trained by other library code (code ${others.join(', ')}); training it again with code ${code}`;
  return undefined;
}

/** True if none of the networks has been disposed. */
export function networksAlive(networks: tf.LayersModel[]): boolean {
  try {
    for (const net of networks) for (const w of net.weights) w.read();
    return true;
  } catch {
    return false;
  }
}

/** How to read one kind of cache entry (an M2 run, a VAE). */
export interface EntryKind<R> {
  /** The record file whose presence marks the entry, e.g. run.json. */
  recordFile: string;
  /** Reads the entry, throwing if it is unreadable; an unfinished one is not used. */
  load: () => { entry: R; finished: boolean };
  /** The networks of an entry, to check they are alive and to dispose them. */
  networks: (entry: R) => tf.LayersModel[];
}

/**
 * The usable cache entry in `dir`: the one this process already holds under `key` (if its
 * networks are alive), else the finished one on disk, which is then held. Says what it loaded
 * through `log`. `force` forgets and deletes the entry instead. An entry that exists but cannot be
 * read comes back as `unreadable`, with the reason.
 */
export function lookUpEntry<R>(
  held: Map<string, R>,
  key: string,
  dir: string,
  options: { code: string; force: boolean; log: (line: string) => void },
  kind: EntryKind<R>,
): { entry?: R; unreadable?: string } {
  const previous = held.get(key);
  const recordFile = path.join(dir, kind.recordFile);
  if (options.force) {
    if (previous) kind.networks(previous).forEach((net) => net.dispose());
    held.delete(key);
    fs.rmSync(dir, { recursive: true, force: true });
    return {};
  }
  if (previous && networksAlive(kind.networks(previous))) {
    options.log(cacheHitLine(dir, recordFile, options.code));
    return { entry: previous };
  }
  if (!fs.existsSync(recordFile)) return {};
  try {
    const { entry, finished } = kind.load();
    if (!finished) {
      kind.networks(entry).forEach((net) => net.dispose());
      return {};
    }
    options.log(cacheHitLine(dir, recordFile, options.code));
    held.set(key, entry);
    return { entry };
  } catch (err) {
    return { unreadable: (err as Error).message };
  }
}
