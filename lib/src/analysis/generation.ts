/**
 * Images drawn from a trained M2, for looking at what it learned to separate: the class y and
 * the "style" z. Every function returns pixel probabilities (the mean of p(x|y,z), i.e.
 * sigmoid of the decoder's logits) laid out row by row for digitGridPng, not sampled pixels:
 * the Bernoulli noise of a sample would only hide the picture.
 *
 * - conditionalSamples: z ~ N(0, I) drawn once per column, decoded with each digit y per row.
 * - analogies: z inferred from real images (the mean of q(z|x,y) with their own label), then
 *   decoded with every y: the same handwriting, written as each digit.
 * - interpolation: a straight (or great-circle) path in z between two inferred codes, decoded
 *   with a fixed y per row.
 */
import { zip } from '../core/arrays';
import { tf } from '../core/backend';
import { mapRowBatches } from '../core/batches';
import { classifierLogits, decode, encode, type M2 } from '../model/m2';
import { vaeDecodeLogits, type Vae } from '../model/vae';
import { makeRng, standardNormal } from '../core/random';

/** A grid of images, row-major: image (r, c) is images[(r · columns + c) · pixels …]. */
export interface ImageGrid {
  images: Float32Array;
  rows: number;
  columns: number;
}

function allClasses(m: M2): number[] {
  return Array.from({ length: m.config.numClasses }, (_, k) => k);
}

function checkClasses(m: M2, classes: number[]): void {
  for (const k of classes) {
    if (!Number.isInteger(k) || k < 0 || k >= m.config.numClasses) throw new Error(`class ${k} is not one of 0…${m.config.numClasses - 1}`);
  }
}

/**
 * For an M2 that models M1's code z₁ rather than pixels (m1m2): M1, whose decoder turns z₁ into an
 * image, and the dimensions of z₁ that M2 models (the run's derived.m1.dims).
 */
export interface ThroughM1 {
  m1: Vae;
  dims: number[];
}

/**
 * Image means [B, D] for codes z [B, Z] and classes y (B integers): the mean of p(x|y,z) for an M2
 * on pixels; for an M2 on M1's code, the mean of p(z₁|y,z) on the modelled dimensions (the prior's
 * mean 0 on the others, where q(z₁|x) stays for every image), decoded by M1 into pixel means.
 */
export function decodeMeans(m: M2, z: tf.Tensor2D, classes: number[], through?: ThroughM1): tf.Tensor2D {
  const y = tf.oneHot(tf.tensor1d(classes, 'int32'), m.config.numClasses).toFloat() as tf.Tensor2D;
  const out = decode(m, z, y);
  if (m.config.likelihood === 'bernoulli') return tf.sigmoid(out);
  if (through === undefined)
    throw new Error("this M2 models M1's code, not pixels: pass { through: { m1, dims } } to draw images through M1's decoder");
  const { m1, dims } = through;
  if (dims.length !== m.config.xDim)
    throw new Error(`through.dims names ${dims.length} dimensions of z₁, but this M2 models ${m.config.xDim}`);
  const loc = out.slice([0, 0], [-1, dims.length]); //                          μ of p(z₁|y,z), [B, kept]
  // Row i of `place` puts kept dimension i at its place among z₁'s dimensions.
  const place = tf.oneHot(tf.tensor1d(dims, 'int32'), m1.config.zDim).toFloat();
  return tf.sigmoid(vaeDecodeLogits(m1, tf.matMul(loc, place)));
}

export interface ConditionalOptions {
  /** Number of columns, i.e. of different z (default 10). */
  columns?: number;
  /** Seed of the z draws (default 0). */
  seed?: number;
  /** Digits of the rows (default all classes in order). */
  classes?: number[];
  /** Multiplies z: below 1 draws nearer the prior's centre (default 1). */
  scale?: number;
  /** For an M2 on M1's code: draw the images through M1's decoder. */
  through?: ThroughM1;
}

/**
 * Rows = digits, columns = codes z_c ~ N(0, I): cell (r, c) is E[x | y = classes[r], z = z_c].
 * Along a row the style changes; down a column the style stays and the digit changes.
 */
export function conditionalSamples(m: M2, options: ConditionalOptions = {}): ImageGrid {
  const columns = options.columns ?? 10;
  const classes = options.classes ?? allClasses(m);
  checkClasses(m, classes);
  if (!Number.isInteger(columns) || columns <= 0) throw new Error(`columns must be a positive integer, got ${columns}`);
  const zDim = m.config.zDim;
  const noise = standardNormal(columns * zDim, options.seed ?? 0);
  const probabilities = tf.tidy(() => {
    const zColumns = tf.mul(tf.tensor2d(noise, [columns, zDim]), options.scale ?? 1); //  [C, Z]
    const z = tf.tile(zColumns, [classes.length, 1]) as tf.Tensor2D; //                    [R·C, Z], row-major
    const y = classes.flatMap((k) => new Array<number>(columns).fill(k)); //                R·C labels
    return decodeMeans(m, z, y, options.through);
  });
  try {
    return { images: probabilities.dataSync() as Float32Array, rows: classes.length, columns };
  } finally {
    probabilities.dispose();
  }
}

