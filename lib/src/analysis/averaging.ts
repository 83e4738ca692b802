/**
 * What averaging the weights changes (config.averageDecay, model/average.ts). A run that averages
 * records, every epoch, the accuracies of the averaged weights and of the trained weights
 * themselves (EpochRecord.unaveraged), so one run answers both ways: the same training, selected
 * by validation once on each curve. Pairs from the same run differ only in what is evaluated.
 */
import { mean, meanInterval, sampleStd, type MeanInterval } from '../core/stats';
import type { Variant } from '../model/config';
import { summarise, type EpochRecord, type RunRecord } from '../train/records';

/** One way of reading a run: the epoch validation picks, its accuracies, and how much the test accuracy moves at the end. */
export interface Reading {
  bestEpoch: number;
  validationAccuracy: number;
  testAccuracy: number;
  /** Sample standard deviation of the test accuracy over the last `LAST_EPOCHS` epochs. */
  lateSpread: number;
}

/** How many final epochs lateSpread covers. */
export const LAST_EPOCHS = 10;

export interface AveragingRun {
  dir: string;
  variant: Variant;
  labels: number;
  seed: number;
  decay: number;
  averaged: Reading;
  unaveraged: Reading;
}

/**
 * The record read with the trained weights' own accuracies (epochs[].unaveraged), as a run
 * without averaging would have recorded them; best epoch and result recomputed. Throws, naming
 * `dir`, if an epoch lacks them.
 */
export function unaveragedRecord(record: RunRecord, dir = 'the run'): RunRecord {
  const epochs: EpochRecord[] = record.epochs.map((e) => {
    if (e.unaveraged === undefined)
      throw new Error(`${dir}: epoch ${e.epoch} records no unaveraged accuracies (config.averageDecay is ${record.config.averageDecay})`);
    const { unaveraged, ...rest } = e;
    return { ...rest, ...unaveraged };
  });
  return { ...record, config: { ...record.config, averageDecay: 0 }, epochs, result: summarise(epochs, record.config.epochs) };
}

/** The record's own result (as the trainer, or unaveragedRecord, summarised its epochs) and its late spread. */
function reading(record: RunRecord): Reading {
  const late = record.epochs.slice(-LAST_EPOCHS).map((e) => e.testAccuracy);
  const { result } = record;
  return {
    bestEpoch: result.bestEpoch,
    validationAccuracy: result.validationAccuracyAtBest,
    testAccuracy: result.testAccuracyAtBest,
    lateSpread: late.length >= 2 ? sampleStd(late) : NaN,
  };
}

/** Every finished run among `runs` that averaged its weights, read both ways; by variant, N, decay and seed. */
export function averagingRuns(runs: readonly { dir: string; record: RunRecord }[]): AveragingRun[] {
  return runs
    .filter(({ record }) => record.config.averageDecay > 0 && record.result.finished)
    .map(({ dir, record }) => ({
      dir,
      variant: record.config.variant,
      labels: record.config.labels,
      seed: record.config.seed,
      decay: record.config.averageDecay,
      averaged: reading(record),
      unaveraged: reading(unaveragedRecord(record, dir)),
    }))
    .sort((a, b) => a.variant.localeCompare(b.variant) || a.labels - b.labels || a.decay - b.decay || a.seed - b.seed);
}

/** The runs of one variant, N and decay, summarised both ways. */
export interface AveragingGroup {
  variant: Variant;
  labels: number;
  decay: number;
  seeds: number[];
  /** Mean best-epoch validation accuracy, averaged and unaveraged: what the choice between them rests on. */
  validation: { averaged: number; unaveraged: number };
  /** Test accuracy at the best validation epoch, mean and 95% Student-t interval over seeds. */
  test: { averaged: MeanInterval; unaveraged: MeanInterval };
  /** Mean over runs of lateSpread. */
  lateSpread: { averaged: number; unaveraged: number };
  /** Whether the averaged weights have the higher mean validation accuracy. */
  averagingWins: boolean;
}

export function averagingGroups(runs: readonly AveragingRun[]): AveragingGroup[] {
  const groups = new Map<string, AveragingRun[]>();
  for (const run of runs) {
    const key = `${run.variant}|${run.labels}|${run.decay}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map((rs) => {
    const first = rs[0] as AveragingRun;
    const both = <T>(f: (r: Reading) => number, g: (v: number[]) => T) => ({
      averaged: g(rs.map((r) => f(r.averaged))),
      unaveraged: g(rs.map((r) => f(r.unaveraged))),
    });
    const validation = both((r) => r.validationAccuracy, mean);
    return {
      variant: first.variant,
      labels: first.labels,
      decay: first.decay,
      seeds: rs.map((r) => r.seed),
      validation,
      test: both(
        (r) => r.testAccuracy,
        (v) => meanInterval(v),
      ),
      lateSpread: both((r) => r.lateSpread, mean),
      averagingWins: validation.averaged > validation.unaveraged,
    };
  });
}
