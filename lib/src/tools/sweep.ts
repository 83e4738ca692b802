/**
 * Sweeps: a plan of methods × label counts × seeds (× optional grids of settings) expanded into
 * runs, each with its own record directory named from its configuration. The plan comes from
 * command-line flags or a JSON file; `runSweep` trains what is not finished yet, several jobs at
 * once if asked, each as a child process running `ssvae train … --continue`, which is also the
 * command that `--list` prints for GNU parallel or a Slurm job array.
 */
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ALPHA_RULES,
  INITS,
  PRESET_NAMES,
  resolveConfig,
  SCHEDULES,
  VARIANTS,
  type TrainConfig,
  type TrainSettings,
  type Variant,
} from '../model/config';
import { summariseRuns, type ComparisonSummary, type LoadedRun } from '../analysis/comparison';
import { resultLine } from '../notebook/progress';
import { readJsonFile } from '../core/files';
import { readRunRecord } from '../train/records';
import { runState, type RunState } from '../train/run-dir';

/** One plan: every variant × N × seed, each with `settings`, crossed with every combination of `grid`. */
export interface SweepPlan {
  variants: Variant[];
  labels: number[];
  seeds: number[];
  epochs: number;
  /** Settings applied to every run (TrainConfig fields, e.g. { "preset": "pyro-script" }). */
  settings: TrainSettings;
  /** Settings to cross: each field lists its values, e.g. { "lr": [0.00042, 0.0042] }. */
  grid: Partial<Record<keyof TrainConfig, unknown[]>>;
}

export interface PlannedRun {
  /** Directory of the run, relative to the sweep's root: "<group>/<variant>-<N>-s<seed>". */
  name: string;
  /** The settings given for this run (plan settings and its grid point), as passed to train. */
  given: TrainSettings;
  config: TrainConfig;
}

/** Fields a plan may not set in `settings` or `grid`: the plan's own axes, and the dataset shape. */
const AXES = new Set(['variant', 'labels', 'seed', 'epochs', 'xDim', 'numClasses']);
const PLAN_FIELDS = new Set(['variants', 'labels', 'seeds', 'epochs', 'settings', 'grid']);

export class PlanError extends Error {}

function positiveInts(value: unknown, where: string, allowZero = false): number[] {
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && (allowZero ? v >= 0 : v > 0);
  if (!Array.isArray(value) || value.length === 0 || !value.every(isCount)) {
    throw new PlanError(
      `${where} must be a non-empty list of ${allowZero ? 'non-negative' : 'positive'} integers, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Checks one plan object as read from JSON (or built from flags) and fills `settings` and
 * `grid`. Errors name the field, prefixed by `where` (e.g. "plan.json: plans[1]").
 */
export function parsePlan(raw: unknown, where = 'plan'): SweepPlan {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new PlanError(`${where} must be an object with variants, labels, seeds and epochs`);
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !PLAN_FIELDS.has(k));
  if (unknown.length > 0)
    throw new PlanError(`${where}: unknown field ${JSON.stringify(unknown[0])} (a plan has ${[...PLAN_FIELDS].join(', ')})`);
  const variants = o.variants;
  const isVariant = (v: unknown): v is Variant => (VARIANTS as readonly unknown[]).includes(v);
  if (!Array.isArray(variants) || variants.length === 0 || !variants.every(isVariant)) {
    throw new PlanError(`${where}.variants must be a non-empty list of ${VARIANTS.join(', ')}, got ${JSON.stringify(variants)}`);
  }
  const labels = positiveInts(o.labels, `${where}.labels`);
  const seeds = positiveInts(o.seeds, `${where}.seeds`, true);
  const epochs = o.epochs;
  if (typeof epochs !== 'number' || !Number.isInteger(epochs) || epochs <= 0)
    throw new PlanError(`${where}.epochs must be a positive integer, got ${JSON.stringify(epochs)}`);
  const objectField = (name: 'settings' | 'grid') => {
    const v = o[name] ?? {};
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      throw new PlanError(`${where}.${name} must be an object of TrainConfig fields, got ${JSON.stringify(v)}`);
    for (const key of Object.keys(v)) {
      if (AXES.has(key))
        throw new PlanError(`${where}.${name}.${key}: set it with the plan's own field (variants, labels, seeds, epochs), not here`);
    }
    return v as Record<string, unknown>;
  };
  const settings = objectField('settings') as Partial<TrainConfig>;
  const grid = objectField('grid');
  for (const [key, values] of Object.entries(grid)) {
    if (!Array.isArray(values) || values.length === 0)
      throw new PlanError(`${where}.grid.${key} must be a non-empty list of values, got ${JSON.stringify(values)}`);
    if (key in settings) throw new PlanError(`${where}.grid.${key} is also fixed in ${where}.settings; give it in one place`);
  }
  const plan: SweepPlan = { variants, labels, seeds, epochs, settings, grid };
  // Every run's configuration must resolve: check one per grid point now, naming the plan.
  for (const point of gridPoints(grid)) {
    for (const variant of plan.variants) {
      for (const n of plan.labels) {
        try {
          resolveConfig({ ...settings, ...point, variant, labels: n, seed: seeds[0], epochs: plan.epochs });
        } catch (err) {
          throw new PlanError(`${where}: ${(err as Error).message.replace(/^config\./, 'field ')} (variant ${variant}, N = ${n})`);
        }
      }
    }
  }
  return plan;
}

