/**
 * Table 1 as the project's plans define it: the runs that plans/table1.json (variants 1–3 and the
 * labelled-only classifier, and Pyro's script as published), plans/m1m2-table.json (M1 and
 * M1+M2), plans/gumbel-table.json (the Gumbel-softmax M2), plans/averaging-table.json (variant
 * 3 evaluated with averaged weights) and plans/class-balance-table.json (variant 3 with the
 * class-balance penalty, N = 100) train, found where the sweep put
 * them, one row per method. A method's settings may differ by N (chosen on validation); the row
 * says so in its notes. Every other run record (the studies, restarts, round 1) is summarised
 * beside it by the README's second table and notebook 07's list of all groups.
 */
import * as path from 'node:path';
import {
  defaultRunsDir,
  loadComparison,
  oneRowPerMethod,
  pairedDifferences,
  type ComparisonSummary,
  type PairedComparison,
} from '../analysis/comparison';
import { libraryDir } from '../core/paths';
import { resultsMarkdown } from '../figures/comparison';
import { expandPlans, PlanError, readPlanFile, summarisePlanned, type SweepPlan } from './sweep';

/** The plan files whose runs are Table 1, in the project's plans/ folder. */
export const TABLE_PLANS = [
  'table1.json',
  'm1m2-table.json',
  'gumbel-table.json',
  'averaging-table.json',
  'class-balance-table.json',
] as const;

/** TABLE_PLANS as the project names them: "plans/table1.json", … */
export const TABLE_PLAN_NAMES = TABLE_PLANS.map((f) => `plans/${f}`);

/** The project's plans/ folder (beside lib/). */
export function plansDir(): string {
  return path.resolve(libraryDir(), '..', 'plans');
}

/** The plans in `files`, each an M2 plan (a plan of unsupervised models is refused). */
function tablePlans(files: string[]): SweepPlan[] {
  return files.flatMap((file) =>
    readPlanFile(file).map((plan, i) => {
      if ('models' in plan) throw new PlanError(`${file}: plans[${i}] lists unsupervised models; Table 1 holds M2 variants`);
      return plan;
    }),
  );
}

/**
 * Table 1's finished runs under `root` (default data/runs), one row per method (and preset). An
 * unfinished run leaves its cell to the seeds that are finished; one with no seed finished leaves it empty.
 */
export function tableOneSummary(
  root: string = defaultRunsDir(),
  files: string[] = TABLE_PLANS.map((f) => path.join(plansDir(), f)),
): ComparisonSummary {
  const runs = expandPlans(tablePlans(files));
  return { ...oneRowPerMethod(summarisePlanned(runs, root)), plannedCount: runs.length };
}

/**
 * The rows of Table 1 that the README compares subset by subset, as [a, b] (a minus b), each a
 * question the collection asks: what the unlabelled images add to a classifier, what the
 * classification term adds to M2, what relaxing y costs against summing it out, what M1's
 * features add to a labelled-only classifier, what they add to M2, and what the class-balance
 * penalty (λ = 10, plans/class-balance-table.json) changes in variant 3.
 */
export const TABLE_PAIRS: readonly (readonly [string, string])[] = [
  ['v3|', 'baseline|'],
  ['v3|', 'v2|'],
  ['gumbel|', 'v3|'],
  ['m1|', 'baseline|'],
  ['m1m2|', 'v3|'],
  ['v3|classBalance 10', 'v3|'],
];

/** TABLE_PAIRS paired by subset in a Table 1 summary; pairs with a row missing from it are left out. */
export function tablePairs(summary: ComparisonSummary): PairedComparison[] {
  const keys = new Set(summary.groups.map((g) => g.methodKey));
  return TABLE_PAIRS.filter(([a, b]) => keys.has(a) && keys.has(b)).map(([a, b]) => pairedDifferences(summary, a, b));
}

/** The README's results block for the records under `root`: Table 1, its settings, its paired differences, then every group. */
export function resultsBlock(root: string = defaultRunsDir()): string {
  const tableOne = tableOneSummary(root);
  return resultsMarkdown(tableOne, TABLE_PLAN_NAMES, loadComparison(root), tablePairs(tableOne));
}
