/**
 * Every hyperparameter of a run, in one typed object with defaults. Sizes follow Pyro's SS-VAE
 * example (batch 200, one hidden layer of 500 softplus units, z of dimension 50, 50 epochs);
 * the training recipe (initialisation, schedule, learning rate, Adam β1, α′) was chosen on
 * validation accuracy at N = 100 and N = 3000 by the selection study described in the README
 * (plans/selection-study.json, records in data/study/selection). `preset: 'pyro-script'` gives
 * Pyro's script as published.
 */

/**
 * Adam's learning rate: ten times the Pyro script's 4.2e-4. In the selection study 4.2e-3 had
 * the best validation accuracy after 6 epochs at both N = 100 and N = 3000, with either
 * schedule but alternating at N = 100 (where every rate fails); at 4.2e-4 variant 3 reaches only
 * ~0.93 after 50 epochs at N = 3000 (round 1, and an independent implementation).
 */
export const DEFAULT_LR = 4.2e-3;
export const PYRO_SCRIPT_LR = 4.2e-4;

export const VARIANTS = ['v1', 'v1-loo', 'v2', 'v3', 'baseline', 'm1', 'm1m2', 'gumbel'] as const;
/**
 * v1: y sampled from q(y|x), score-function gradient;  v1-loo: the same with the leave-one-out
 * control variate (model/objectives.ts, CONTROL_VARIATES);  v2: y summed out;
 * v3: y summed out plus α′·(−log q(y|x)) on labelled data;  baseline: q(y|x) on labels alone.
 * m1 and m1m2 (Kingma et al.'s stacked models) work on M1's features, the latent code z₁ of a
 * VAE trained on all training images (see config.m1): m1 is the baseline's classifier on z₁,
 * m1m2 is variant 3 on z₁ with a Gaussian observation model p(z₁|y,z₂).
 * gumbel: variant 3 with y relaxed (Gumbel-softmax) on unlabelled images instead of summed out:
 * one pass through the encoder and decoder per image instead of K (model/relaxed.ts, config.gumbel).
 */
export type Variant = (typeof VARIANTS)[number];

/**
 * The objective a variant trains: m1 trains like the baseline and m1m2 like v3, on M1's
 * features; v1-loo is v1 with a control variate (controlVariateOf).
 */
export function objectiveOf(variant: Variant): 'v1' | 'v2' | 'v3' | 'baseline' | 'gumbel' {
  if (variant === 'v1-loo') return 'v1';
  return variant === 'm1' ? 'baseline' : variant === 'm1m2' ? 'v3' : variant;
}

/** The baseline subtracted from the score-function's learning signal (objective v1 only). */
export function controlVariateOf(variant: Variant): 'none' | 'leave-one-out' {
  return variant === 'v1-loo' ? 'leave-one-out' : 'none';
}

/**
 * The relaxation of the variant gumbel. The temperature at optimisation step t (counted from the
 * start of training) is τ_t = max(minTemperature, temperature · exp(−decay · t)); decay 0 keeps it
 * fixed. The defaults start at τ = 1 and reach 0.5 after about 6,900 steps (epoch 28 of 250-step
 * epochs). straightThrough feeds the networks the one-hot vector of the relaxed sample, with the
 * relaxed sample's gradient.
 */
export interface GumbelConfig {
  temperature: number;
  minTemperature: number;
  decay: number;
  straightThrough: boolean;
}

export const GUMBEL_DEFAULTS: GumbelConfig = { temperature: 1, minTemperature: 0.5, decay: 1e-4, straightThrough: false };

/** τ at optimisation step t (0-based, counted over the whole run). */
export function temperatureAt(gumbel: GumbelConfig, step: number): number {
  return Math.max(gumbel.minTemperature, gumbel.temperature * Math.exp(-gumbel.decay * step));
}

/** True for the variants that train on M1's features rather than on pixels. */
export function usesM1(variant: Variant): boolean {
  return variant === 'm1' || variant === 'm1m2';
}

export const LIKELIHOODS = ['bernoulli', 'gaussian'] as const;
/**
 * The observation model p(x|y,z): bernoulli for pixels in [0, 1] (the decoder's outputs are
 * logits); gaussian for real-valued features (the decoder outputs a mean and a log standard
 * deviation per feature). m1m2 uses gaussian, everything else bernoulli.
 */
export type Likelihood = (typeof LIKELIHOODS)[number];