/** Reads a plan file: one plan object, or a list of them. */
export function readPlanFile(file: string): SweepPlan[] {
  let raw: unknown;
  try {
    raw = readJsonFile(file, 'cannot read the plan file');
  } catch (err) {
    throw new PlanError((err as Error).message, { cause: err });
  }
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw new PlanError(`${file}: the list of plans is empty`);
    return raw.map((p, i) => parsePlan(p, `${file}: plans[${i}]`));
  }
  return [parsePlan(raw, file)];
}

/** Every combination of the grid's values (one empty point if there is no grid). */
function gridPoints(grid: Record<string, unknown>): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const key of Object.keys(grid).sort()) {
    const values = grid[key] as unknown[];
    points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  return points;
}

/** A path-safe rendering of a setting's value: 0.0042 → "0.0042", [500,500] → "500x500". */
function valueLabel(value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    // M1's settings: "m1-epochs-50-lr-0.001".
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
    return entries.map(([k, v]) => `${k}-${valueLabel(v)}`).join('-');
  }
  const text = Array.isArray(value)
    ? value.join('x')
    : typeof value === 'string' && path.isAbsolute(value)
      ? path.basename(value)
      : String(value);
  return text.replace(/[^A-Za-z0-9.+-]/g, '-');
}

/**
 * The group folder of a run: its preset, then every other given setting as key-value, sorted,
 * e.g. "default", "pyro-script", "default_lr-0.0015_schedule-mixed".
 */
export function groupName(given: TrainSettings): string {
  const preset = given.preset ?? 'default';
  const rest = Object.keys(given)
    .filter((k) => k !== 'preset' && given[k as keyof TrainConfig] !== undefined)
    .sort()
    .map((k) => `${k}-${valueLabel(given[k as keyof TrainConfig])}`);
  return [preset, ...rest].join('_');
}

/**
 * All runs of the plans, in plan order: grid point, then seed, N and variant, so that every
 * method has its first seed at every N before any second seed is trained. A run planned twice
 * (two plans meet in one configuration) is trained once, to the larger number of epochs.
 */
export function expandPlans(plans: SweepPlan[]): PlannedRun[] {
  const out: PlannedRun[] = [];
  const seen = new Map<string, PlannedRun>();
  for (const plan of plans) {
    for (const point of gridPoints(plan.grid)) {
      const given = { ...plan.settings, ...point } as Partial<TrainConfig>;
      const group = groupName(given);
      for (const seed of plan.seeds) {
        for (const labels of plan.labels) {
          for (const variant of plan.variants) {
            const name = path.join(group, `${variant}-${labels}-s${seed}`);
            const earlier = seen.get(name);
            if (earlier) {
              if (plan.epochs > earlier.config.epochs) earlier.config = { ...earlier.config, epochs: plan.epochs };
              continue;
            }
            const run = { name, given, config: resolveConfig({ ...given, variant, labels, seed, epochs: plan.epochs }) };
            seen.set(name, run);
            out.push(run);
          }
        }
      }
    }
  }
  return out;
}

