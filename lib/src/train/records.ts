/**
 * run.json: the record of one training run (its format is described in the README).
 * Rewritten atomically after every epoch, so a killed run leaves a valid record behind.
 */
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TrainConfig } from '../model/config';
import { readJsonFile, writeFileAtomic } from '../core/files';
import { libraryDir } from '../core/paths';

export interface EpochRecord {
  epoch: number;
  seconds: number;
  /** Batch-averaged loss terms by hierarchical name, e.g. "unlabelled.loss", "labelled.kl". */
  losses: Record<string, number>;
  validationAccuracy: number;
  testAccuracy: number;
  /**
   * KL(q(z|x,y) ‖ p(z)) per dimension of z, averaged over the validation images with their
   * labels (evaluate.klPerDimension); absent for the classifiers (baseline, m1) and in records
   * written before it existed.
   */
  klPerDimension?: number[];
  /**
   * With config.averageDecay > 0 the accuracies above are the averaged weights'; these are the
   * trained weights' own, at the same moment. Absent otherwise.
   */
  unaveraged?: { validationAccuracy: number; testAccuracy: number };
}

export interface RunResult {
  bestEpoch: number;
  testAccuracyAtBest: number;
  validationAccuracyAtBest: number;
  testAccuracyLast: number;
  finished: boolean;
  /** Set when training stopped on a non-finite loss. */
  error?: string;
}

export interface Environment {
  backend: string;
  versions: Record<string, string>;
  commit: string;
  cpu: string;
  cores: number;
  /**
   * TensorFlow's threads per operation when the run started: TF_NUM_INTRAOP_THREADS (what
   * `--threads` sets), or 'default' for TensorFlow's own choice, one per core. The count can
   * change the order in which TensorFlow adds numbers up, so it moves a run's numbers in the last
   * bits. Absent from records written before it was kept.
   */
  threads?: number | 'default';
  /**
   * What /proc/cpuinfo says of the processor beyond its name (Linux only): family and model, which
   * tell processor generations apart where `cpu` is only a brand, and the vector extensions
   * TensorFlow may choose its kernels by. Absent from records written before it was kept.
   */
  cpuid?: CpuId;
  startedAt: string;
}

export interface CpuId {
  family: number;
  model: number;
  /** The x86 vector extensions present, among those TensorFlow's kernels use (SIMD_FLAGS). */
  simd: string[];
}

/** x86 vector extensions that change which kernels TensorFlow runs, as /proc/cpuinfo names them. */
export const SIMD_FLAGS = [
  'sse4_2',
  'avx',
  'avx2',
  'fma',
  'f16c',
  'avx512f',
  'avx512bw',
  'avx512_vnni',
  'avx512_bf16',
  'avx_vnni',
  'amx_tile',
];

/** Family, model and vector extensions of the first processor in `cpuinfo` (the text of /proc/cpuinfo). */
export function parseCpuInfo(cpuinfo: string): CpuId | undefined {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim();
  const [family, model] = [field('cpu family'), field('model')].map((v) => (v && /^\d+$/.test(v) ? Number(v) : undefined));
  if (family === undefined || model === undefined) return undefined;
  const flags = new Set((field('flags') ?? '').split(/\s+/));
  return { family, model, simd: SIMD_FLAGS.filter((f) => flags.has(f)) };
}

