/**
 * How much of z a model uses: the KL of each latent dimension, KL(q(z_j|·) ‖ p(z_j)) averaged over
 * validation images, as recorded every epoch (train/evaluate.klPerDimension for M2, the VAE's
 * validation terms for the VAE). A dimension whose KL stays near 0 is inactive: its posterior is
 * the prior whatever the image, so the decoder cannot use it.
 */
import { horizontalRuleLayer, VEGA_LITE_SCHEMA, WIDE_LEGEND, type ChartOptions, type TopLevelSpec } from './vega';
import { ACTIVE_KL, activeUnits } from '../train/evaluate';
import type { RunRecord } from '../train/records';
import type { VaeRunRecord } from '../train/vae';

/** One model's per-dimension KL, epoch by epoch. */
export interface LatentUsage {
  model: string;
  epochs: { epoch: number; klPerDimension: number[] }[];
}

/** The per-dimension KL of an M2 run (epochs that recorded it), under the name `model`. */
export function runLatentUsage(model: string, record: RunRecord): LatentUsage {
  return {
    model,
    epochs: record.epochs.flatMap((e) => (e.klPerDimension ? [{ epoch: e.epoch, klPerDimension: e.klPerDimension }] : [])),
  };
}

/** The per-dimension KL of a VAE on its validation images, under the name `model`. */
export function vaeLatentUsage(model: string, record: VaeRunRecord): LatentUsage {
  return {
    model,
    epochs: record.epochs.flatMap((e) =>
      e.validation.klPerDimension ? [{ epoch: e.epoch, klPerDimension: e.validation.klPerDimension }] : [],
    ),
  };
}

function requireEpochs(usage: LatentUsage[]): void {
  const empty = usage.filter((u) => u.epochs.length === 0).map((u) => u.model);
  if (empty.length > 0) throw new Error(`no per-dimension KL recorded for ${empty.join(', ')} (records written before it existed?)`);
}

/** Number of active dimensions (mean KL above `threshold` nats) per epoch, one line per model. */
export function activeUnitsSpec(usage: LatentUsage[], options: ChartOptions & { threshold?: number } = {}): TopLevelSpec {
  requireEpochs(usage);
  const threshold = options.threshold ?? ACTIVE_KL;
  const values = usage.flatMap((u) =>
    u.epochs.map((e) => ({
      model: u.model,
      epoch: e.epoch,
      active: activeUnits(e.klPerDimension, threshold),
      of: e.klPerDimension.length,
    })),
  );
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? `Active dimensions of z (mean KL above ${threshold} nats)`,
    width: options.width ?? 420,
    height: options.height ?? 220,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'Epoch', axis: { tickMinStep: 1 } },
      y: { field: 'active', type: 'quantitative', title: 'Active dimensions', scale: { zero: true } },
      color: { field: 'model', type: 'nominal', title: 'Model', sort: usage.map((u) => u.model), legend: WIDE_LEGEND },
      tooltip: [{ field: 'model' }, { field: 'epoch' }, { field: 'active' }, { field: 'of', title: 'dimensions' }],
    },
  };
}

/**
 * The last recorded epoch's KL per dimension, dimensions sorted from most to least used, one line
 * per model on a log scale, with the activity threshold as a rule.
 */
export function klProfileSpec(usage: LatentUsage[], options: ChartOptions & { threshold?: number } = {}): TopLevelSpec {
  requireEpochs(usage);
  const threshold = options.threshold ?? ACTIVE_KL;
  // A floor keeps log-scale points for dimensions whose KL is (numerically) zero.
  const floor = 1e-4;
  const values = usage.flatMap((u) => {
    const last = u.epochs[u.epochs.length - 1];
    if (last === undefined) return [];
    return [...last.klPerDimension]
      .sort((a, b) => b - a)
      .map((kl, i) => ({ model: u.model, rank: i + 1, kl: Math.max(kl, floor), epoch: last.epoch }));
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? 'KL of each dimension of z, most used first',
    width: options.width ?? 420,
    height: options.height ?? 220,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'rank', type: 'quantitative', title: 'Dimension (by KL, largest first)', axis: { tickMinStep: 1 } },
          y: { field: 'kl', type: 'quantitative', title: 'Mean KL (nats)', scale: { type: 'log' } },
          color: { field: 'model', type: 'nominal', title: 'Model', sort: usage.map((u) => u.model), legend: WIDE_LEGEND },
          tooltip: [{ field: 'model' }, { field: 'rank' }, { field: 'kl', format: '.4f' }, { field: 'epoch' }],
        },
      },
      horizontalRuleLayer(threshold),
    ],
  };
}