/** Parses "I/N" (0 ≤ I < N), the slice of a plan one worker takes. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!(count >= 1 && index >= 0 && index < count))
    throw new PlanError(`--shard expects I/N with 0 ≤ I < N (e.g. 0/4 … 3/4), got "${text}"`);
  return { index, count };
}

/** The I-th of N slices, round robin, so that each slice gets a mix of cheap and costly runs. */
export function shardOf<T>(runs: T[], shard: { index: number; count: number }): T[] {
  return runs.filter((_, i) => i % shard.count === shard.index);
}

/** How a setting's flag value is read: an integer, a number, one of a list, integers, a path, true or false. */
export type SettingKind = 'int' | 'number' | 'list' | 'path' | 'boolean' | readonly string[];

/** The settings that come as a group of their own in TrainConfig, for some variants only. */
export type SettingGroup = 'm1' | 'gumbel';

/**
 * The fields of those groups (config.m1 for m1 and m1m2, config.gumbel for gumbel) that a run takes
 * from the command line, as SETTING_FLAGS: group, field, flag, how it is read.
 */
export const GROUP_SETTING_FLAGS: readonly { group: SettingGroup; key: string; flag: string; kind: SettingKind }[] = [
  { group: 'm1', key: 'epochs', flag: 'm1-epochs', kind: 'int' },
  { group: 'm1', key: 'hidden', flag: 'm1-hidden', kind: 'list' },
  { group: 'm1', key: 'zDim', flag: 'm1-z-dim', kind: 'int' },
  { group: 'm1', key: 'batchSize', flag: 'm1-batch-size', kind: 'int' },
  { group: 'm1', key: 'lr', flag: 'm1-lr', kind: 'number' },
  { group: 'm1', key: 'activeThreshold', flag: 'm1-active-threshold', kind: 'number' },
  { group: 'gumbel', key: 'temperature', flag: 'gumbel-temperature', kind: 'number' },
  { group: 'gumbel', key: 'minTemperature', flag: 'gumbel-min-temperature', kind: 'number' },
  { group: 'gumbel', key: 'decay', flag: 'gumbel-decay', kind: 'number' },
  { group: 'gumbel', key: 'straightThrough', flag: 'gumbel-straight-through', kind: 'boolean' },
];

/**
 * Every setting a run takes from the command line (and a plan may give): its TrainConfig field,
 * its `train` flag and how the flag's text is read. The CLI parses flags with it, and the sweep
 * writes a run's flags with it.
 */
export const SETTING_FLAGS: readonly { key: keyof TrainConfig; flag: string; kind: SettingKind }[] = [
  { key: 'preset', flag: 'preset', kind: PRESET_NAMES },
  { key: 'lr', flag: 'lr', kind: 'number' },
  { key: 'beta1', flag: 'beta1', kind: 'number' },
  { key: 'beta2', flag: 'beta2', kind: 'number' },
  { key: 'alpha', flag: 'alpha', kind: 'number' },
  { key: 'alphaRule', flag: 'alpha-rule', kind: ALPHA_RULES },
  { key: 'schedule', flag: 'schedule', kind: SCHEDULES },
  { key: 'batchSize', flag: 'batch-size', kind: 'int' },
  { key: 'labelledBatchSize', flag: 'labelled-batch-size', kind: 'int' },
  { key: 'hidden', flag: 'hidden', kind: 'list' },
  { key: 'zDim', flag: 'z-dim', kind: 'int' },
  { key: 'init', flag: 'init', kind: INITS },
  { key: 'dataset', flag: 'data-dir', kind: 'path' },
];

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:,+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The `train` arguments that start, resume or confirm one planned run in `dir`. */
export function trainArgs(run: PlannedRun, dir: string, threads?: number): string[] {
  const { config } = run;
  const args = [
    'train',
    '--variant',
    config.variant,
    '--labels',
    String(config.labels),
    '--seed',
    String(config.seed),
    '--epochs',
    String(config.epochs),
  ];
  for (const key of Object.keys(run.given).sort() as (keyof TrainConfig)[]) {
    const value = run.given[key];
    if (value === undefined) continue;
    if (key === 'm1' || key === 'gumbel') {
      args.push(...groupArgs(key, value as unknown as Record<string, unknown>));
      continue;
    }
    const setting = SETTING_FLAGS.find((s) => s.key === key);
    if (setting === undefined) throw new PlanError(`setting ${key} has no train flag and cannot be planned`);
    args.push(`--${setting.flag}`, Array.isArray(value) ? value.join(',') : String(value));
  }
  if (threads !== undefined) args.push('--threads', String(threads));
  args.push('--out', dir, '--continue');
  return args;
}