export interface PriorSampleOptions {
  /** Rows and columns of the grid (default 4 × 10). */
  rows?: number;
  columns?: number;
  /** Seed of the draws of y and z (default 0). */
  seed?: number;
  /** For an M2 on M1's code: draw the images through M1's decoder. */
  through?: ThroughM1;
}

/**
 * Images from the model's marginal p(x) = Σ_y p(y) ∫ p(x|y,z) p(z) dz, drawn the way the
 * generative model is written: y from its uniform prior p(y), z from N(0, I), then the mean of
 * p(x|y,z). Returns the grid and the class y drawn for each image (row-major).
 */
export function priorSamples(m: M2, options: PriorSampleOptions = {}): { grid: ImageGrid; classes: number[] } {
  const rows = options.rows ?? 4;
  const columns = options.columns ?? 10;
  if (!Number.isInteger(rows) || rows <= 0 || !Number.isInteger(columns) || columns <= 0) {
    throw new Error(`priorSamples: rows and columns must be positive integers, got ${rows} × ${columns}`);
  }
  const count = rows * columns;
  const seed = options.seed ?? 0;
  const rng = makeRng(seed, 'prior-y');
  const classes = Array.from({ length: count }, () => Math.floor(rng() * m.config.numClasses));
  const noise = standardNormal(count * m.config.zDim, seed);
  const probabilities = tf.tidy(() => decodeMeans(m, tf.tensor2d(noise, [count, m.config.zDim]), classes, options.through));
  try {
    return { grid: { images: probabilities.dataSync() as Float32Array, rows, columns }, classes };
  } finally {
    probabilities.dispose();
  }
}

/** The mean of q(z|x,y) for images x (count × pixels, in [0, 1]) with their classes y: [count, Z]. */
export function inferCodes(m: M2, images: Float32Array, labels: ArrayLike<number>): tf.Tensor2D {
  const count = labels.length;
  const pixels = m.config.xDim;
  if (images.length !== count * pixels) throw new Error(`inferCodes: ${images.length} values are not ${count} images of ${pixels} pixels`);
  return tf.tidy(() => {
    const x = tf.tensor2d(images, [count, pixels]);
    const y = tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), m.config.numClasses).toFloat() as tf.Tensor2D;
    return encode(m, x, y).loc;
  });
}

/**
 * The mean of q(z|x,y) for many images, in batches, as a row-major [count, Z] array
 * (for t-SNE and other uses outside TensorFlow).
 */
export function m2EncodeMean(m: M2, images: Float32Array, labels: ArrayLike<number>): Float32Array {
  const { xDim, zDim, numClasses } = m.config;
  const count = labels.length;
  if (images.length !== count * xDim) throw new Error(`m2EncodeMean: ${images.length} values are not ${count} images of ${xDim} pixels`);
  const classes = Int32Array.from(labels);
  return mapRowBatches(images, xDim, new Float32Array(count * zDim), (x, start, n) => {
    const y = tf.oneHot(tf.tensor1d(classes.subarray(start, start + n), 'int32'), numClasses).toFloat() as tf.Tensor2D;
    return encode(m, x, y).loc;
  });
}

export interface AnalogyOptions {
  /** Digits of the columns (default all classes). */
  classes?: number[];
  /** Put the real image in a first column (default true). */
  withOriginal?: boolean;
}

/**
 * One row per real image: its style z = mean of q(z|x, its label), decoded with each digit.
 * With `withOriginal`, column 0 is the real image and columns 1… the decoded ones.
 */
export function analogies(m: M2, images: Float32Array, labels: ArrayLike<number>, options: AnalogyOptions = {}): ImageGrid {
  const classes = options.classes ?? allClasses(m);
  checkClasses(m, classes);
  const withOriginal = options.withOriginal ?? true;
  const rows = labels.length;
  const k = classes.length;
  const pixels = m.config.xDim;
  const grid = tf.tidy(() => {
    const z = inferCodes(m, images, labels); //                                       [B, Z]
    const zRep = tf.tile(z.expandDims(1), [1, k, 1]).reshape([rows * k, -1]) as tf.Tensor2D; // [B·K, Z]: row b·K + j is z_b
    const y = Array.from({ length: rows }, () => classes).flat(); //                   row b·K + j has class j
    const decoded = decodeMeans(m, zRep, y).reshape([rows, k, pixels]); //             [B, K, D]
    if (!withOriginal) return decoded.reshape([rows * k, pixels]);
    const originals = tf.tensor3d(images, [rows, 1, pixels]);
    return tf.concat([originals, decoded], 1).reshape([rows * (k + 1), pixels]); //    [B·(K+1), D]
  });
  try {
    return { images: grid.dataSync() as Float32Array, rows, columns: withOriginal ? k + 1 : k };
  } finally {
    grid.dispose();
  }
}

