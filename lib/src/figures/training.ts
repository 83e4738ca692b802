/**
 * Vega-Lite specifications for what training produces: loss terms and accuracies per epoch
 * from run records, comparisons of runs, hyperparameter sweeps, the gradient-variance
 * measurement and the plain VAE's bound. Each builder reads records (plain data), never a live
 * model, and returns a spec for renderSvg; every chart has a title, axis titles, and a legend
 * whenever colour means something.
 */
import { VEGA_LITE_SCHEMA, WIDE_LEGEND, type ChartOptions, type TopLevelSpec } from './vega';
import { GRADIENT_GROUPS, type GradientGroup, type GradientVarianceResult } from '../analysis/gradient-variance';
import { M2_NETWORKS, type Network } from '../model/m2';
import type { RunRecord } from '../train/records';
import type { VaeRunRecord } from '../train/vae';

/** How each loss term of a run record is labelled, in display order. */
const QUANTITIES: [string, string][] = [
  ['loss', '−bound (the loss)'],
  ['reconstruction', '−log p(x|y,z)'],
  ['kl', 'KL(q(z|x,y) ‖ p(z))'],
  ['entropy', 'H(q(y|x))'],
  ['classification', '−log q(y|x)'],
];

const epochAxis = { field: 'epoch', type: 'quantitative', title: 'Epoch', axis: { tickMinStep: 1 } } as const;

/**
 * The loss terms of one run per epoch, one panel per quantity (each with its own scale), the
 * labelled and unlabelled batches' averages in two colours.
 */
export function lossTermsSpec(record: RunRecord, options: ChartOptions = {}): TopLevelSpec {
  const titles = new Map(QUANTITIES);
  const values = record.epochs.flatMap((e) =>
    Object.entries(e.losses).map(([name, value]) => {
      const [batch = name, quantity = name] = name.split('.');
      return { epoch: e.epoch, batch, quantity: titles.get(quantity) ?? quantity, value };
    }),
  );
  const order = QUANTITIES.map(([, label]) => label).filter((label) => values.some((v) => v.quantity === label));
  return curvePanelsSpec(values, {
    title: options.title ?? `Loss terms per epoch (${record.config.variant}, N = ${record.config.labels})`,
    order,
    colour: { field: 'batch', type: 'nominal', title: 'Batches' },
    width: options.width ?? 190,
    height: options.height ?? 130,
  });
}