/**
 * M1, the feature extractor of m1 and m1m2: a VAE on all training images (labels unused), after
 * Kingma et al.'s code (dpkingma/nips14-ssl): two hidden layers of 500 softplus units, z₁ of 50
 * dimensions, pixels binarised afresh in every batch. Its code dimensions whose mean μ(x) hardly
 * varies over the images (standard deviation at most activeThreshold, 0.1 in their code) carry
 * nothing and are dropped. M2 then sees, in every training batch, a fresh sample
 * z₁ ~ q(z₁|x) of each image; validation and test images are represented by μ(x).
 */
export interface M1Config {
  hidden: number[];
  zDim: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Binarise pixels afresh in every batch, x̃ ~ Bernoulli(x) (true), or model grey levels as they are. */
  binarize: boolean;
  activeThreshold: number;
  /** Epochs of KL warm-up (VaeConfig.klWarmup); 0, the default, trains on the ELBO from the start as Kingma et al. do. */
  klWarmup: number;
}

export const M1_DEFAULTS: M1Config = {
  hidden: [500, 500],
  zDim: 50,
  epochs: 100,
  batchSize: 200,
  lr: 1e-3,
  binarize: true,
  activeThreshold: 0.1,
  klWarmup: 0,
};

export const SCHEDULES = ['alternating', 'mixed', 'spread'] as const;
/**
 * alternating (Pyro): one labelled batch every int(trainSize / N) steps while labelled batches
 *   remain in the epoch, an unlabelled batch otherwise. At N = 100 the classifier then sees its
 *   labels once per epoch, and variant 3 stays below the labelled-only baseline.
 * mixed (Kingma's code, CS236; the default): every step takes one unlabelled batch and one
 *   labelled batch drawn from the N labelled images, and steps their summed loss.
 * spread (Kingma et al.'s code at every N): every step takes one unlabelled batch and its share of
 *   the N labelled images, each labelled image once per epoch, and every image's terms count
 *   alike, as sums over images do: the classification term then weighs α′·N/(n − N) of the
 *   unlabelled bound per epoch (about 0.1 with alphaRule kingma). labelledBatchSize is unused.
 */
export type Schedule = (typeof SCHEDULES)[number];

export const INITS = ['glorot-normal', 'torch-uniform', 'pyro'] as const;
/**
 * glorot-normal: TensorFlow's habit (zero biases); torch-uniform: PyTorch's nn.Linear default,
 * U(±1/√fan_in) for weights and biases; pyro: what Pyro's example networks do, hidden layers'
 * weights and biases N(0, 0.001²) and the output layer PyTorch's default.
 */
export type Init = (typeof INITS)[number];

export const ALPHA_RULES = ['constant', 'kingma'] as const;
/**
 * How α′, the weight of the classification term per labelled image, is set:
 *   constant: α′ = config.alpha whatever N is (Pyro: 46);
 *   kingma:   α′ = 0.1 · N_train / N, Kingma et al.'s α = 0.1 · N_total / N_labelled, which grows
 *             as labels get scarce (1.67 at N = 3000, 50 at N = 100 with 50,000 training images).
 */
export type AlphaRule = (typeof ALPHA_RULES)[number];

export interface ModelConfig {
  /** Hidden layer sizes of each of the three networks. */
  hidden: number[];
  zDim: number;
  /** Pixels per image (784 for MNIST) and number of classes. */
  xDim: number;
  numClasses: number;
  init: Init;
  /** The observation model p(x|y,z); records written before it existed are 'bernoulli'. */
  likelihood: Likelihood;
}

