/**
 * Sweeps: a plan of methods × label counts × seeds (× optional grids of settings) expanded into
 * runs, each with its own record directory named from its configuration. The plan comes from
 * command-line flags or a JSON file; `runSweep` trains what is not finished yet, several jobs at
 * once if asked, each as a child process running `ssvae train … --continue`, which is also the
 * command that `--list` prints for GNU parallel or a Slurm job array.
 *
 * A plan may instead list unsupervised models (`"models": ["vae", "gmvae"]`) × seeds: each run is
 * `ssvae vae` for one model and seed, trained, checkpointed and scored by its test likelihood the
 * same way, so that the VAE and the GMVAE sweep, resume, list and shard as M2 runs do.
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
import { checkSampleCounts, LIKELIHOOD_FILE, type LikelihoodRecord } from '../analysis/likelihood';
import type { VaeConfig } from '../model/vae';
import { VAE_MODELS, vaeRunConfig, vaeRunState, type VaeModelName } from './likelihood';
import { resultLine } from '../notebook/progress';
import { readJsonFile } from '../core/files';
import { readRunRecord, runFile } from '../train/records';
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

/** A plan of unsupervised models (ssvae vae): every model × seed, trained and scored by the IWAE bounds. */
export interface VaePlan {
  models: VaeModelName[];
  seeds: number[];
  /** 'cs236' (the course's setup) or 'none' (the library's VAE defaults). */
  preset: 'cs236' | 'none';
  /** The length; default the preset's. */
  epochs?: number;
  /** The sample counts m of the IWAE bounds; default ssvae vae's (1, 10, 100, 1000). */
  iwae?: number[];
  /** Overrides of the preset (VAE_SETTING_FLAGS' fields), e.g. { "components": 100 }. */
  settings: Partial<VaeConfig>;
}

export type AnyPlan = SweepPlan | VaePlan;

export interface VaePlannedRun {
  kind: 'vae';
  /** Directory of the run, relative to the sweep's root: "<group>/<model>-s<seed>". */
  name: string;
  model: VaeModelName;
  plan: VaePlan;
  config: VaeConfig;
}

export type SweepRun = PlannedRun | VaePlannedRun;

export function isVaeRun(run: SweepRun): run is VaePlannedRun {
  return (run as VaePlannedRun).kind === 'vae';
}

/** The VaeConfig fields a VAE plan's settings may override, with their `ssvae vae` flags. */
export const VAE_SETTING_FLAGS: readonly { key: keyof VaeConfig; flag: string; kind: 'int' | 'number' | 'list' | 'path' }[] = [
  { key: 'components', flag: 'components', kind: 'int' },
  { key: 'zDim', flag: 'z-dim', kind: 'int' },
  { key: 'hidden', flag: 'hidden', kind: 'list' },
  { key: 'lr', flag: 'lr', kind: 'number' },
  { key: 'batchSize', flag: 'batch-size', kind: 'int' },
  { key: 'dataset', flag: 'data-dir', kind: 'path' },
];

const VAE_PLAN_FIELDS = new Set(['models', 'seeds', 'preset', 'epochs', 'iwae', 'settings']);