/** Curves of `value` per epoch, one panel per `quantity` (each with its own y scale), coloured by `colour`. */
function curvePanelsSpec(
  values: { epoch: number; quantity: string; value: number }[],
  o: { title: string; order: string[]; colour: Record<string, unknown>; width: number; height: number },
): TopLevelSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: o.title,
    data: { values },
    columns: 3,
    facet: { field: 'quantity', type: 'nominal', title: null, sort: o.order, header: { labelFontSize: 12 } },
    spec: {
      width: o.width,
      height: o.height,
      mark: { type: 'line', point: true },
      encoding: {
        x: epochAxis,
        y: { field: 'value', type: 'quantitative', title: 'Nats per image', scale: { zero: false } },
        color: o.colour,
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/** Validation and test accuracy of q(y|x) per epoch, with the best validation epoch marked. */
export function accuracySpec(record: RunRecord, options: ChartOptions = {}): TopLevelSpec {
  const values = record.epochs.flatMap((e) => [
    { epoch: e.epoch, split: 'validation', accuracy: e.validationAccuracy },
    { epoch: e.epoch, split: 'test', accuracy: e.testAccuracy },
  ]);
  const best = record.result.bestEpoch;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? `Accuracy of q(y|x) per epoch (${record.config.variant}, N = ${record.config.labels})`,
    width: options.width ?? 420,
    height: options.height ?? 220,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: epochAxis,
          y: { field: 'accuracy', type: 'quantitative', title: 'Accuracy', scale: { zero: false }, axis: { format: '.0%' } },
          color: { field: 'split', type: 'nominal', title: 'Split', sort: ['validation', 'test'] },
        },
      },
      {
        data: { values: best > 0 ? [{ epoch: best, label: `best validation (epoch ${best})` }] : [] },
        layer: [
          { mark: { type: 'rule', strokeDash: [4, 3], color: 'grey' }, encoding: { x: { field: 'epoch', type: 'quantitative' } } },
          {
            mark: { type: 'text', align: 'left', dx: 4, dy: -4, baseline: 'bottom', color: 'grey', y: 0 },
            encoding: { x: { field: 'epoch', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
    ],
  };
}

export interface LabelledRun {
  /** The legend entry, e.g. "α′ = 46" or "v2". */
  label: string;
  record: RunRecord;
}

export interface ComparisonOptions extends ChartOptions {
  /** Which accuracy to plot (default validation). */
  metric?: 'validationAccuracy' | 'testAccuracy';
  /** Title of the colour legend (default "Run"). */
  legendTitle?: string;
}

/** One accuracy of several runs per epoch, a colour per run; clicking a run in the legend highlights it. */
export function runsComparisonSpec(runs: LabelledRun[], options: ComparisonOptions = {}): TopLevelSpec {
  const metric = options.metric ?? 'validationAccuracy';
  const metricTitle = metric === 'validationAccuracy' ? 'Validation accuracy' : 'Test accuracy';
  const values = runs.flatMap(({ label, record }) => record.epochs.map((e) => ({ epoch: e.epoch, run: label, accuracy: e[metric] })));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? `${metricTitle} per epoch`,
    width: options.width ?? 420,
    height: options.height ?? 240,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: epochAxis,
      y: { field: 'accuracy', type: 'quantitative', title: metricTitle, scale: { zero: false }, axis: { format: '.0%' } },
      color: { field: 'run', type: 'nominal', title: options.legendTitle ?? 'Run', sort: runs.map((r) => r.label), legend: WIDE_LEGEND },
      // The run's name on each mark, for the legend selection (and screen readers).
      description: { field: 'run' },
    },
    usermeta: { legendSelect: true },
  };
}

export interface SweepPoint {
  /** The swept setting's value for this run. */
  value: number;
  record: RunRecord;
}

export interface SweepOptions extends ChartOptions {
  /** Axis title of the swept setting, e.g. "α′ (weight of the classification term)". */
  parameterTitle: string;
}

/**
 * Best validation accuracy of each run of a sweep, and the test accuracy at that epoch, against
 * the swept setting (one category per value, in numeric order).
 */
export function sweepSpec(points: SweepPoint[], options: SweepOptions): TopLevelSpec {
  const values = points.flatMap(({ value, record }) => [
    { value, measure: 'validation, best epoch', accuracy: record.result.validationAccuracyAtBest },
    { value, measure: 'test, at that epoch', accuracy: record.result.testAccuracyAtBest },
  ]);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? `Accuracy against ${options.parameterTitle}`,
    width: options.width ?? 360,
    height: options.height ?? 220,
    data: { values },
    mark: { type: 'line', point: { size: 60 } },
    encoding: {
      x: { field: 'value', type: 'ordinal', title: options.parameterTitle, sort: 'ascending', axis: { labelAngle: 0 } },
      y: { field: 'accuracy', type: 'quantitative', title: 'Accuracy', scale: { zero: false }, axis: { format: '.1%' } },
      color: {
        field: 'measure',
        type: 'nominal',
        title: 'Accuracy',
        sort: ['validation, best epoch', 'test, at that epoch'],
        legend: WIDE_LEGEND,
      },
    },
  };
}

const GROUP_TITLES: Record<GradientGroup, string> = {
  classifier: 'q(y|x) (classifier)',
  encoder: 'q(z|x,y) (encoder)',
  decoder: 'p(x|y,z) (decoder)',
  all: 'all parameters',
};

// Bars on a log scale need `stack: null`: a stacked bar starts at 0, whose logarithm is −∞, and
// Vega then draws every bar with zero height.

/**
 * Signal-to-noise ratio ‖E g‖ / √(tr Cov g) of each gradient estimator, per network, on a
 * log scale with a rule at 1: below it a single draw is more noise than gradient.
 */
export function gradientSnrSpec(result: GradientVarianceResult, options: ChartOptions = {}): TopLevelSpec {
  const values = result.stats.map((s) => ({ x: GROUP_TITLES[s.group], estimator: s.estimator, snr: s.snr }));
  return snrBarsSpec(values, {
    title: options.title ?? `Signal-to-noise ratio of the gradient of U(x) (${result.draws} draws, batch of ${result.batchSize})`,
    xTitle: 'Parameters of',
    sort: GRADIENT_GROUPS.map((g) => GROUP_TITLES[g]),
    options,
  });
}

/** Below this norm the true gradient of a group counts as vanished (a saturated softmax gives about 1e-17). */
const VANISHED_GRADIENT = 1e-10;

/**
 * The same measurement on several models, e.g. one freshly initialised and others after
 * training: the SNR of each estimator's gradient for one parameter group (by default the
 * classifier's), a group of bars per model in the order given. A model whose true gradient
 * for the group has vanished gets no bars, since its SNR would be a ratio of rounding errors,
 * and its label says so on a second line.
 */
