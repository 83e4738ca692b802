/**
 * The comparison of methods × label counts: every finished run record under a directory
 * (data/runs by default), grouped by method and N, summarised over seeds as a mean with a 95%
 * Student t interval, and set beside the published numbers (references.ts), as data, as an HTML
 * table and as a Vega-Lite chart of accuracy against the number of labels.
 *
 * A "method" is a variant together with every setting that differs from the defaults (schedule,
 * learning rate, epochs, …): runs that differ in anything but the seed are never averaged
 * together, and the name of the method says what differs. The number summarised is the test
 * accuracy at the best validation epoch (the protocol of the Pyro example), never chosen on test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stableJson } from '../core/hash';
import { projectDataDir } from '../core/paths';
import { DEFAULTS, resolveConfig, VARIANTS, type TrainConfig, type Variant } from '../model/config';
import { readRunRecord, runFile, type RunRecord } from '../train/records';
import { PUBLISHED_LABEL_COUNTS, publishedSeries, type PublishedSeries, type SpreadKind } from './references';
import { meanInterval, type MeanInterval } from '../core/stats';
import { chooseStarts, finalUnlabelledLoss, type BoundPoint, type RestartChoice, type StartRun } from './restarts';

/** Where the sweep writes its runs: data/runs/ of the project. */
export function defaultRunsDir(): string {
  return path.join(projectDataDir(), 'runs');
}

/** A finished run: its folder and record (and, for a run chosen among restarts, how many starts it beat). */
export type LoadedRun = StartRun;

export interface SkippedRun {
  dir: string;
  reason: string;
}

/** Names of the variants as this project's tables show them. */
export const VARIANT_NAMES: Record<Variant, string> = {
  v1: 'M2, y sampled (variant 1)',
  'v1-loo': 'M2, y sampled, leave-one-out control variate',
  v2: 'M2, y summed out (variant 2)',
  v3: 'M2, summed out + classification term (variant 3)',
  baseline: 'Classifier on labels only',
  m1: "M1: classifier on M1's features, labels only",
  m1m2: "M1+M2: variant 3 on M1's features",
  gumbel: 'M2, y relaxed (Gumbel-softmax) + classification term',
};

/** Directories under `root` (itself included) that hold a run.json; a run's subfolders are not searched. */
export function findRunDirs(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (fs.existsSync(runFile(dir))) {
      found.push(dir);
      return;
    }
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && !entry.name.startsWith('.')) walk(path.join(dir, entry.name));
    }
  };
  if (fs.existsSync(root)) walk(root);
  return found;
}

/**
 * Reads every run record under `root`. Runs that are unreadable, unfinished or stopped by an
 * error are listed in `skipped` with the reason, not summarised.
 */
export function collectRuns(root: string = defaultRunsDir()): { root: string; runs: LoadedRun[]; skipped: SkippedRun[] } {
  const runs: LoadedRun[] = [];
  const skipped: SkippedRun[] = [];
  for (const dir of findRunDirs(root)) {
    let record: RunRecord;
    try {
      record = readRunRecord(dir);
    } catch (err) {
      skipped.push({ dir, reason: (err as Error).message });
      continue;
    }
    if (record.result.error) skipped.push({ dir, reason: `stopped with an error: ${record.result.error}` });
    else if (!record.result.finished)
      skipped.push({ dir, reason: `unfinished (${record.epochs.length} of ${record.config.epochs} epochs)` });
    else if (!Number.isFinite(record.result.testAccuracyAtBest)) skipped.push({ dir, reason: 'no test accuracy recorded' });
    else runs.push({ dir, record });
  }
  return { root, runs, skipped };
}

/** Fields that never separate methods: the seed and N vary within the table by design. */
const NOT_A_SETTING = new Set(['variant', 'labels', 'seed', 'labelledBatchSize', 'xDim', 'numClasses']);

/**
 * What sets a run's method apart: its preset if it is not the default one, then every setting
 * that differs from that preset's values, as "name value" strings (N and seed excluded; the
 * labelled batch size only if it is not the default for that N and schedule).
 */
