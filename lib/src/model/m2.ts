/**
 * Model M2 of Kingma et al. (2014).
 *
 *   generative model p:                     inference model q:
 *     p(y)     = Cat(y | 1/K)                  q(y|x)   = Cat(y | classifier(x))
 *     p(z)     = N(z | 0, I)                   q(z|x,y) = N(z | μ(x,y), diag σ²(x,y))   (encoder)
 *     p(x|y,z) = Bernoulli(x | decoder(z,y))    (or N(x | μ(z,y), diag σ²(z,y)) for real-valued x: config.likelihood)
 *
 * The three networks are TensorFlow.js layers models (so they save and load as such). Training
 * runs them through `forward*` functions that read the same variables but split the first
 * layer of the encoder and decoder: for input [a, y],  W·[a; y] = W_a·a + W_y·y.  Summing y out
 * evaluates q(z|x,y) for all K classes of every x; W_x·x is the same for each class, so it is
 * computed once per image instead of K times, and W_y·y for a one-hot y is a row of W_y.
 */
import { tf } from '../core/backend';
import type { ModelConfig } from './config';
import { mlp } from './layers';

export interface M2 {
  config: ModelConfig;
  /** q(y|x): x [B, D] → logits over classes [B, K]. */
  classifier: tf.LayersModel;
  /** q(z|x,y): [x [B, D], y [B, K]] → [μ, log σ] concatenated [B, 2Z]. */
  encoder: tf.LayersModel;
  /** p(x|y,z): [z [B, Z], y [B, K]] → Bernoulli logits [B, D], or for a Gaussian p(x|y,z) [μ, log σ] concatenated [B, 2D]. */
  decoder: tf.LayersModel;
}

interface DenseParams {
  kernel: tf.Variable;
  bias: tf.Variable;
}

/** Builds the three networks, initialised from `seed`. */
export function createM2(config: ModelConfig, seed: number): M2 {
  const { xDim, numClasses: k, zDim, hidden, init } = config;
  const x = tf.input({ shape: [xDim], name: 'x' });
  const classifier = tf.model({ inputs: x, outputs: mlp('classifier', x, hidden, k, { init, seed: seed * 1000 + 1 }), name: 'classifier' });

  const xe = tf.input({ shape: [xDim], name: 'x' });
  const ye = tf.input({ shape: [k], name: 'y' });
  const xy = tf.layers.concatenate({ name: 'encoder_xy' }).apply([xe, ye]) as tf.SymbolicTensor;
  const encoder = tf.model({
    inputs: [xe, ye],
    outputs: mlp('encoder', xy, hidden, 2 * zDim, { init, seed: seed * 1000 + 11 }),
    name: 'encoder',
  });

  // Bernoulli: one logit per pixel; Gaussian: a mean and a log standard deviation per feature.
  const outputs = config.likelihood === 'gaussian' ? 2 * xDim : xDim;
  const zd = tf.input({ shape: [zDim], name: 'z' });
  const yd = tf.input({ shape: [k], name: 'y' });
  const zy = tf.layers.concatenate({ name: 'decoder_zy' }).apply([zd, yd]) as tf.SymbolicTensor;
  const decoder = tf.model({
    inputs: [zd, yd],
    outputs: mlp('decoder', zy, hidden, outputs, { init, seed: seed * 1000 + 21 }),
    name: 'decoder',
  });
  return { config, classifier, encoder, decoder };
}

/** The dense layers' kernel and bias variables of a network, input side first. */
function denseParams(model: tf.LayersModel): DenseParams[] {
  return model.layers
    .filter((layer) => layer.getClassName() === 'Dense')
    .map((layer) => {
      const [kernel, bias] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      if (kernel === undefined || bias === undefined) throw new Error(`${model.name}: dense layer ${layer.name} has no bias`);
      return { kernel, bias };
    });
}

/** One dense layer's weights as plain arrays: kernel [rows (inputs), cols (outputs)] row-major, bias [cols]. */
export interface DenseWeights {
  rows: number;
  cols: number;
  kernel: Float32Array;
  bias: Float32Array;
}

/**
 * The dense layers of one of M2's networks, input side first, copied out of TensorFlow (softplus
 * after every layer but the last). The encoder's first layer acts on [x; y], the decoder's on [z; y].
 */
export function denseWeights(m: M2, network: Network): DenseWeights[] {
  return denseParams(m[network]).map(({ kernel, bias }) => {
    const [rows = 0, cols = 0] = kernel.shape;
    return { rows, cols, kernel: Float32Array.from(kernel.dataSync()), bias: Float32Array.from(bias.dataSync()) };
  });
}

/** M2's three networks, in the order of networkVariables and of a checkpoint's folders. */
export const M2_NETWORKS = ['classifier', 'encoder', 'decoder'] as const;
export type Network = (typeof M2_NETWORKS)[number];