export function gradientSnrByModelSpec(
  measurements: { label: string; result: GradientVarianceResult }[],
  options: ChartOptions & { group?: GradientGroup } = {},
): TopLevelSpec {
  const group = options.group ?? 'classifier';
  const labelled = measurements.map(({ label, result }) => {
    const vanished = !(result.referenceNorms[group] >= VANISHED_GRADIENT);
    return { label: vanished ? `${label}\n(no gradient)` : label, result, vanished };
  });
  const values = labelled
    .filter((m) => !m.vanished)
    .flatMap(({ label, result }) =>
      result.stats.filter((s) => s.group === group).map((s) => ({ x: label, estimator: s.estimator, snr: s.snr })),
    );
  return snrBarsSpec(values, {
    title: options.title ?? `Signal-to-noise ratio of the gradient for ${GROUP_TITLES[group]}, by model`,
    xTitle: 'Model measured',
    sort: labelled.map((m) => m.label),
    options,
  });
}

/** Bars of SNR per estimator, grouped along x, on a log scale with a dashed rule at SNR = 1. */
function snrBarsSpec(
  values: { x: string; estimator: string; snr: number }[],
  layout: { title: string; xTitle: string; sort: string[]; options: ChartOptions },
): TopLevelSpec {
  const finite = values.filter((v) => Number.isFinite(v.snr) && v.snr > 0);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: layout.title,
    width: layout.options.width ?? 440,
    height: layout.options.height ?? 240,
    layer: [
      {
        data: { values: finite },
        mark: 'bar',
        encoding: {
          x: {
            field: 'x',
            type: 'nominal',
            title: layout.xTitle,
            scale: { domain: layout.sort },
            // A label may hold a line break: each line is drawn on its own.
            axis: { labelAngle: 0, labelExpr: "split(datum.label, '\\n')" },
          },
          xOffset: { field: 'estimator' },
          y: { field: 'snr', type: 'quantitative', title: '‖E g‖ / √(tr Cov g)  (log scale)', scale: { type: 'log' }, stack: null },
          color: { field: 'estimator', type: 'nominal', title: 'Estimator', legend: WIDE_LEGEND },
        },
      },
      {
        data: { values: [{ one: 1 }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: 'black' },
        encoding: { y: { field: 'one', type: 'quantitative' } },
      },
    ],
  };
}

/**
 * The cosine between each draw of each estimator and the reference gradient, one tick per draw,
 * a panel per network: near 1 the draw points where the true gradient points, near 0 it is noise.
 */
export function gradientCosineSpec(result: GradientVarianceResult, options: ChartOptions = {}): TopLevelSpec {
  const values = result.stats
    .filter((s) => s.group !== 'all')
    .flatMap((s) => s.cosines.map((cosine, draw) => ({ group: GROUP_TITLES[s.group], estimator: s.estimator, cosine, draw })))
    .filter((v) => Number.isFinite(v.cosine));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? `Cosine between each gradient draw and the expected gradient (${result.draws} draws per estimator)`,
    data: { values },
    facet: { row: { field: 'group', type: 'nominal', title: 'Parameters of', sort: M2_NETWORKS.map((g) => GROUP_TITLES[g]) } },
    spec: {
      width: options.width ?? 420,
      height: options.height ?? 70,
      mark: { type: 'tick', opacity: 0.6 },
      encoding: {
        x: { field: 'cosine', type: 'quantitative', title: 'cos(draw, expected gradient)', scale: { domain: [-1, 1] } },
        y: { field: 'estimator', type: 'nominal', title: null, axis: { labelLimit: 240 } },
        color: { field: 'estimator', type: 'nominal', title: 'Estimator', legend: WIDE_LEGEND },
      },
    },
  };
}

/** The plain VAE's −ELBO, reconstruction term and KL per epoch, on the training batches and on the validation split. */
export function vaeCurveSpec(record: VaeRunRecord, options: ChartOptions = {}): TopLevelSpec {
  const labels: [Exclude<keyof VaeRunRecord['epochs'][number]['train'], 'klPerDimension'>, string][] = [
    ['negativeElbo', '−ELBO'],
    ['reconstruction', '−log p(x|z)'],
    ['kl', 'KL(q(z|x) ‖ p(z))'],
  ];
  const values = record.epochs.flatMap((e) =>
    (['train', 'validation'] as const).flatMap((split) =>
      labels.map(([key, quantity]) => ({ epoch: e.epoch, split, quantity, value: e[split][key] })),
    ),
  );
  return curvePanelsSpec(values, {
    title: options.title ?? 'The VAE’s bound per epoch',
    order: labels.map(([, q]) => q),
    colour: { field: 'split', type: 'nominal', title: 'Images', sort: ['train', 'validation'] },
    width: options.width ?? 190,
    height: options.height ?? 150,
  });
}