export function settingDifferences(config: TrainConfig): string[] {
  const reference = resolveConfig({ preset: config.preset, variant: config.variant, labels: config.labels });
  const out: string[] = config.preset === DEFAULTS.preset ? [] : [`preset ${config.preset}`];
  for (const key of Object.keys(DEFAULTS).sort() as (keyof typeof DEFAULTS)[]) {
    if (NOT_A_SETTING.has(key) || key === 'preset') continue;
    const value = config[key];
    if (stableJson(value) !== stableJson(reference[key])) out.push(`${key} ${Array.isArray(value) ? value.join('×') : String(value)}`);
  }
  const derived = resolveConfig({ ...config, labelledBatchSize: undefined }).labelledBatchSize;
  if (config.labelledBatchSize !== derived) out.push(`labelledBatchSize ${config.labelledBatchSize}`);
  // The settings of M1 (m1, m1m2) and of the relaxation (gumbel), field by field: "m1.epochs 20".
  for (const group of ['m1', 'gumbel'] as const) {
    const ours = config[group] as Record<string, unknown> | undefined;
    const theirs = reference[group] as Record<string, unknown> | undefined;
    if (ours === undefined || theirs === undefined) continue;
    for (const key of Object.keys(theirs).sort()) {
      const value = ours[key];
      if (stableJson(value) !== stableJson(theirs[key]))
        out.push(`${group}.${key} ${Array.isArray(value) ? value.join('×') : String(value)}`);
    }
  }
  return out;
}

/** One method (variant + settings) at one N, over its seeds. */
export interface GroupSummary {
  /** Identifies the method across label counts. */
  methodKey: string;
  /** Display name: the variant's name and what differs from the defaults. */
  method: string;
  variant: Variant;
  differences: string[];
  labels: number;
  runs: LoadedRun[];
  seeds: number[];
  /** Test accuracy at the best validation epoch: the number the table reports. */
  testAtBest: MeanInterval;
  validationAtBest: MeanInterval;
  testLast: MeanInterval;
  /** The epoch counts of the runs (one value unless the settings say otherwise). */
  epochs: number[];
  meanWallSeconds: number;
  /**
   * In a table of one row per method (oneRowPerMethod): what names the row (its preset, a choice
   * among starts), where `differences` keeps every setting of this N's runs.
   */
  rowDifferences?: string[];
}

export interface ComparisonSummary {
  root: string;
  groups: GroupSummary[];
  skipped: SkippedRun[];
  /** Number of runs summarised. */
  runCount: number;
  /** Where the runs come from plans (Table 1): how many runs the plans hold, finished or not. */
  plannedCount?: number;
  /** Every subset trained from more than one start, and the start its "best of k starts" row took. */
  restartChoices: RestartChoice[];
}

/**
 * A run's method: its variant and settings. A run chosen among k starts of its subset is the
 * method "best of k starts by the bound" (its own restart number is not part of it).
 */
function methodOf(config: TrainConfig, startsCompared?: number): { methodKey: string; method: string; differences: string[] } {
  const differences =
    startsCompared === undefined
      ? settingDifferences(config)
      : [...settingDifferences({ ...config, restart: 0 }), `best of ${startsCompared} starts by the bound`];
  return { ...methodNamed(config.variant, differences), differences };
}

/** A method's key and display name: the variant's name, then what differs from the defaults. */
function methodNamed(variant: Variant, differences: string[]): { methodKey: string; method: string } {
  const method = differences.length === 0 ? VARIANT_NAMES[variant] : `${VARIANT_NAMES[variant]}; ${differences.join(', ')}`;
  return { methodKey: `${variant}|${differences.join('|')}`, method };
}

/**
 * Groups runs by method × N and summarises each group over seeds. If one seed of a group was
 * run twice, the later run (by start time) counts and the other is reported as skipped.
 */