export interface TrainConfig extends ModelConfig {
  /** The named set of defaults the run started from (fields given explicitly override it). */
  preset: PresetName;
  variant: Variant;
  /** Number of labelled training images, N. */
  labels: number;
  /** Picks the labelled subset, the initial weights, the batch order and the noise. */
  seed: number;
  /**
   * Another start from the same labelled subset: restart r > 0 draws the initial weights, the
   * batch order and the noise afresh (restartStream); the subset still comes from the seed alone,
   * and so does M1 for m1 and m1m2. With few labels M2 can settle where one class of its
   * generative model covers part of another digit; restarts of one subset, compared by their
   * bound on the unlabelled images, find the better fit without using a label
   * (analysis/restarts.ts). Records written before it existed are restart 0, which draws exactly
   * what they drew.
   */
  restart: number;
  epochs: number;
  batchSize: number;
  /** Images per labelled batch; default min(batchSize, N) for alternating, 100 (or N if smaller) for mixed. */
  labelledBatchSize: number;
  schedule: Schedule;
  lr: number;
  beta1: number;
  beta2: number;
  /** Weight α′ of the extra classification term (variant 3) when alphaRule is 'constant' (giving alpha alone implies it). */
  alpha: number;
  alphaRule: AlphaRule;
  /**
   * Factor on the labelled bound −L(x,y) in a step's loss (variants with a labelled bound: v1,
   * v2, v3, gumbel, m1m2). 1 (the default) counts the labelled batch's mean bound as much as the
   * unlabelled batch's; 0 leaves the labels to the classification term alone, as Stanford CS236's
   * SS-VAE does (v1 and v2 have no classification term and need a positive weight).
   * Records written before it existed used 1.
   */
  labelledBoundWeight: number;
  /**
   * Evaluate an average of the weights instead of the weights themselves: the decay d of an
   * exponential moving average over the optimisation steps (model/average.ts; about 1 / (1 − d)
   * recent steps count), or 0, the default, for none. Training is the same either way; with
   * d > 0 every epoch's accuracies, the choice of the best epoch and the saved best weights are
   * the averaged model's, and each epoch also records the trained weights' own accuracies
   * (EpochRecord.unaveraged). Records written before it existed used 0.
   */
  averageDecay: number;
  /**
   * Weight λ of an extra penalty on the unlabelled batch, λ·KL(q̄(y) ‖ p(y)), q̄(y) the batch's
   * mean of q(y|x) (objectives.ts, aggregateClassKl). The bound already holds this divergence once,
   * inside the mean of KL(q(y|x) ‖ p(y)); λ > 0 counts it 1 + λ times, so that a class of the
   * generative model that takes a larger share of the images than p(y) gives it costs more than
   * the bound alone charges. 0, the default, leaves the bound as it is. Variants with an
   * unlabelled batch only. Records written before it existed used 0.
   */
  classBalance: number;
  /** 'mnist' or the directory of a dataset stored as MNIST's four IDX files. */
  dataset: string;
  /** M1's settings, for the variants m1 and m1m2 only (M1_DEFAULTS, then the fields given); absent for the others. */
  m1?: M1Config;
  /** The relaxation's settings, for the variant gumbel only (GUMBEL_DEFAULTS, then the fields given). */
  gumbel?: GumbelConfig;
}

/** Settings as a caller gives them: any fields of TrainConfig, and any of M1's. */
export type TrainSettings = Partial<Omit<TrainConfig, 'm1' | 'gumbel'>> & { m1?: Partial<M1Config>; gumbel?: Partial<GumbelConfig> };

export const DEFAULTS: Omit<TrainConfig, 'labelledBatchSize' | 'm1' | 'gumbel'> = {
  preset: 'default',
  variant: 'v3',
  labels: 3000,
  seed: 0,
  restart: 0,
  epochs: 50,
  batchSize: 200,
  schedule: 'mixed',
  lr: DEFAULT_LR,
  beta1: 0.9,
  beta2: 0.999,
  alpha: 46,
  alphaRule: 'kingma',
  labelledBoundWeight: 1,
  averageDecay: 0,
  classBalance: 0,
  hidden: [500],
  zDim: 50,
  xDim: 784,
  numClasses: 10,
  init: 'pyro',
  likelihood: 'bernoulli',
  dataset: 'mnist',
};

/**
 * Named starting points. A run's config is DEFAULTS, then its preset's fields, then the fields
 * given explicitly.
 *   default:     the library's defaults (DEFAULTS).
 *   pyro-script: Pyro's examples/vae/ss_vae_M2.py as published: lr 4.2e-4, β1 0.9, alternating
 *                schedule, its initialisation, constant α′ 46.
 *   round-1:     the defaults before the selection study (Glorot-normal initialisation,
 *                alternating schedule, lr 4.2e-3); run records written before presets existed
 *                are read as this preset.
 */