/** The flags of a group's settings given in a plan. */
function groupArgs(group: SettingGroup, values: Record<string, unknown>): string[] {
  return Object.keys(values)
    .sort()
    .flatMap((key) => {
      const value = values[key];
      if (value === undefined) return [];
      const setting = GROUP_SETTING_FLAGS.find((s) => s.group === group && s.key === key);
      if (setting === undefined) throw new PlanError(`setting ${group}.${key} has no train flag and cannot be planned`);
      return [`--${setting.flag}`, Array.isArray(value) ? value.join(',') : String(value)];
    });
}

/** The CLI's entry script (lib/dist/tools/cli.js). */
export function cliScript(): string {
  return path.join(__dirname, 'cli.js');
}

/** One self-contained shell command per run, for GNU parallel or a Slurm job array. */
export function listCommands(runs: PlannedRun[], root: string, threads?: number): string[] {
  const script = cliScript();
  return runs.map((run) => ['node', script, ...trainArgs(run, path.resolve(root, run.name), threads)].map(shellQuote).join(' '));
}

export interface SweepRunOptions {
  root: string;
  /** Runs trained at once. */
  jobs: number;
  /** TensorFlow threads per job; default ⌊cores / jobs⌋ (at least 1). */
  threads?: number;
  /** Called with each line of progress (one per finished run, and any failure). */
  log: (line: string) => void;
  /** Called as epochs finish: epochs done and total over the runs this sweep trains. */
  onProgress?: (done: number, total: number) => void;
}

export interface SweepOutcome {
  trained: number;
  skipped: number;
  failed: { name: string; reason: string }[];
  summary: ComparisonSummary;
}

/** Cores TensorFlow may use on this machine. */
function cores(): number {
  return os.availableParallelism?.() ?? os.cpus().length;
}

/**
 * Runs trained at once by default: one per core, each on one thread, as long as memory allows
 * (a run of M2 on MNIST peaks at about 1.2 GB; 2 GB each are reserved). On a 2-core machine two
 * one-thread jobs finished 1.31× more runs per hour than one two-thread job (see the README).
 */
export function defaultJobs(): number {
  return Math.max(1, Math.min(cores(), Math.floor(os.totalmem() / 2 ** 31)));
}

/** Threads per job so that jobs × threads ≤ cores. */
export function threadsPerJob(jobs: number, available = cores()): number {
  return Math.max(1, Math.floor(available / jobs));
}

function stateOf(run: PlannedRun, root: string): RunState | { kind: 'invalid'; reason: string } {
  try {
    return runState(path.join(root, run.name), run.config);
  } catch (err) {
    return { kind: 'invalid', reason: (err as Error).message };
  }
}

/**
 * Trains every run of `runs` that is not finished, `jobs` at a time, each in a child process
 * (`ssvae train … --continue`, its output appended to DIR/train.log). A run that fails is
 * reported and the others go on. Returns what happened and the summary over the planned runs.
 */