export function summariseRuns(runs: LoadedRun[], root = '', skipped: SkippedRun[] = []): ComparisonSummary {
  const groups = new Map<
    string,
    { method: ReturnType<typeof methodOf>; variant: Variant; labels: number; bySeed: Map<number, LoadedRun> }
  >();
  const extraSkipped: SkippedRun[] = [];
  // Starts of one subset are compared with the restart left out of the method (an invalid
  // configuration keys on its folder, to be reported below).
  const startKey = (run: LoadedRun) => {
    try {
      return methodOf({ ...resolveConfig(run.record.config), restart: 0 }).methodKey;
    } catch {
      return `invalid:${run.dir}`;
    }
  };
  const { runs: chosen, choices, replaced } = chooseStarts(runs, startKey);
  for (const run of replaced) {
    extraSkipped.push({
      dir: run.dir,
      reason: `restart ${run.record.config.restart} of seed ${run.record.config.seed} was run again; the later run counts`,
    });
  }
  for (const run of chosen) {
    let config: TrainConfig;
    try {
      config = resolveConfig(run.record.config);
    } catch (err) {
      extraSkipped.push({ dir: run.dir, reason: `invalid configuration: ${(err as Error).message}` });
      continue;
    }
    const method = methodOf(config, run.startsCompared);
    const key = `${method.methodKey}#${config.labels}`;
    let group = groups.get(key);
    if (!group) {
      group = { method, variant: config.variant, labels: config.labels, bySeed: new Map() };
      groups.set(key, group);
    }
    const previous = group.bySeed.get(config.seed);
    if (previous) {
      const [older, newer] = previous.record.environment.startedAt <= run.record.environment.startedAt ? [previous, run] : [run, previous];
      extraSkipped.push({ dir: older.dir, reason: `seed ${config.seed} was run again in ${newer.dir}; the later run counts` });
      group.bySeed.set(config.seed, newer);
    } else {
      group.bySeed.set(config.seed, run);
    }
  }
  const summaries: GroupSummary[] = [...groups.values()].map(({ method, variant, labels, bySeed }) => {
    const members = [...bySeed.values()].sort((a, b) => a.record.config.seed - b.record.config.seed);
    const results = members.map((r) => r.record.result);
    return {
      ...method,
      variant,
      labels,
      runs: members,
      seeds: members.map((r) => r.record.config.seed),
      testAtBest: meanInterval(results.map((r) => r.testAccuracyAtBest)),
      validationAtBest: meanInterval(results.map((r) => r.validationAccuracyAtBest)),
      testLast: meanInterval(results.map((r) => r.testAccuracyLast)),
      epochs: [...new Set(members.map((r) => r.record.config.epochs))].sort((a, b) => a - b),
      meanWallSeconds: members.reduce((s, r) => s + r.record.wallSeconds, 0) / members.length,
    };
  });
  const variantOrder = (v: Variant) => VARIANTS.indexOf(v);
  summaries.sort((a, b) => variantOrder(a.variant) - variantOrder(b.variant) || a.method.localeCompare(b.method) || a.labels - b.labels);
  return {
    root,
    groups: summaries,
    skipped: [...skipped, ...extraSkipped],
    runCount: summaries.reduce((s, g) => s + g.runs.length, 0),
    restartChoices: choices,
  };
}

/**
 * Every run at N = `labels` whose objective has an unlabelled bound (the M2 variants and M1+M2),
 * restarts included: its final unlabelled loss beside its test accuracy, named by its method
 * without the restart. Runs of the labelled-only classifiers have no bound and are left out.
 */
export function boundVersusAccuracy(runs: LoadedRun[], labels: number): BoundPoint[] {
  return runs.flatMap(({ dir, record }) => {
    const unlabelledLoss = finalUnlabelledLoss(record);
    if (record.config.labels !== labels || unlabelledLoss === undefined) return [];
    const config = resolveConfig(record.config);
    const method = methodOf({ ...config, restart: 0 }).method;
    return [
      { method, seed: config.seed, restart: config.restart, dir, unlabelledLoss, testAccuracyAtBest: record.result.testAccuracyAtBest },
    ];
  });
}

