/**
 * One line of text per epoch, for whoever watches training go by (a notebook, a script): the
 * epoch, its time, the accuracies and the loss terms, in a fixed order so lines line up.
 */
import type { EpochRecord, RunRecord } from '../train/records';
import type { VaeEpochRecord } from '../train/vae';

/** `epoch 3/20  24.1 s  validation 91.23%  test 90.87%  | labelled.loss 98.21  …` */
export function epochLine(entry: EpochRecord, totalEpochs: number): string {
  const losses = Object.entries(entry.losses)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${name} ${value.toFixed(2)}`)
    .join('  ');
  const pct = (a: number) => `${(100 * a).toFixed(2)}%`;
  const head = [
    `epoch ${entry.epoch}/${totalEpochs}`,
    `${entry.seconds.toFixed(1)} s`,
    `validation ${pct(entry.validationAccuracy)}`,
    `test ${pct(entry.testAccuracy)}`,
  ];
  return `${head.join('  ')}  | ${losses}`;
}

/** `epoch 3/20  5.2 s  −ELBO train 104.31 validation 102.87  (reconstruction 79.10, KL 23.77)` */
export function vaeEpochLine(entry: VaeEpochRecord, totalEpochs: number): string {
  const v = entry.validation;
  const elbo = `−ELBO train ${entry.train.negativeElbo.toFixed(2)} validation ${v.negativeElbo.toFixed(2)}`;
  const terms = `(validation reconstruction ${v.reconstruction.toFixed(2)}, KL ${v.kl.toFixed(2)})`;
  return [`epoch ${entry.epoch}/${totalEpochs}`, `${entry.seconds.toFixed(1)} s`, elbo, terms].join('  ');
}

/** `v3, N = 3000: best validation accuracy 93.10% at epoch 12 of 15, test accuracy there 92.85% (last epoch 92.40%); 412 s of training` */
export function resultLine(record: RunRecord): string {
  const { config, result } = record;
  const pct = (a: number) => `${(100 * a).toFixed(2)}%`;
  const name = config.variant === 'v3' ? `v3 (α′ = ${+(record.derived?.alpha ?? config.alpha).toPrecision(4)})` : config.variant;
  const best = `best validation accuracy ${pct(result.validationAccuracyAtBest)} at epoch ${result.bestEpoch} of ${record.epochs.length}`;
  const test = `test accuracy there ${pct(result.testAccuracyAtBest)} (last epoch ${pct(result.testAccuracyLast)})`;
  return `${name}, N = ${config.labels}: ${best}, ${test}; ${record.wallSeconds.toFixed(0)} s of training`;
}