export const PRESETS = {
  default: {},
  'pyro-script': {
    lr: PYRO_SCRIPT_LR,
    beta1: 0.9,
    beta2: 0.999,
    schedule: 'alternating',
    init: 'pyro',
    alpha: 46,
    alphaRule: 'constant',
    batchSize: 200,
  },
  'round-1': {
    lr: 4.2e-3,
    beta1: 0.9,
    beta2: 0.999,
    schedule: 'alternating',
    init: 'glorot-normal',
    alpha: 46,
    alphaRule: 'constant',
    batchSize: 200,
  },
} as const satisfies Record<string, Partial<TrainConfig>>;
export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** Fills in defaults and checks every field; throws one error naming the first bad field. */
export function resolveConfig(overrides: TrainSettings = {}): TrainConfig {
  const { m1: givenM1, gumbel: givenGumbel, ...given } = stripUndefined(overrides);
  const preset = given.preset ?? DEFAULTS.preset;
  checkOneOf('config.preset', preset, PRESET_NAMES);
  // An α′ given without a rule is meant to be used as it is.
  const rule = given.alpha !== undefined && given.alphaRule === undefined ? { alphaRule: 'constant' as const } : {};
  const variant = given.variant ?? DEFAULTS.variant;
  checkOneOf('config.variant', variant, VARIANTS);
  const likelihood = { likelihood: variant === 'm1m2' ? ('gaussian' as const) : ('bernoulli' as const) };
  const merged = { ...DEFAULTS, ...likelihood, ...PRESETS[preset], ...rule, ...given } as Omit<
    TrainConfig,
    'labelledBatchSize' | 'm1' | 'gumbel'
  > & {
    labelledBatchSize?: number;
  };
  const labelledBatchSize = merged.labelledBatchSize ?? Math.min(merged.schedule === 'mixed' ? 100 : merged.batchSize, merged.labels);
  // M1's settings belong to the variants that use M1; the others drop them (so one settings
  // object can be spread into every training call of a notebook).
  const m1 = usesM1(variant) ? resolveM1Config(givenM1 ?? {}) : undefined;
  const gumbel = variant === 'gumbel' ? resolveGumbelConfig(givenGumbel ?? {}) : undefined;
  const config: TrainConfig = { ...merged, labelledBatchSize, ...(m1 ? { m1 } : {}), ...(gumbel ? { gumbel } : {}) };
  checkOneOf('config.likelihood', config.likelihood, LIKELIHOODS);
  checkOneOf('config.schedule', config.schedule, SCHEDULES);
  checkOneOf('config.alphaRule', config.alphaRule, ALPHA_RULES);
  checkOneOf('config.init', config.init, INITS);
  checkPositiveInts('config', config, ['labels', 'epochs', 'batchSize', 'labelledBatchSize', 'zDim', 'xDim', 'numClasses']);
  checkTraining('config', config);
  if (!Number.isInteger(config.restart) || config.restart < 0)
    throw new Error(`config.restart must be a non-negative integer, got ${config.restart}`);
  if (!(config.alpha >= 0)) throw new Error(`config.alpha must be non-negative, got ${config.alpha}`);
  if (!(config.labelledBoundWeight >= 0 && Number.isFinite(config.labelledBoundWeight))) {
    throw new Error(`config.labelledBoundWeight must be a non-negative number, got ${config.labelledBoundWeight}`);
  }
  if (!(config.averageDecay >= 0 && config.averageDecay < 1)) {
    throw new Error(`config.averageDecay must lie in [0, 1) (0 for no averaging), got ${config.averageDecay}`);
  }
  if (!(config.classBalance >= 0 && Number.isFinite(config.classBalance))) {
    throw new Error(`config.classBalance must be a non-negative number (0 for none), got ${config.classBalance}`);
  }
  if (config.classBalance > 0 && objectiveOf(config.variant) === 'baseline') {
    throw new Error(`config.classBalance applies to the unlabelled batch, and ${config.variant} trains on labels only; leave it at 0`);
  }
  if (config.labelledBoundWeight === 0 && (objectiveOf(config.variant) === 'v1' || objectiveOf(config.variant) === 'v2')) {
    throw new Error(
      `config.labelledBoundWeight 0 leaves ${config.variant} no labels (it has no classification term); give a positive weight`,
    );
  }
  if (config.labelledBatchSize > config.labels) {
    throw new Error(
      `config.labelledBatchSize (${config.labelledBatchSize}) cannot exceed the number of labelled images (${config.labels})`,
    );
  }
  return config;
}

/** Throws, naming `config.<group>`, if `given` has a field that `defaults` lacks. */
function checkKnownFields(group: string, given: object, defaults: object): void {
  const unknown = Object.keys(given).filter((k) => !(k in defaults));
  if (unknown.length > 0)
    throw new Error(`config.${group} has no field ${JSON.stringify(unknown[0])} (its fields: ${Object.keys(defaults).join(', ')})`);
}