/**
 * Differences that name a row of oneRowPerMethod's table: the preset, a choice among starts,
 * averaged weights (evaluated on the same training, so a row of its own beside the weights') and
 * the class-balance penalty (another objective).
 */
const ROW_NAMING = /^(preset |best of \d+ starts|averageDecay |classBalance )/;

/**
 * The summary as Table 1 shows it: one row per variant (and preset), whatever else its settings
 * are at each N. The settings of a method may be chosen per N (on validation: M1+M2 trains longer
 * at N = 100 than at the others), and a reader wants one row for it. Each group keeps all its
 * settings in `differences`; `rowDifferences` holds those that name its row. Two groups that
 * would fill the same row at the same N are an error, since a cell holds one number.
 */
export function oneRowPerMethod(summary: ComparisonSummary): ComparisonSummary {
  const cells = new Map<string, GroupSummary>();
  const groups = summary.groups.map((group) => {
    const rowDifferences = group.differences.filter((d) => ROW_NAMING.test(d));
    const row: GroupSummary = { ...group, ...methodNamed(group.variant, rowDifferences), rowDifferences };
    const cell = `${row.methodKey}#${group.labels}`;
    const other = cells.get(cell);
    if (other)
      throw new Error(
        `"${row.method}" has two settings at N = ${group.labels} ("${other.differences.join(', ')}" and ` +
          `"${group.differences.join(', ')}"); a table of one row per method takes one of them`,
      );
    cells.set(cell, group);
    return row;
  });
  return { ...summary, groups };
}

/** For each row of oneRowPerMethod's table, its settings beyond the row's name, with the N they apply at. */
export interface RowSettings {
  method: string;
  /** One entry per distinct setting list, N ascending; empty settings are the defaults. */
  byLabels: { labels: number[]; settings: string[] }[];
}

/** The settings behind each row of a oneRowPerMethod summary; rows on the defaults at every N are left out. */
export function rowSettings(summary: ComparisonSummary): RowSettings[] {
  const rows = new Map<string, RowSettings>();
  for (const group of summary.groups) {
    const named = new Set(group.rowDifferences ?? []);
    const settings = group.differences.filter((d) => !named.has(d));
    let row = rows.get(group.methodKey);
    if (!row) rows.set(group.methodKey, (row = { method: group.method, byLabels: [] }));
    const same = row.byLabels.find((b) => stableJson(b.settings) === stableJson(settings));
    if (same) same.labels = [...same.labels, group.labels].sort((a, b) => a - b);
    else row.byLabels.push({ labels: [group.labels], settings });
  }
  for (const row of rows.values()) row.byLabels.sort((a, b) => (a.labels[0] ?? 0) - (b.labels[0] ?? 0));
  return [...rows.values()].filter((row) => row.byLabels.some((b) => b.settings.length > 0));
}

/** Reads and summarises the runs under `root` (default data/runs); no runs gives no groups. */
export function loadComparison(root: string = defaultRunsDir()): ComparisonSummary {
  const { runs, skipped } = collectRuns(root);
  return summariseRuns(runs, root, skipped);
}

/** One cell of the table: a mean (or a published number) with its interval if it has one. */
export interface TableCell {
  accuracy: number;
  /** Half-width of the ± shown. */
  spread?: number;
  /** What the ± means: our own and Pyro's are 95% intervals, Kingma et al.'s are as printed. */
  spreadKind?: SpreadKind;
  /** Number of seeds (our runs only). */
  n?: number;
}

export interface ComparisonRow {
  key: string;
  method: string;
  /** "This project" or the published source's short name. */
  source: string;
  kind: 'ours' | 'published';
  variant?: Variant;
  /** Our rows: what differs from the defaults (the preset and settings), empty for the defaults. */
  settings?: string;
  cells: Record<number, TableCell | undefined>;
}

export interface ComparisonTable {
  labelCounts: number[];
  rows: ComparisonRow[];
}

export interface TableOptions {
  /** Columns; default the published 100, 600, 1000, 3000 and any other N our runs have. */
  labelCounts?: number[];
  /** Published series to show beside ours; default all of Pyro's and Kingma et al.'s. */
  published?: PublishedSeries[];
}