function readCpuId(): CpuId | undefined {
  try {
    return parseCpuInfo(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return undefined;
  }
}

export interface RunRecord {
  format: 'ssvae-run/1';
  config: TrainConfig;
  /**
   * Values that follow from the config and the data: α′ as used (see config.alphaRule), training
   * images, and for m1 and m1m2 what M1 was.
   */
  derived?: { alpha: number; trainSize: number; m1?: M1Record };
  epochs: EpochRecord[];
  result: RunResult;
  environment: Environment;
  /** Seconds of wall time over all sessions of this run. */
  wallSeconds: number;
}

/** The M1 a run of m1 or m1m2 used. */
export interface M1Record {
  /** Its cache entry (under data/cache/): name, configuration hash and code version. */
  cacheEntry: string;
  /** The dimensions of z₁ kept as features (config.xDim of the run is their number). */
  dims: number[];
  epochs: number;
  /** What training M1 took, once for all the runs that share it. */
  wallSeconds: number;
  /** −ELBO in nats per image on the validation images after M1's last epoch. */
  validationNegativeElbo: number;
  /**
   * The environment M1's training started in, which may not be the run's: M1 is trained once by
   * whichever run needs it first. Absent from records written before it was kept.
   */
  environment?: Environment;
}

export function summarise(epochs: EpochRecord[], totalEpochs: number): RunResult {
  let best: EpochRecord | undefined;
  for (const e of epochs) if (best === undefined || e.validationAccuracy > best.validationAccuracy) best = e;
  const last = epochs[epochs.length - 1];
  return {
    bestEpoch: best?.epoch ?? 0,
    testAccuracyAtBest: best?.testAccuracy ?? NaN,
    validationAccuracyAtBest: best?.validationAccuracy ?? NaN,
    testAccuracyLast: last?.testAccuracy ?? NaN,
    finished: epochs.length === totalEpochs,
  };
}

function gitCommit(): string {
  try {
    return cp.execSync('git rev-parse HEAD', { cwd: __dirname, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** The version in a package.json file. */
function versionIn(file: string): string {
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

function packageVersion(name: string): string {
  try {
    return versionIn(require.resolve(`${name}/package.json`));
  } catch {
    return 'not installed';
  }
}

/** TensorFlow's threads per operation as the environment sets them (see Environment.threads). */
export function tensorflowThreads(): number | 'default' {
  const set = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(set) && set > 0 ? set : 'default';
}

/**
 * The line that says `what` (a run, an M1) continues with another TensorFlow thread count than it
 * started with, or undefined if the count is the same (or was not recorded).
 */
export function threadChangeNote(what: string, started: Environment | undefined): string | undefined {
  const then = started?.threads;
  const now = tensorflowThreads();
  if (then === undefined || then === now) return undefined;
  const describe = (t: number | 'default') => (t === 'default' ? "TensorFlow's default threads (one per core)" : `${t} TensorFlow threads`);
  return (
    `note: ${what} was started with ${describe(then)} and continues with ${describe(now)}; ` +
    'its numbers may differ in the last bits from one that keeps one count (--threads)'
  );
}

export function describeEnvironment(backend: string): Environment {
  const cpuid = readCpuId();
  return {
    backend,
    versions: {
      node: process.version,
      '@tensorflow/tfjs': packageVersion('@tensorflow/tfjs'),
      '@tensorflow/tfjs-node': packageVersion('@tensorflow/tfjs-node'),
      ssvae: versionIn(path.join(libraryDir(), 'package.json')),
    },
    commit: gitCommit(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    threads: tensorflowThreads(),
    ...(cpuid ? { cpuid } : {}),
    startedAt: new Date().toISOString(),
  };
}

export function runFile(dir: string): string {
  return path.join(dir, 'run.json');
}

export function writeRunRecord(dir: string, record: RunRecord): void {
  writeFileAtomic(runFile(dir), `${JSON.stringify(record, null, 2)}\n`);
}

/** Reads and checks DIR/run.json; one clear error if it is missing or not a run record. */
export function readRunRecord(dir: string): RunRecord {
  const file = runFile(dir);
  const record = readJsonFile(file, `cannot read the run record (no such file; is ${dir} a run directory?)`) as RunRecord;
  if (
    record?.format !== 'ssvae-run/1' ||
    typeof record.config !== 'object' ||
    !Array.isArray(record.epochs) ||
    typeof record.result !== 'object'
  ) {
    throw new Error(`${file}: not an ssvae run record (expected format "ssvae-run/1" with config, epochs and result)`);
  }
  // Records written before presets and α′ rules existed ran the 'round-1' defaults with a constant
  // α′; before the Gaussian observation model existed, every run's was Bernoulli; before the
  // labelled bound had a weight, it had weight 1; before restarts, every run was restart 0; before
  // averaging, no run averaged its weights; before the class-balance penalty, none had it.
  const legacy: Pick<
    TrainConfig,
    'preset' | 'alphaRule' | 'likelihood' | 'labelledBoundWeight' | 'restart' | 'averageDecay' | 'classBalance'
  > = {
    preset: 'round-1',
    alphaRule: 'constant',
    likelihood: 'bernoulli',
    labelledBoundWeight: 1,
    restart: 0,
    averageDecay: 0,
    classBalance: 0,
  };
  record.config = { ...legacy, ...(record.config as Partial<TrainConfig>) } as TrainConfig;
  return record;
}

/**
 * A view of a record without retraining. The first n epochs of a run are the same computation as
 * a run of n epochs with the same configuration (every epoch's shuffling and noise are seeded by
 * the seed and the epoch's number), so a long run also answers for the shorter one.
 */
/** The record as if the run had stopped after `epochs` epochs (best epoch and accuracies recomputed). */
export function firstEpochs(record: RunRecord, epochs: number): RunRecord {
  if (!Number.isInteger(epochs) || epochs <= 0 || epochs > record.epochs.length) {
    throw new Error(`firstEpochs: the run has ${record.epochs.length} epochs, cannot take the first ${epochs}`);
  }
  const kept = record.epochs.slice(0, epochs);
  return {
    ...record,
    config: { ...record.config, epochs },
    epochs: kept,
    result: summarise(kept, epochs),
    wallSeconds: kept.reduce((total, e) => total + e.seconds, 0),
  };
}