export interface GradientFlowRow {
  /** The objective differentiated, e.g. "−L(x,y)". */
  objective: string;
  network: Network;
  /** Gradient norm, or null if the objective does not reach this network. */
  norm: number | null;
}

/**
 * Which objective sends gradient to which network: bars of gradient norms on a log scale, a
 * colour per objective; "none" where an objective does not depend on a network at all.
 */
export function gradientFlowSpec(rows: GradientFlowRow[], options: ChartOptions = {}): TopLevelSpec {
  const networks = M2_NETWORKS.map((n) => GROUP_TITLES[n]);
  const values = rows.map((r) => ({ objective: r.objective, network: GROUP_TITLES[r.network], norm: r.norm }));
  const objectives = [...new Set(rows.map((r) => r.objective))];
  const height = options.height ?? 240;
  const x = { field: 'network', type: 'nominal', title: 'Parameters of', sort: networks, axis: { labelAngle: 0 } } as const;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? 'Gradient norm of each objective with respect to each network',
    width: options.width ?? 440,
    height,
    layer: [
      {
        data: { values: values.filter((v) => v.norm !== null && v.norm > 0) },
        mark: 'bar',
        encoding: {
          x,
          xOffset: { field: 'objective', sort: objectives },
          y: { field: 'norm', type: 'quantitative', title: '‖gradient‖ (log scale)', scale: { type: 'log' }, stack: null },
          color: { field: 'objective', type: 'nominal', title: 'Objective', sort: objectives, legend: WIDE_LEGEND },
        },
      },
      {
        data: { values: values.filter((v) => v.norm === null).map((v) => ({ ...v, label: 'none' })) },
        mark: { type: 'text', baseline: 'middle', angle: 270, align: 'left', color: 'grey' },
        encoding: {
          x,
          xOffset: { field: 'objective', sort: objectives },
          y: { value: height - 4 },
          text: { field: 'label' },
        },
      },
    ],
  };
}

/** The confusion matrix of q(y|x) as a heat map with the counts written in: rows true digits, columns predicted. */
export function confusionSpec(matrix: number[][], options: ChartOptions = {}): TopLevelSpec {
  const values = matrix.flatMap((row, truth) =>
    row.map((count, predicted) => ({ truth: String(truth), predicted: String(predicted), count })),
  );
  const classes = matrix.map((_, i) => String(i));
  const x = { field: 'predicted', type: 'ordinal', title: 'Predicted digit', sort: classes, axis: { labelAngle: 0 } } as const;
  const y = { field: 'truth', type: 'ordinal', title: 'True digit', sort: classes } as const;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? 'Confusion matrix of q(y|x)',
    width: options.width ?? 300,
    height: options.height ?? 300,
    data: { values },
    layer: [
      {
        mark: 'rect',
        encoding: { x, y, color: { field: 'count', type: 'quantitative', title: 'Images', scale: { type: 'symlog', scheme: 'blues' } } },
      },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          x,
          y,
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.count > 200', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

/** One measured cost: how `estimator` handles y, with K classes, in ms per training step. */
export interface StepCostRow {
  estimator: string;
  classes: number;
  msPerStep: number;
}

/** Milliseconds per training step, one group of bars per number of classes K, one bar per estimator (log scale). */
export function stepCostSpec(rows: StepCostRow[], options: ChartOptions = {}): TopLevelSpec {
  const estimators = [...new Set(rows.map((r) => r.estimator))];
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? 'Cost of a training step by how y is handled',
    width: options.width ?? 360,
    height: options.height ?? 220,
    data: { values: rows.map((r) => ({ ...r, group: `K = ${r.classes}` })) },
    mark: 'bar',
    encoding: {
      x: {
        field: 'group',
        type: 'nominal',
        title: 'Number of classes',
        sort: [...new Set(rows.map((r) => r.classes))].sort((a, b) => a - b).map((k) => `K = ${k}`),
      },
      xOffset: { field: 'estimator', type: 'nominal', sort: estimators },
      // Not stacked: log-scale bars stacked from 0 would all be drawn flat.
      y: { field: 'msPerStep', type: 'quantitative', title: 'Milliseconds per step (log scale)', scale: { type: 'log' }, stack: null },
      color: { field: 'estimator', type: 'nominal', title: 'y is', sort: estimators, legend: WIDE_LEGEND },
      tooltip: [{ field: 'estimator' }, { field: 'classes' }, { field: 'msPerStep', format: '.0f' }],
    },
  };
}