/** Our groups and the published series as rows of methods over columns of N. */
export function comparisonTable(summary: ComparisonSummary, options: TableOptions = {}): ComparisonTable {
  const labelCounts =
    options.labelCounts ?? [...new Set([...PUBLISHED_LABEL_COUNTS, ...summary.groups.map((g) => g.labels)])].sort((a, b) => a - b);
  const rows: ComparisonRow[] = [];
  const ours = new Map<string, ComparisonRow>();
  for (const group of summary.groups) {
    let row = ours.get(group.methodKey);
    if (!row) {
      row = {
        key: `ours-${group.methodKey}`,
        method: group.method,
        source: 'This project',
        kind: 'ours',
        variant: group.variant,
        settings: (group.rowDifferences ?? group.differences).join(', '),
        cells: {},
      };
      ours.set(group.methodKey, row);
      rows.push(row);
    }
    const { mean, n, halfWidth } = group.testAtBest;
    row.cells[group.labels] = { accuracy: mean, n, ...(n >= 2 ? { spread: halfWidth, spreadKind: '95% interval' as SpreadKind } : {}) };
  }
  for (const series of options.published ?? publishedSeries()) {
    const cells: Record<number, TableCell> = {};
    for (const p of series.points) {
      cells[p.labels] = { accuracy: p.accuracy, ...(p.spread === undefined ? {} : { spread: p.spread, spreadKind: series.spreadKind }) };
    }
    rows.push({
      key: series.key,
      method: series.method,
      source: series.source.short,
      kind: 'published',
      ...(series.variant ? { variant: series.variant } : {}),
      cells,
    });
  }
  return { labelCounts, rows };
}

/** Where each of our numbers comes from: settings, seeds, machine and dates of the runs. */
export interface Provenance {
  method: string;
  labels: number;
  seeds: number[];
  epochs: number[];
  schedule: string[];
  lr: number[];
  backends: string[];
  machines: string[];
  commits: string[];
  firstStarted: string;
  lastStarted: string;
  meanWallSeconds: number;
}

function distinct<T>(values: T[]): T[] {
  return [...new Set(values)];
}

export function provenance(summary: ComparisonSummary): Provenance[] {
  return summary.groups.map((g) => {
    const records = g.runs.map((r) => r.record);
    const started = records.map((r) => r.environment.startedAt).sort();
    return {
      method: g.method,
      labels: g.labels,
      seeds: g.seeds,
      epochs: g.epochs,
      schedule: distinct(records.map((r) => r.config.schedule)),
      lr: distinct(records.map((r) => r.config.lr)),
      backends: distinct(records.map((r) => r.environment.backend)),
      machines: distinct(records.map((r) => `${r.environment.cpu} (${r.environment.cores} cores)`)),
      commits: distinct(records.map((r) => r.environment.commit.slice(0, 10))),
      firstStarted: started[0] ?? '',
      lastStarted: started[started.length - 1] ?? '',
      meanWallSeconds: g.meanWallSeconds,
    };
  });
}

/** One of our groups set against the published number for the same variant and N. */
export interface PublishedDifference {
  method: string;
  labels: number;
  ours: MeanInterval;
  published: { accuracy: number; spread?: number; source: string; method: string };
  /** ours.mean − published accuracy. */
  difference: number;
  /** 'within' if the intervals overlap (or ours has none and falls inside theirs), else 'above' / 'below'. */
  verdict: 'within' | 'above' | 'below';
}

/**
 * For each of our groups, the published number of the same variant at the same N: by default
 * Pyro's tutorial, which reports variants 1–3 and the baseline with 95% intervals, and for M1+M2
 * Kingma et al.'s table (± as printed there).
 */