export interface InterpolationOptions {
  /** Points along the path, both ends included (default 10). */
  steps?: number;
  /** Digits of the rows (default all classes). */
  classes?: number[];
  /**
   * 'linear' (default): z_t = (1 − t) z_a + t z_b.  'spherical': along the great circle
   * between them, which keeps ‖z‖ near where N(0, I) puts its mass instead of cutting through
   * the low-norm middle.
   */
  path?: 'linear' | 'spherical';
}

/**
 * Codes z_a, z_b inferred from image a (with its label) and image b (with its label); the path
 * between them decoded with each digit in `classes`: rows = digits, columns = steps from a to b.
 */
export function interpolation(
  m: M2,
  a: { image: Float32Array; label: number },
  b: { image: Float32Array; label: number },
  options: InterpolationOptions = {},
): ImageGrid {
  const steps = options.steps ?? 10;
  const classes = options.classes ?? allClasses(m);
  checkClasses(m, classes);
  if (!Number.isInteger(steps) || steps < 2) throw new Error(`steps must be an integer of at least 2, got ${steps}`);
  const pixels = m.config.xDim;
  const both = new Float32Array(2 * pixels);
  both.set(a.image, 0);
  both.set(b.image, pixels);
  const grid = tf.tidy(() => {
    const codes = inferCodes(m, both, [a.label, b.label]); //                        [2, Z]
    const [za, zb] = tf.unstack(codes) as [tf.Tensor1D, tf.Tensor1D];
    const t = tf.linspace(0, 1, steps).expandDims(1); //                             [S, 1]
    let path: tf.Tensor2D;
    if ((options.path ?? 'linear') === 'linear') {
      path = tf.add(tf.mul(tf.sub(1, t), za), tf.mul(t, zb)) as tf.Tensor2D; //      [S, Z]
    } else {
      // slerp: sin((1 − t)Ω)/sin Ω · z_a + sin(tΩ)/sin Ω · z_b, Ω the angle between them.
      const cos = tf.div(tf.sum(tf.mul(za, zb)), tf.mul(tf.norm(za), tf.norm(zb))).clipByValue(-1 + 1e-7, 1 - 1e-7);
      const omega = tf.acos(cos);
      const sinOmega = tf.sin(omega);
      const wa = tf.div(tf.sin(tf.mul(tf.sub(1, t), omega)), sinOmega);
      const wb = tf.div(tf.sin(tf.mul(t, omega)), sinOmega);
      path = tf.add(tf.mul(wa, za), tf.mul(wb, zb)) as tf.Tensor2D;
    }
    const z = tf.tile(path, [classes.length, 1]) as tf.Tensor2D; //                  [R·S, Z]
    const y = classes.flatMap((k) => new Array<number>(steps).fill(k));
    return decodeMeans(m, z, y);
  });
  try {
    return { images: grid.dataSync() as Float32Array, rows: classes.length, columns: steps };
  } finally {
    grid.dispose();
  }
}

/**
 * How often q(y|x) reads generated images as the digits they were generated for: the share of
 * images classified as `expected`, overall and per expected class (NaN for a class never
 * asked for). A check that y, not z, carries the class.
 */
export function classAgreement(m: M2, images: Float32Array, expected: ArrayLike<number>): { overall: number; perClass: number[] } {
  const count = expected.length;
  if (images.length !== count * m.config.xDim)
    throw new Error(`classAgreement: ${images.length} values are not ${count} images of ${m.config.xDim} pixels`);
  const predicted = tf.tidy(() => tf.argMax(classifierLogits(m, tf.tensor2d(images, [count, m.config.xDim])), 1));
  const classes = predicted.dataSync() as Int32Array;
  predicted.dispose();
  const hits = new Array<number>(m.config.numClasses).fill(0);
  const totals = new Array<number>(m.config.numClasses).fill(0);
  let all = 0;
  Array.from(expected).forEach((k, i) => {
    totals[k] = (totals[k] ?? 0) + 1;
    if (classes[i] === k) {
      hits[k] = (hits[k] ?? 0) + 1;
      all++;
    }
  });
  return { overall: all / count, perClass: zip(hits, totals).map(([h, total]) => (total > 0 ? h / total : NaN)) };
}

/** The class each image of a grid was generated for, when row r was generated for rowClasses[r]. */
export function rowClassesOf(grid: ImageGrid, rowClasses: number[]): number[] {
  return rowClasses.flatMap((k) => new Array<number>(grid.columns).fill(k));
}