/** The trainable variables of each network: [classifier, encoder, decoder]. */
export function networkVariables(m: M2): tf.Variable[][] {
  return M2_NETWORKS.map((name) => m[name]).map((net) => net.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** Every trainable variable of the three networks. */
export function trainableVariables(m: M2): tf.Variable[] {
  return networkVariables(m).flat();
}

/** Trainable variables of q(y|x) alone (for the labelled-only baseline). */
export function classifierVariables(m: M2): tf.Variable[] {
  return m.classifier.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Applies the layers after the first: softplus hidden layers, linear output. */
function rest(layers: DenseParams[], h: tf.Tensor2D): tf.Tensor2D {
  for (let i = 1; i < layers.length; i++) {
    const { kernel, bias } = layers[i] as DenseParams;
    const a = tf.add(tf.matMul(h, kernel), bias) as tf.Tensor2D;
    h = i === layers.length - 1 ? a : tf.softplus(a);
  }
  return h;
}

/** q(y|x) logits [B, K]. */
export function classifierLogits(m: M2, x: tf.Tensor2D): tf.Tensor2D {
  const layers = denseParams(m.classifier);
  const first = layers[0] as DenseParams;
  return rest(layers, tf.softplus(tf.add(tf.matMul(x, first.kernel), first.bias)) as tf.Tensor2D);
}

/** First layer on [a, y] as W_a·a + W_y·y + b: kernel rows [0, aDim) act on a, the rest on y. */
function splitFirst(layers: DenseParams[], aDim: number): { wa: tf.Tensor2D; wy: tf.Tensor2D; b: tf.Tensor } {
  const { kernel, bias } = layers[0] as DenseParams;
  const [rows = 0] = kernel.shape;
  const [wa, wy] = tf.split(kernel, [aDim, rows - aDim], 0) as [tf.Tensor2D, tf.Tensor2D];
  return { wa, wy, b: bias };
}

export interface Gaussian {
  loc: tf.Tensor2D;
  logScale: tf.Tensor2D;
}

function toGaussian(out: tf.Tensor2D, zDim: number): Gaussian {
  const [loc, logScale] = tf.split(out, [zDim, zDim], 1) as [tf.Tensor2D, tf.Tensor2D];
  return { loc, logScale };
}

/** q(z|x,y) for given one-hot y: μ, log σ [B, Z]. */
export function encode(m: M2, x: tf.Tensor2D, y: tf.Tensor2D): Gaussian {
  const layers = denseParams(m.encoder);
  const { wa, wy, b } = splitFirst(layers, m.config.xDim);
  const h = tf.softplus(tf.add(tf.add(tf.matMul(x, wa), tf.matMul(y, wy)), b)) as tf.Tensor2D;
  return toGaussian(rest(layers, h), m.config.zDim);
}

/**
 * q(z|x,y) for every class y = 0..K-1 of every x: μ, log σ of shape [K·B, Z], class-major
 * (rows k·B … k·B + B − 1 belong to class k). W_x·x is computed once.
 */
export function encodeAllClasses(m: M2, x: tf.Tensor2D): Gaussian {
  const layers = denseParams(m.encoder);
  const { wa, wy, b } = splitFirst(layers, m.config.xDim);
  const batch = x.shape[0];
  const k = m.config.numClasses;
  const hx = tf.add(tf.matMul(x, wa), b); //                     [B, H]
  const hxy = tf.add(hx.expandDims(0), wy.expandDims(1)); //     [K, B, H]: row y of W_y is W_y·onehot(y)
  const [, hidden = 0] = hx.shape;
  const h = tf.softplus(hxy).reshape([k * batch, hidden]) as tf.Tensor2D;
  return toGaussian(rest(layers, h), m.config.zDim);
}

/** p(x|y,z) logits [B, D] for z [B, Z] and one-hot y [B, K]. */
export function decode(m: M2, z: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  const layers = denseParams(m.decoder);
  const { wa, wy, b } = splitFirst(layers, m.config.zDim);
  const h = tf.softplus(tf.add(tf.add(tf.matMul(z, wa), tf.matMul(y, wy)), b)) as tf.Tensor2D;
  return rest(layers, h);
}

/** p(x|y,z) logits [K·B, D] for class-major z [K·B, Z] where block k has y = k. */
export function decodeAllClasses(m: M2, z: tf.Tensor2D): tf.Tensor2D {
  const layers = denseParams(m.decoder);
  const { wa, wy, b } = splitFirst(layers, m.config.zDim);
  const k = m.config.numClasses;
  const batch = z.shape[0] / k;
  const hz = tf.matMul(z, wa).reshape([k, batch, -1]); //        [K, B, H]
  const h = tf.softplus(tf.add(tf.add(hz, wy.expandDims(1)), b)).reshape([k * batch, -1]) as tf.Tensor2D;
  return rest(layers, h);
}

/** The same networks run as plain layers models on concatenated inputs (reference for tests). */
export const plain = {
  classifierLogits: (m: M2, x: tf.Tensor2D) => m.classifier.apply(x) as tf.Tensor2D,
  encode: (m: M2, x: tf.Tensor2D, y: tf.Tensor2D): Gaussian => toGaussian(m.encoder.apply([x, y]) as tf.Tensor2D, m.config.zDim),
  decode: (m: M2, z: tf.Tensor2D, y: tf.Tensor2D) => m.decoder.apply([z, y]) as tf.Tensor2D,
};

export function disposeM2(m: M2): void {
  m.classifier.dispose();
  m.encoder.dispose();
  m.decoder.dispose();
}