export async function runSweep(runs: PlannedRun[], options: SweepRunOptions): Promise<SweepOutcome> {
  const { root, jobs, log } = options;
  const threads = options.threads ?? threadsPerJob(jobs);
  const failed: { name: string; reason: string }[] = [];
  const todo: { run: PlannedRun; remaining: number }[] = [];
  let skipped = 0;
  for (const run of runs) {
    const state = stateOf(run, root);
    if (state.kind === 'invalid') failed.push({ name: run.name, reason: state.reason });
    else if (state.kind === 'failed') failed.push({ name: run.name, reason: `stopped earlier: ${state.record.result.error}` });
    else if (state.kind === 'finished') skipped++;
    else todo.push({ run, remaining: run.config.epochs - (state.kind === 'resumable' ? state.record.epochs.length : 0) });
  }
  const total = todo.reduce((s, t) => s + t.remaining, 0);
  let done = 0;
  let finishedRuns = 0;
  let trained = 0;
  log(
    `sweep: ${runs.length} runs planned, ${skipped} already finished, ${todo.length} to train (${total} epochs), ` +
      `${jobs} job${jobs === 1 ? '' : 's'} × ${threads} thread${threads === 1 ? '' : 's'}`,
  );
  options.onProgress?.(0, total);
  const started = Date.now();
  const trainOne = (item: { run: PlannedRun; remaining: number }) =>
    new Promise<void>((resolve) => {
      const dir = path.join(root, item.run.name);
      fs.mkdirSync(dir, { recursive: true });
      const logFile = fs.openSync(path.join(dir, 'train.log'), 'a');
      const child = cp.spawn(process.execPath, [cliScript(), ...trainArgs(item.run, dir, threads)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, SSVAE_PARENT_PID: String(process.pid) },
      });
      let pending = '';
      let counted = 0;
      let lastError = '';
      child.stdout.on('data', (chunk: Buffer) => {
        fs.writeSync(logFile, chunk);
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (/^epoch \d+\/\d+/.test(line) && counted < item.remaining) {
            counted++;
            done++;
            options.onProgress?.(done, total);
          }
        }
      });
      child.stderr.on('data', (chunk: Buffer) => {
        fs.writeSync(logFile, chunk);
        const text = chunk.toString('utf8').trim();
        if (text.startsWith('ssvae:')) lastError = text.replace(/^ssvae: /, '');
      });
      child.on('close', (code, signal) => {
        fs.closeSync(logFile);
        done += item.remaining - counted; // keep the total honest if a run ended early
        options.onProgress?.(done, total);
        finishedRuns++;
        const position = `[${finishedRuns}/${todo.length}]`;
        if (code === 0) {
          trained++;
          let result: string;
          try {
            result = resultLine(readRunRecord(dir));
          } catch (err) {
            result = (err as Error).message;
          }
          const elapsed = (Date.now() - started) / 1000;
          const eta = done > 0 && done < total ? `, about ${formatDuration((elapsed * (total - done)) / done)} left` : '';
          log(`${position} ${item.run.name}: ${result}${eta}`);
        } else {
          const reason = lastError || (signal ? `killed by ${signal}` : `exit code ${code}`);
          failed.push({ name: item.run.name, reason });
          log(`${position} ${item.run.name}: FAILED (${reason}); see ${path.join(dir, 'train.log')}`);
        }
        resolve();
      });
    });
  const queue = todo.slice();
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let item = queue.shift(); item; item = queue.shift()) await trainOne(item);
    }),
  );
  return { trained, skipped, failed, summary: summarisePlanned(runs, root) };
}

/** The comparison summary (as notebook 07 computes it) over the finished runs of a plan. */
export function summarisePlanned(runs: PlannedRun[], root: string): ComparisonSummary {
  const loaded: LoadedRun[] = [];
  for (const run of runs) {
    const dir = path.join(root, run.name);
    const state = stateOf(run, root);
    if (state.kind === 'finished' && Number.isFinite(state.record.result.testAccuracyAtBest)) loaded.push({ dir, record: state.record });
  }
  return summariseRuns(loaded, root);
}

/**
 * The summary as text, one line per method × N: the validation accuracy at the best validation
 * epoch (what settings are chosen on) and the test accuracy there (what is reported), each the
 * mean over seeds, the test accuracy with its 95% interval.
 */
export function formatSummary(summary: ComparisonSummary): string[] {
  if (summary.groups.length === 0) return ['no finished runs to summarise'];
  const pct = (x: number) => (100 * x).toFixed(2);
  const rows = summary.groups.map((g) => {
    const t = g.testAtBest;
    const spread = t.n >= 2 ? ` ± ${pct(t.halfWidth)}` : '';
    return [
      g.method,
      `N = ${g.labels}`,
      `validation ${pct(g.validationAtBest.mean)} %`,
      `test ${pct(t.mean)}${spread} %`,
      `${t.n} seed${t.n === 1 ? '' : 's'}`,
    ];
  });
  const widths = rows.reduce((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), [] as number[]);
  return [
    'accuracy at the best validation epoch, mean over seeds (test: ± 95% interval):',
    ...rows.map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    ),
  ];
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