/** GUMBEL_DEFAULTS, then the fields given, checked; errors name the field as config.gumbel.<field>. */
export function resolveGumbelConfig(given: Partial<GumbelConfig>): GumbelConfig {
  checkKnownFields('gumbel', given, GUMBEL_DEFAULTS);
  const gumbel: GumbelConfig = { ...GUMBEL_DEFAULTS, ...stripUndefined(given) };
  if (!(gumbel.temperature > 0)) throw new Error(`config.gumbel.temperature must be positive, got ${gumbel.temperature}`);
  if (!(gumbel.minTemperature > 0 && gumbel.minTemperature <= gumbel.temperature))
    throw new Error(`config.gumbel.minTemperature must lie in (0, temperature = ${gumbel.temperature}], got ${gumbel.minTemperature}`);
  if (!(gumbel.decay >= 0)) throw new Error(`config.gumbel.decay must be non-negative, got ${gumbel.decay}`);
  if (typeof gumbel.straightThrough !== 'boolean')
    throw new Error(`config.gumbel.straightThrough must be true or false, got ${JSON.stringify(gumbel.straightThrough)}`);
  return gumbel;
}

/** M1_DEFAULTS, then the fields given, checked; errors name the field as config.m1.<field>. */
export function resolveM1Config(given: Partial<M1Config>): M1Config {
  checkKnownFields('m1', given, M1_DEFAULTS);
  const m1: M1Config = { ...M1_DEFAULTS, ...stripUndefined(given) };
  checkPositiveInts('config.m1', m1, ['zDim', 'epochs', 'batchSize']);
  if (!(Number.isInteger(m1.klWarmup) && m1.klWarmup >= 0))
    throw new Error(`config.m1.klWarmup must be a whole number of epochs ≥ 0, got ${JSON.stringify(m1.klWarmup)}`);
  checkNetwork('config.m1', m1);
  if (typeof m1.binarize !== 'boolean') throw new Error(`config.m1.binarize must be true or false, got ${JSON.stringify(m1.binarize)}`);
  if (!(m1.activeThreshold >= 0)) throw new Error(`config.m1.activeThreshold must be non-negative, got ${m1.activeThreshold}`);
  return m1;
}

/**
 * The name of a random stream of training (initial weights, an epoch's order and noise) under
 * the run's restart: the name itself for restart 0, so that restart 0 draws what runs drew
 * before restarts existed, and `restart-<r>/<name>` for the others.
 */
export function restartStream(config: Pick<TrainConfig, 'restart'>, name: string): string {
  return config.restart === 0 ? name : `restart-${config.restart}/${name}`;
}

/** The α′ a run uses: config.alpha, or Kingma's rule from the number of training images. */
export function effectiveAlpha(config: Pick<TrainConfig, 'alpha' | 'alphaRule' | 'labels'>, trainSize: number): number {
  return config.alphaRule === 'kingma' ? (0.1 * trainSize) / config.labels : config.alpha;
}

/** Throws, naming the field, unless `value` is one of `allowed`. */
function checkOneOf(field: string, value: unknown, allowed: readonly unknown[]): void {
  if (!allowed.includes(value)) throw new Error(`${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}

/** Throws, naming `${prefix}.${name}`, unless each of the fields is a positive integer. */
export function checkPositiveInts<C extends object>(prefix: string, config: C, names: readonly (keyof C & string)[]): void {
  for (const name of names) {
    const v = config[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      throw new Error(`${prefix}.${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
}

/**
 * The checks every trained model's configuration shares (M2's and the VAE's): the seed, the
 * hidden layer sizes and Adam's settings. Errors name the field as `${prefix}.<field>`.
 */
export function checkTraining(prefix: string, config: { seed: number; hidden: number[]; lr: number; beta1: number; beta2: number }): void {
  if (!Number.isInteger(config.seed) || config.seed < 0)
    throw new Error(`${prefix}.seed must be a non-negative integer, got ${config.seed}`);
  checkNetwork(prefix, config);
  if (!(config.beta1 >= 0 && config.beta1 < 1) || !(config.beta2 >= 0 && config.beta2 < 1))
    throw new Error(`${prefix}.beta1 and ${prefix}.beta2 must lie in [0, 1)`);
}

/** The hidden layer sizes (a non-empty list of positive integers) and a positive learning rate. */
function checkNetwork(prefix: string, config: { hidden: number[]; lr: number }): void {
  if (!Array.isArray(config.hidden) || config.hidden.length === 0 || !config.hidden.every((h) => Number.isInteger(h) && h > 0)) {
    throw new Error(`${prefix}.hidden must be a non-empty list of positive integers, got ${JSON.stringify(config.hidden)}`);
  }
  if (!(config.lr > 0)) throw new Error(`${prefix}.lr must be positive, got ${config.lr}`);
}

/** `o` without its undefined fields. */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