/** Checks a VAE plan as read from JSON: `{ "models": [...], "seeds": [...], ... }`; errors name the field. */
export function parseVaePlan(raw: Record<string, unknown>, where = 'plan'): VaePlan {
  const unknown = Object.keys(raw).filter((k) => !VAE_PLAN_FIELDS.has(k));
  if (unknown.length > 0)
    throw new PlanError(`${where}: unknown field ${JSON.stringify(unknown[0])} (a plan of models has ${[...VAE_PLAN_FIELDS].join(', ')})`);
  const models = raw.models;
  const isModel = (m: unknown): m is VaeModelName => (VAE_MODELS as readonly unknown[]).includes(m);
  if (!Array.isArray(models) || models.length === 0 || !models.every(isModel))
    throw new PlanError(`${where}.models must be a non-empty list of ${VAE_MODELS.join(', ')}, got ${JSON.stringify(models)}`);
  const seeds = positiveInts(raw.seeds, `${where}.seeds`, true);
  const preset = raw.preset ?? 'cs236';
  if (preset !== 'cs236' && preset !== 'none')
    throw new PlanError(`${where}.preset must be "cs236" or "none", got ${JSON.stringify(preset)}`);
  const epochs = raw.epochs === undefined ? undefined : positiveInt(raw.epochs, `${where}.epochs`);
  const iwae = raw.iwae === undefined ? undefined : positiveInts(raw.iwae, `${where}.iwae`);
  const given = raw.settings ?? {};
  if (given === null || typeof given !== 'object' || Array.isArray(given))
    throw new PlanError(`${where}.settings must be an object of VAE settings, got ${JSON.stringify(given)}`);
  const settings: Partial<VaeConfig> = {};
  for (const [key, value] of Object.entries(given)) {
    const setting = VAE_SETTING_FLAGS.find((f) => f.key === key);
    if (setting === undefined)
      throw new PlanError(
        `${where}.settings.${key}: not a VAE setting a plan may give (${VAE_SETTING_FLAGS.map((f) => f.key).join(', ')})`,
      );
    if (setting.kind === 'path' && typeof value !== 'string')
      throw new PlanError(`${where}.settings.${key} must be a directory path, got ${JSON.stringify(value)}`);
    // A dataset directory is recorded as an absolute path, as ssvae vae --data-dir records it.
    (settings as Record<string, unknown>)[key] = setting.kind === 'path' ? path.resolve(value as string) : value;
  }
  const plan: VaePlan = {
    models,
    seeds,
    preset,
    settings,
    ...(epochs === undefined ? {} : { epochs }),
    ...(iwae === undefined ? {} : { iwae }),
  };
  for (const model of models) {
    try {
      vaePlannedConfig(plan, model, seeds[0] as number);
    } catch (err) {
      throw new PlanError(`${where}: ${(err as Error).message.replace(/^vae config\./, 'field ')} (model ${model})`);
    }
  }
  if (iwae !== undefined) {
    try {
      checkSampleCounts(iwae);
    } catch (err) {
      throw new PlanError(`${where}.iwae: ${(err as Error).message}`);
    }
  }
  return plan;
}