export function differencesFromPublished(
  summary: ComparisonSummary,
  published: PublishedSeries[] = publishedSeries().filter((s) => s.key.startsWith('pyro-') || s.variant === 'm1m2'),
): PublishedDifference[] {
  const out: PublishedDifference[] = [];
  for (const group of summary.groups) {
    const series = published.find((s) => s.variant === group.variant);
    const point = series?.points.find((p) => p.labels === group.labels);
    if (!series || !point) continue;
    const ours = group.testAtBest;
    const theirLow = point.accuracy - (point.spread ?? 0);
    const theirHigh = point.accuracy + (point.spread ?? 0);
    const ourLow = Number.isFinite(ours.low) ? ours.low : ours.mean;
    const ourHigh = Number.isFinite(ours.high) ? ours.high : ours.mean;
    const verdict = ourHigh < theirLow ? 'below' : ourLow > theirHigh ? 'above' : 'within';
    out.push({
      method: group.method,
      labels: group.labels,
      ours,
      published: {
        accuracy: point.accuracy,
        ...(point.spread === undefined ? {} : { spread: point.spread }),
        source: series.source.short,
        method: series.method,
      },
      difference: ours.mean - point.accuracy,
      verdict,
    });
  }
  return out;
}

/** Two rows of Table 1 compared on the labelled subsets that both have a finished run at one N. */
export interface PairedDifference {
  labels: number;
  /** The seeds (each a labelled subset) where both rows have a run, ascending. */
  seeds: number[];
  /** Test accuracy at the best validation epoch of row a minus that of row b, seed by seed. */
  differences: number[];
  /** Mean of the differences with its 95% Student t interval (NaN with fewer than two pairs). */
  interval: MeanInterval;
  /** How many pairs a wins, ties (the same number of test images right) and loses. */
  above: number;
  level: number;
  below: number;
}

/** Row a against row b of a one-row-per-method summary, at every N where they share a seed. */
export interface PairedComparison {
  a: string;
  b: string;
  byLabels: PairedDifference[];
}

/**
 * Row `a` minus row `b` (methodKeys of a oneRowPerMethod summary, e.g. "m1m2|" and "v3|"), paired
 * by seed: the same seed and N is the same labelled subset, so the difference of two runs on it
 * leaves out the spread between subsets that widens each row's own interval. Label counts where the
 * two share no seed are left out; a key that names no row is an error.
 */
export function pairedDifferences(summary: ComparisonSummary, a: string, b: string): PairedComparison {
  const rows = (key: string) => {
    const groups = summary.groups.filter((g) => g.methodKey === key);
    const method = groups[0]?.method;
    if (method === undefined) throw new Error(`pairedDifferences: no row "${key}" in the summary (rows: ${distinctKeys(summary)})`);
    return { groups, method };
  };
  const [rowA, rowB] = [rows(a), rows(b)];
  const byLabels: PairedDifference[] = [];
  for (const groupA of [...rowA.groups].sort((x, y) => x.labels - y.labels)) {
    const groupB = rowB.groups.find((g) => g.labels === groupA.labels);
    if (!groupB) continue;
    const bySeed = new Map(groupB.runs.map((r) => [r.record.config.seed, r.record.result.testAccuracyAtBest]));
    const pairs = groupA.runs.flatMap((r) => {
      const other = bySeed.get(r.record.config.seed);
      return other === undefined ? [] : [{ seed: r.record.config.seed, difference: r.record.result.testAccuracyAtBest - other }];
    });
    if (pairs.length === 0) continue;
    // Accuracies are counts of test images over the test set; a difference below 1e-9 is a tie.
    const sign = (d: number) => (Math.abs(d) < 1e-9 ? 0 : Math.sign(d));
    const differences = pairs.map((p) => p.difference);
    byLabels.push({
      labels: groupA.labels,
      seeds: pairs.map((p) => p.seed),
      differences,
      interval: meanInterval(differences),
      above: differences.filter((d) => sign(d) > 0).length,
      level: differences.filter((d) => sign(d) === 0).length,
      below: differences.filter((d) => sign(d) < 0).length,
    });
  }
  return { a: rowA.method, b: rowB.method, byLabels };
}

function distinctKeys(summary: ComparisonSummary): string {
  return [...new Set(summary.groups.map((g) => `"${g.methodKey}"`))].join(', ');
}
