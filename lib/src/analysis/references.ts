/**
 * Published results this project measures itself against, as data with their sources, so that
 * a table or chart quoting them says where each number comes from. All numbers are test
 * results on MNIST with N labelled training images (the rest of 50,000 unlabelled).
 *
 * Accuracies are fractions in [0, 1]. Kingma et al. print test error in %; we store both the
 * printed error and the accuracy 1 − error / 100.
 */
import type { Variant } from '../model/config';

export interface Source {
  /** Short name for tables and legends. */
  short: string;
  /** Full citation. */
  citation: string;
  /** Where in the source the numbers are. */
  where: string;
  /** The protocol behind the numbers, in one or two sentences. */
  protocol: string;
}

/** What a published ± means. */
export type SpreadKind = '95% interval' | 'as printed';

export interface PublishedPoint {
  labels: number;
  accuracy: number;
  /** Half-width of the printed ± (in accuracy units), if any. */
  spread?: number;
}

export interface PublishedSeries {
  /** Stable identifier, e.g. "pyro-v3". */
  key: string;
  /** Method name as the source names it. */
  method: string;
  /** The variant of this project that corresponds, if one does. */
  variant?: Variant;
  source: Source;
  spreadKind?: SpreadKind;
  points: PublishedPoint[];
}

export const KINGMA_2014: Source = {
  short: 'Kingma et al. 2014',
  citation:
    'D. P. Kingma, D. J. Rezende, S. Mohamed, M. Welling. Semi-supervised Learning with Deep Generative Models. Advances in Neural Information Processing Systems 27 (NIPS 2014); arXiv:1406.5298.',
  where: 'Table 1 (MNIST, test error in % with N labels); ± as printed there',
  protocol:
    'MNIST, 50,000 training images of which N labelled (class-balanced); M2 with one hidden layer of 500 softplus units (300 at N = 100), z of dimension 50, Adam; trained for about 3,000 epochs.',
};

export const PYRO_SS_VAE: Source = {
  short: 'Pyro SS-VAE tutorial',
  citation: 'Pyro examples: "The Semi-Supervised VAE" tutorial and examples/vae/ss_vae_M2.py (pyro.ai/examples/ss-vae.html).',
  where: 'results table of the tutorial: test accuracy, mean over 5 random labelled subsets, 95% bound in parentheses',
  protocol:
    'MNIST scaled to [0, 1] with a Bernoulli likelihood; 50,000 train / 10,000 validation / 10,000 test; one hidden layer of 500 softplus units, z = 50; Adam lr 4.2e-4, batch 200, 50 epochs, α′ = 46; test accuracy at the best validation epoch.',
};

export const CLINICALML_VAE_SSL: Source = {
  short: 'clinicalml/vae_ssl',
  citation: 'clinicalml/vae_ssl (GitHub repository of semi-supervised VAE experiments), results for MNIST with 100 labels.',
  where: 'reported validation accuracy, 10 seeds, 300 epochs',
  protocol:
    '100 labels; exact (summed-out) M2, M2 with a Gumbel-softmax relaxation, and an MLP on the labels alone; validation (not test) accuracy.',
};

export const CS236_HW2: Source = {
  short: 'Stanford CS236 HW2',
  citation: 'Stanford CS236 (Deep Generative Models), homework 2 solutions: SS-VAE on MNIST.',
  where: 'solution write-up, over seeds',
  protocol: '100 labels; every step takes an unlabelled and a labelled batch (the "mixed" schedule); test accuracy over seeds.',
};

/**
 * The VAE and GMVAE of the same homework, scored by their −ELBO and IWAE bounds. The course's
 * solution prints mean ± standard deviation over 100 runs, in nats, on a fixed subset of 100
 * test images (10 per digit, binarised once from a fixed seed); models trained as
 * vae.CS236_PRESET describes.
 */
export const CS236_HW2_LIKELIHOOD: Source = {
  short: 'Stanford CS236 HW2',
  citation: 'Stanford CS236 (Deep Generative Models), Fall 2021, homework 2 official solutions: VAE and GMVAE on MNIST.',
  where: 'solution write-up, problems on the VAE, the GMVAE and the IWAE; mean ± standard deviation over 100 runs',
  protocol:
    'Encoder and decoder with two hidden layers of 300 ELU units, z of 10, GMVAE with k = 500 components; Adam 1e-3, batch 100, 20,000 steps on the 60,000 training images binarised afresh every step; scored on 100 test images binarised once.',
};