function vaePlannedConfig(plan: VaePlan, model: VaeModelName, seed: number): VaeConfig {
  return vaeRunConfig(model, plan.preset, { ...plan.settings, seed, ...(plan.epochs === undefined ? {} : { epochs: plan.epochs }) });
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

/** A plan field that must be one positive integer; one PlanError naming it otherwise. */
function positiveInt(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw new PlanError(`${where} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Checks one plan object as read from JSON (or built from flags) and fills `settings` and
 * `grid`. Errors name the field, prefixed by `where` (e.g. "plan.json: plans[1]").
 */
export function parsePlan(raw: unknown, where = 'plan'): SweepPlan {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new PlanError(`${where} must be an object with variants, labels, seeds and epochs (or models and seeds)`);
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
  const epochs = positiveInt(o.epochs, `${where}.epochs`);
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
export function readPlanFile(file: string): AnyPlan[] {
  let raw: unknown;
  try {
    raw = readJsonFile(file, 'cannot read the plan file');
  } catch (err) {
    throw new PlanError((err as Error).message, { cause: err });
  }
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw new PlanError(`${file}: the list of plans is empty`);
    return raw.map((p, i) => parseAnyPlan(p, `${file}: plans[${i}]`));
  }
  return [parseAnyPlan(raw, file)];
}

/** Which of a plan file's runs to train: each field given keeps only the runs with one of its values. */
export interface RunSelection {
  variants?: string[];
  labels?: number[];
  seeds?: number[];
}

/**
 * The plans' runs that `keep` selects: each plan keeps its variants, label counts and seeds that
 * are listed (a field not given keeps them all), and a plan left with no runs is dropped. A plan
 * of unsupervised models has no variants or label counts, so selecting by either drops it.
 * Keeping none of the runs is an error that names `file` and what its plans hold.
 */
export function selectRuns(plans: AnyPlan[], keep: RunSelection, file: string): AnyPlan[] {
  const listed = <T>(values: T[] | undefined, value: T): boolean => values === undefined || values.includes(value);
  const kept = plans.flatMap((plan): AnyPlan[] => {
    const seeds = plan.seeds.filter((s) => listed(keep.seeds, s));
    if ('models' in plan) return seeds.length === 0 || keep.variants || keep.labels ? [] : [{ ...plan, seeds }];
    const variants = plan.variants.filter((v) => listed(keep.variants, v));
    const labels = plan.labels.filter((n) => listed(keep.labels, n));
    return seeds.length === 0 || variants.length === 0 || labels.length === 0 ? [] : [{ ...plan, variants, labels, seeds }];
  });
  if (kept.length === 0) {
    const fields = (['variants', 'labels', 'seeds'] as const).filter((f) => keep[f] !== undefined);
    const theirs = (field: (typeof fields)[number]): string => {
      const values = plans.flatMap((p): (string | number)[] => ('models' in p ? (field === 'seeds' ? p.seeds : []) : p[field]));
      const unique = [...new Set(values)];
      return (field === 'variants' ? unique : (unique as number[]).sort((a, b) => a - b)).join(', ') || 'none';
    };
    const asked = fields.map((f) => `${f} ${(keep[f] as (string | number)[]).join(', ')}`).join(' and ');
    throw new PlanError(`${file} has no runs with ${asked} (its ${fields.map((f) => `${f}: ${theirs(f)}`).join('; its ')})`);
  }
  return kept;
}

/** A plan of M2 runs (variants × labels × seeds), or of unsupervised models if it lists `models`. */
export function parseAnyPlan(raw: unknown, where = 'plan'): AnyPlan {
  const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
  return isObject && 'models' in raw ? parseVaePlan(raw as Record<string, unknown>, where) : parsePlan(raw, where);
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
  return groupLabel(given.preset ?? 'default', given);
}

/** "<preset>_<key>-<value>_…" over the settings other than the preset, sorted by key. */
function groupLabel(preset: string, given: object): string {
  const values = given as Record<string, unknown>;
  const rest = Object.keys(values)
    .filter((k) => k !== 'preset' && values[k] !== undefined)
    .sort()
    .map((k) => `${k}-${valueLabel(values[k])}`);
  return [preset, ...rest].join('_');
}

/**
 * All runs of the plans, in plan order: grid point, then seed, N and variant, so that every
 * method has its first seed at every N before any second seed is trained. A run planned twice
 * (two plans meet in one configuration) is trained once, to the larger number of epochs.
 */
export function expandPlans(plans: SweepPlan[]): PlannedRun[];
export function expandPlans(plans: AnyPlan[]): SweepRun[];
export function expandPlans(plans: AnyPlan[]): SweepRun[] {
  const out: SweepRun[] = [];
  const seen = new Map<string, SweepRun>();
  for (const plan of plans) {
    if ('models' in plan) {
      // Unsupervised models: ROOT/<preset and settings>/<model>-s<seed>, as ssvae vae --out names them.
      const group = groupLabel(plan.preset, plan.settings);
      for (const seed of plan.seeds) {
        for (const model of plan.models) {
          const name = path.join(group, `${model}-s${seed}`);
          const earlier = seen.get(name);
          if (earlier) {
            if (isVaeRun(earlier) && plan.epochs !== undefined && plan.epochs > earlier.config.epochs)
              earlier.config = { ...earlier.config, epochs: plan.epochs };
            continue;
          }
          const run: VaePlannedRun = { kind: 'vae', name, model, plan, config: vaePlannedConfig(plan, model, seed) };
          seen.set(name, run);
          out.push(run);
        }
      }
      continue;
    }
    for (const point of gridPoints(plan.grid)) {
      const given = { ...plan.settings, ...point } as Partial<TrainConfig>;
      const group = groupName(given);
      for (const seed of plan.seeds) {
        for (const labels of plan.labels) {
          for (const variant of plan.variants) {
            const name = path.join(group, `${variant}-${labels}-s${seed}`);
            const earlier = seen.get(name);
            if (earlier) {
              if (!isVaeRun(earlier) && plan.epochs > earlier.config.epochs) earlier.config = { ...earlier.config, epochs: plan.epochs };
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
  { group: 'm1', key: 'klWarmup', flag: 'm1-kl-warmup', kind: 'int' },
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
  { key: 'labelledBoundWeight', flag: 'labelled-bound-weight', kind: 'number' },
  { key: 'restart', flag: 'restart', kind: 'int' },
  { key: 'averageDecay', flag: 'average-decay', kind: 'number' },
  { key: 'classBalance', flag: 'class-balance', kind: 'number' },
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

/** The `vae` arguments that train (or resume) and score one planned VAE run in `dir`; finished work is skipped. */
export function vaeArgs(run: VaePlannedRun, dir: string, threads?: number): string[] {
  const { plan, config } = run;
  const args = ['vae', '--model', run.model, '--seeds', String(config.seed), '--preset', plan.preset, '--epochs', String(config.epochs)];
  for (const { key, flag } of VAE_SETTING_FLAGS) {
    const value = plan.settings[key];
    if (value !== undefined) args.push(`--${flag}`, Array.isArray(value) ? value.join(',') : String(value));
  }
  if (plan.iwae !== undefined) args.push('--iwae', plan.iwae.join(','));
  if (threads !== undefined) args.push('--threads', String(threads));
  // ssvae vae writes ROOT/<model>-s<seed>: ROOT is the run's group folder.
  args.push('--out', path.dirname(dir));
  return args;
}

/** The CLI arguments of one planned run of either kind. */
function runArgs(run: SweepRun, dir: string, threads?: number): string[] {
  return isVaeRun(run) ? vaeArgs(run, dir, threads) : trainArgs(run, dir, threads);
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
export function listCommands(runs: SweepRun[], root: string, threads?: number): string[] {
  const script = cliScript();
  return runs.map((run) => ['node', script, ...runArgs(run, path.resolve(root, run.name), threads)].map(shellQuote).join(' '));
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

/** What is left of a planned run: done, epochs to train (0: only the scoring of a VAE run), or why it cannot go on. */
function workLeft(
  run: SweepRun,
  root: string,
): { kind: 'done' } | { kind: 'todo'; remaining: number } | { kind: 'invalid'; reason: string } {
  if (isVaeRun(run)) {
    try {
      const state = vaeRunState(path.join(root, run.name), run.config);
      if (state.kind === 'scored') return { kind: 'done' };
      const done = state.kind === 'trained' ? run.config.epochs : state.kind === 'resumable' ? state.epochsDone : 0;
      return { kind: 'todo', remaining: run.config.epochs - done };
    } catch (err) {
      return { kind: 'invalid', reason: (err as Error).message };
    }
  }
  const state = stateOf(run, root);
  if (state.kind === 'invalid') return state;
  if (state.kind === 'failed') return { kind: 'invalid', reason: `stopped earlier: ${state.record.result.error}` };
  if (state.kind === 'finished') return { kind: 'done' };
  return { kind: 'todo', remaining: run.config.epochs - (state.kind === 'resumable' ? state.record.epochs.length : 0) };
}

/** The line a finished run reports: its accuracies (M2), or its bounds (a VAE run). */
function finishedLine(run: SweepRun, dir: string): string {
  if (!isVaeRun(run)) return resultLine(readRunRecord(dir));
  const record = readJsonFile(path.join(dir, LIKELIHOOD_FILE), 'cannot read the likelihood record') as LikelihoodRecord;
  const { sampleCounts, bounds } = record.iwae;
  const last = sampleCounts.length - 1;
  const elbo = record.elbo ? `−ELBO ${record.elbo.negativeElbo.toFixed(2)}, ` : '';
  return `${elbo}−IWAE(m = ${sampleCounts[last]}) ${(-(bounds[last] as number)).toFixed(2)} nats`;
}

/** The length of a finished record in `dir` that a longer plan cannot continue (no checkpoint), if there is one. */
function shorterRecord(dir: string): number | undefined {
  if (!fs.existsSync(runFile(dir))) return undefined;
  const record = readRunRecord(dir);
  return record.result.finished ? record.epochs.length : undefined;
}

/**
 * Where each planned run stands, one line per run (finished with its result, at epoch k of E,
 * not started, or why it cannot go on), then a line of counts and the epochs left. Reads the
 * records under `root` and trains nothing.
 */
export function sweepStatus(runs: SweepRun[], root: string): string[] {
  const width = Math.max(0, ...runs.map((r) => r.name.length));
  const counts = { finished: 0, started: 0, fresh: 0, invalid: 0 };
  let epochsLeft = 0;
  const lines = runs.map((run) => {
    const left = workLeft(run, root);
    const name = run.name.padEnd(width);
    if (left.kind === 'done') {
      counts.finished++;
      return `${name}  finished: ${finishedLine(run, path.join(root, run.name))}`;
    }
    if (left.kind === 'invalid') {
      counts.invalid++;
      return `${name}  cannot go on: ${left.reason}`;
    }
    epochsLeft += left.remaining;
    const done = run.config.epochs - left.remaining;
    if (done === 0) {
      counts.fresh++;
      const shorter = isVaeRun(run) ? undefined : shorterRecord(path.join(root, run.name));
      return shorter === undefined
        ? `${name}  not started (${run.config.epochs} epochs)`
        : `${name}  finished at ${shorter} epochs; the plan asks ${run.config.epochs} and the checkpoint is gone, ` +
            `so it trains again from the start`;
    }
    counts.started++;
    return left.remaining === 0 ? `${name}  trained, not scored yet` : `${name}  at epoch ${done} of ${run.config.epochs}`;
  });
  lines.push(
    `${runs.length} runs planned: ${counts.finished} finished, ${counts.started} started, ${counts.fresh} not started` +
      `${counts.invalid > 0 ? `, ${counts.invalid} that cannot go on` : ''}; ${epochsLeft} epochs left`,
  );
  return lines;
}

/**
 * Trains every run of `runs` that is not finished, `jobs` at a time, each in a child process
 * (`ssvae train … --continue`, its output appended to DIR/train.log). A run that fails is
 * reported and the others go on. Returns what happened and the summary over the planned runs.
 */
export async function runSweep(runs: SweepRun[], options: SweepRunOptions): Promise<SweepOutcome> {
  const { root, jobs, log } = options;
  const threads = options.threads ?? threadsPerJob(jobs);
  const failed: { name: string; reason: string }[] = [];
  const todo: { run: SweepRun; remaining: number }[] = [];
  let skipped = 0;
  for (const run of runs) {
    const left = workLeft(run, root);
    if (left.kind === 'invalid') failed.push({ name: run.name, reason: left.reason });
    else if (left.kind === 'done') skipped++;
    else todo.push({ run, remaining: left.remaining });
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
  const trainOne = (item: { run: SweepRun; remaining: number }) =>
    new Promise<void>((resolve) => {
      const dir = path.join(root, item.run.name);
      fs.mkdirSync(dir, { recursive: true });
      const logFile = fs.openSync(path.join(dir, 'train.log'), 'a');
      // An epoch's line: "epoch 3/50 …" from train, "gmvae seed 0 epoch 3/40 …" from vae.
      const epochLine = isVaeRun(item.run) ? /^\S+ seed \d+ epoch \d+\/\d+/ : /^epoch \d+\/\d+/;
      const child = cp.spawn(process.execPath, [cliScript(), ...runArgs(item.run, dir, threads)], {
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
          if (epochLine.test(line) && counted < item.remaining) {
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
            result = finishedLine(item.run, dir);
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

/** The comparison summary (as notebook 07 computes it) over the finished M2 runs of a plan. */
export function summarisePlanned(runs: SweepRun[], root: string): ComparisonSummary {
  const loaded: LoadedRun[] = [];
  for (const run of runs) {
    if (isVaeRun(run)) continue;
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
