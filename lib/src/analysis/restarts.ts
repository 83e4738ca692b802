/**
 * Several starts of one labelled subset, and the choice among them by the model's own bound.
 *
 * With few labels M2 can settle where one class of its generative model covers part of another
 * digit (a confusion matrix shows a block of one digit predicted as another). Whether it does
 * depends on the start as much as on the subset: the same ten images per digit can give a merged
 * and an unmerged model from other initial weights. A merged model also fits the images worse,
 * so its bound on the unlabelled images is lower. Restarts of a subset (config.restart) compared
 * by that bound pick the better fit without looking at a label, the way restarts of a mixture
 * model are compared by their likelihood.
 *
 * The number compared is the last epoch's mean of −U(x) over the unlabelled training batches
 * (the term `unlabelled.loss` of the run record), in nats per image: lower is the better fit.
 */
import type { Variant } from '../model/config';
import type { RunRecord } from '../train/records';

/** A finished run as the comparison reads it. */
export interface StartRun {
  dir: string;
  record: RunRecord;
  /** Set on a run chosen among the starts of its subset: how many starts it was chosen from. */
  startsCompared?: number;
}

/** One start of a subset, as the choice saw it. */
export interface StartSummary {
  restart: number;
  dir: string;
  /** The last epoch's mean −U(x) on the unlabelled images (nats per image). */
  unlabelledLoss: number;
  validationAccuracyAtBest: number;
  testAccuracyAtBest: number;
}

/** The starts of one method's subset (N, seed) and the one chosen. */
export interface RestartChoice {
  /** The method without its restart: variant and every other setting. */
  methodKey: string;
  variant: Variant;
  labels: number;
  seed: number;
  /** Every start, by restart number. */
  starts: StartSummary[];
  /** The restart number of the start with the lowest unlabelled loss. */
  chosen: number;
}

/** The last epoch's −U(x), the negative bound on the unlabelled images; undefined for a run without one. */
export function finalUnlabelledLoss(record: RunRecord): number | undefined {
  const loss = record.epochs.at(-1)?.losses['unlabelled.loss'];
  return loss !== undefined && Number.isFinite(loss) ? loss : undefined;
}

/**
 * Groups runs by `methodKey` (which must leave the restart out), N and seed. Where a group holds
 * more than one start, the start with the lowest final unlabelled loss is returned marked with
 * the number of starts compared (ties go to the lower restart), and the restarts other than 0
 * are left out. Every restart-0 run passes through as it is: it stays the method's single-start
 * result. `replaced` lists the earlier runs of a restart other than 0 that was run twice. Runs of
 * variants without an unlabelled bound (the classifiers on labels alone) never have their starts
 * compared: they pass through, each restart its own method.
 */
export function chooseStarts<R extends StartRun>(
  runs: R[],
  methodKey: (run: R) => string,
): { runs: R[]; choices: RestartChoice[]; replaced: R[] } {
  const groups = new Map<string, { key: string; members: R[] }>();
  for (const run of runs) {
    const key = methodKey(run);
    const { labels, seed } = run.record.config;
    const id = `${key}#${labels}#${seed}`;
    const group = groups.get(id) ?? { key, members: [] };
    group.members.push(run);
    groups.set(id, group);
  }
  const out: R[] = [];
  const replaced: R[] = [];
  const choices: RestartChoice[] = [];
  for (const { key, members } of groups.values()) {
    // The latest run of each restart counts; an earlier run of the same start is replaced (restart
    // 0's pass through, and the comparison reports them as replaced, as for any seed run twice).
    const latest = new Map<number, R>();
    for (const run of members) {
      const held = latest.get(run.record.config.restart);
      if (!held || held.record.environment.startedAt <= run.record.environment.startedAt) latest.set(run.record.config.restart, run);
    }
    const starts = [...latest.values()]
      .flatMap((run) => {
        const unlabelledLoss = finalUnlabelledLoss(run.record);
        if (unlabelledLoss === undefined) return [];
        const { restart } = run.record.config;
        const { validationAccuracyAtBest, testAccuracyAtBest } = run.record.result;
        return [{ run, summary: { restart, dir: run.dir, unlabelledLoss, validationAccuracyAtBest, testAccuracyAtBest } }];
      })
      .sort((a, b) => a.summary.restart - b.summary.restart);
    if (latest.size < 2 || starts.length < latest.size) {
      out.push(...members);
      continue;
    }
    replaced.push(...members.filter((r) => r.record.config.restart !== 0 && latest.get(r.record.config.restart) !== r));
    const best = starts.reduce((a, b) => (b.summary.unlabelledLoss < a.summary.unlabelledLoss ? b : a));
    out.push(...members.filter((r) => r.record.config.restart === 0));
    out.push({ ...best.run, startsCompared: starts.length });
    const { variant, labels, seed } = best.run.record.config;
    choices.push({ methodKey: key, variant, labels, seed, starts: starts.map((s) => s.summary), chosen: best.summary.restart });
  }
  return { runs: out, choices, replaced };
}

/** One run at one N: its bound on the unlabelled images beside its accuracy. */
export interface BoundPoint {
  /** The method without its restart (analysis/comparison.ts names it). */
  method: string;
  seed: number;
  restart: number;
  dir: string;
  unlabelledLoss: number;
  testAccuracyAtBest: number;
}

/**
 * Of the pairs of runs of one method, how many are ordered alike by the bound and by test
 * accuracy (the run with the lower final unlabelled loss is the more accurate one): Kendall's
 * concordance, counted. Pairs tied in either number are left out.
 */
export function boundConcordance(points: BoundPoint[]): { method: string; runs: number; concordant: number; pairs: number }[] {
  const byMethod = new Map<string, BoundPoint[]>();
  for (const p of points) byMethod.set(p.method, [...(byMethod.get(p.method) ?? []), p]);
  return [...byMethod.entries()].map(([method, members]) => {
    let concordant = 0;
    let pairs = 0;
    members.forEach((a, i) =>
      members.slice(i + 1).forEach((b) => {
        const byBound = Math.sign(b.unlabelledLoss - a.unlabelledLoss);
        const byAccuracy = Math.sign(a.testAccuracyAtBest - b.testAccuracyAtBest);
        if (byBound === 0 || byAccuracy === 0) return;
        pairs += 1;
        if (byBound === byAccuracy) concordant += 1;
      }),
    );
    return { method, runs: members.length, concordant, pairs };
  });
}