/** A published mean ± standard deviation, in nats. */
export type MeanSd = [mean: number, sd: number];

export interface PublishedLikelihood {
  model: 'vae' | 'gmvae';
  negativeElbo: MeanSd;
  kl: MeanSd;
  reconstruction: MeanSd;
  /** −IWAE_m by m. */
  negativeIwae: Record<number, MeanSd>;
}

export const CS236_LIKELIHOOD: PublishedLikelihood[] = [
  {
    model: 'vae',
    negativeElbo: [101.5, 0.55],
    kl: [19.29, 0.17],
    reconstruction: [82.57, 0.56],
    negativeIwae: { 1: [99.83, 0.55], 10: [97.13, 0.48], 100: [96.1, 0.42], 1000: [95.62, 0.42] },
  },
  {
    model: 'gmvae',
    negativeElbo: [97.22, 0.54],
    kl: [17.65, 0.18],
    reconstruction: [79.58, 0.6],
    negativeIwae: { 1: [97.22, 0.54], 10: [94.74, 0.48], 100: [93.8, 0.47], 1000: [93.38, 0.46] },
  },
];

export const CALIBRATION_2026: Source = {
  short: 'Calibration on this machine',
  citation:
    "An independent ~100-line tfjs-node implementation of variant 3, run on this project's machine on 2026-11-22 (recorded in the project's reference notes).",
  where: 'single runs, seed 0',
  protocol:
    "Pyro's settings (batch 200, α′ 46, 50 epochs, Glorot-normal weights) unless stated; test accuracy at the best validation epoch.",
};

/** Kingma et al. (2014), Table 1: test error (%) and its printed ± for each method and N. */
const KINGMA_TABLE: Record<string, Record<number, [error: number, spread?: number]>> = {
  NN: { 100: [25.81], 600: [11.44], 1000: [10.7], 3000: [6.04] },
  CNN: { 100: [22.98], 600: [7.68], 1000: [6.45], 3000: [3.35] },
  TSVM: { 100: [16.81], 600: [6.16], 1000: [5.38], 3000: [3.45] },
  'M1+TSVM': { 100: [11.82, 0.25], 600: [5.72, 0.049], 1000: [4.24, 0.07], 3000: [3.49, 0.04] },
  M2: { 100: [11.97, 1.71], 600: [4.94, 0.13], 1000: [3.6, 0.56], 3000: [3.92, 0.63] },
  'M1+M2': { 100: [3.33, 0.14], 600: [2.59, 0.05], 1000: [2.4, 0.02], 3000: [2.18, 0.04] },
};

/** Pyro SS-VAE tutorial: test accuracy and its 95% bound, per variant and N. */
/** The variants Pyro's tutorial reports. */
export type PyroVariant = 'v1' | 'v2' | 'v3' | 'baseline';

const PYRO_TABLE: Record<PyroVariant, Record<number, [accuracy: number, bound: number]>> = {
  v1: { 100: [0.2007, 0.0353], 600: [0.1791, 0.0244], 1000: [0.2006, 0.0295], 3000: [0.1982, 0.0522] },
  v2: { 100: [0.2254, 0.0346], 600: [0.6939, 0.0345], 1000: [0.7562, 0.0235], 3000: [0.8932, 0.0159] },
  v3: { 100: [0.9319, 0.006], 600: [0.9437, 0.007], 1000: [0.9487, 0.0038], 3000: [0.9582, 0.0012] },
  baseline: { 100: [0.7712, 0.0159], 600: [0.8716, 0.0064], 1000: [0.8863, 0.0025], 3000: [0.9108, 0.0015] },
};

const PYRO_NAMES: Record<PyroVariant, string> = {
  v1: 'M2, y sampled (variant 1)',
  v2: 'M2, y summed out (variant 2)',
  v3: 'M2, summed out + aux loss (variant 3)',
  baseline: 'Classifier on labels only',
};

/** The label counts of both published tables. */
export const PUBLISHED_LABEL_COUNTS = [100, 600, 1000, 3000] as const;

