/**
 * Views of a run record without retraining. The first n epochs of a run are the same
 * computation as a run of n epochs with the same configuration (every epoch's shuffling and
 * noise are seeded by the seed and the epoch's number), so a long run also answers for the
 * shorter one.
 */
import { summarise, type RunRecord } from './records';

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