/** Kingma et al.'s methods as series (accuracy = 1 − error/100); `methods` picks some. */
export function kingmaSeries(methods: string[] = Object.keys(KINGMA_TABLE)): PublishedSeries[] {
  return methods.map((method) => {
    const row = KINGMA_TABLE[method];
    if (!row)
      throw new Error(`kingmaSeries: no method "${method}" in Kingma et al.'s table (have ${Object.keys(KINGMA_TABLE).join(', ')})`);
    return {
      key: `kingma-${method.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
      method,
      // Kingma's M2 sums y out and adds the weighted classification term: our variant 3.
      // and M1+M2 is our m1m2.
      ...(method === 'M2' ? { variant: 'v3' as Variant } : method === 'M1+M2' ? { variant: 'm1m2' as Variant } : {}),
      source: KINGMA_2014,
      spreadKind: 'as printed' as SpreadKind,
      points: Object.entries(row).map(([labels, [error, spread]]) => ({
        labels: Number(labels),
        accuracy: round(1 - error / 100),
        ...(spread === undefined ? {} : { spread: round(spread / 100) }),
      })),
    };
  });
}

/** Kingma et al.'s printed test error (%) for a method and N, or undefined. */
export function kingmaTestError(method: string, labels: number): { error: number; spread?: number } | undefined {
  const cell = KINGMA_TABLE[method]?.[labels];
  return cell === undefined ? undefined : { error: cell[0], ...(cell[1] === undefined ? {} : { spread: cell[1] }) };
}

/** The Pyro tutorial's four series (variants 1–3 and the labelled-only baseline). */
export function pyroSeries(variants: PyroVariant[] = ['v1', 'v2', 'v3', 'baseline']): PublishedSeries[] {
  return variants.map((variant) => ({
    key: `pyro-${variant}`,
    method: PYRO_NAMES[variant],
    variant,
    source: PYRO_SS_VAE,
    spreadKind: '95% interval' as SpreadKind,
    points: Object.entries(PYRO_TABLE[variant]).map(([labels, [accuracy, bound]]) => ({ labels: Number(labels), accuracy, spread: bound })),
  }));
}

/** Single published numbers that do not make a series over N. */
export interface ReferencePoint {
  what: string;
  labels: number;
  accuracy: number;
  spread?: number;
  /** e.g. "validation accuracy" when it is not test accuracy. */
  note?: string;
  source: Source;
}

export const OTHER_REFERENCE_POINTS: ReferencePoint[] = [
  {
    what: 'M2, y summed out (exact)',
    labels: 100,
    accuracy: 0.942,
    note: 'validation accuracy, 10 seeds, 300 epochs',
    source: CLINICALML_VAE_SSL,
  },
  {
    what: 'M2, Gumbel-softmax y',
    labels: 100,
    accuracy: 0.941,
    note: 'validation accuracy, 10 seeds, 300 epochs',
    source: CLINICALML_VAE_SSL,
  },
  {
    what: 'MLP on labels only',
    labels: 100,
    accuracy: 0.771,
    note: 'validation accuracy, 10 seeds, 300 epochs',
    source: CLINICALML_VAE_SSL,
  },
  {
    what: 'SS-VAE (M2 + classification term)',
    labels: 100,
    accuracy: 0.934,
    spread: 0.0139,
    note: '± as printed, over seeds',
    source: CS236_HW2,
  },
  { what: 'Classifier on labels only', labels: 100, accuracy: 0.735, source: CS236_HW2 },
  {
    what: 'Variant 3, lr 4.2e-4 (Pyro default), alternating',
    labels: 3000,
    accuracy: 0.934,
    note: 'test accuracy after 50 epochs (best validation 0.9386 at epoch 49)',
    source: CALIBRATION_2026,
  },
  {
    what: 'Variant 3, lr 4.2e-3, alternating',
    labels: 3000,
    accuracy: 0.963,
    note: 'at the best validation epoch (46, validation 0.9667)',
    source: CALIBRATION_2026,
  },
  {
    what: 'Variant 3, lr 4.2e-3, mixed schedule',
    labels: 100,
    accuracy: 0.933,
    note: 'at the best validation epoch of 40 (38, validation 0.9377)',
    source: CALIBRATION_2026,
  },
  {
    what: 'Variant 3, lr 4.2e-3, alternating',
    labels: 100,
    accuracy: 0.7,
    note: 'test accuracy after 10 epochs; the labelled batch comes once per epoch',
    source: CALIBRATION_2026,
  },
];

/** Every published series of both tables. */
export function publishedSeries(): PublishedSeries[] {
  return [...pyroSeries(), ...kingmaSeries()];
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
