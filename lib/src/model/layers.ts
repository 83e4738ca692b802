/** The one network shape of the library (M2's three networks, the VAE's two) and its initialisations. */
import { tf } from '../core/backend';
import type { Init } from './config';

/** PyTorch's nn.Linear default: weights and biases U(±1/√fan_in). */
function torchUniform(fanIn: number, seed: number) {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    kernelInitializer: tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed }),
    biasInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seed + 100 }),
  };
}

/** Initialisers of dense layer `i` (`last` for the output layer) of a network, by config.init. */
function initializers(init: Init, fanIn: number, last: boolean, seed: number) {
  switch (init) {
    case 'glorot-normal':
      return { kernelInitializer: tf.initializers.glorotNormal({ seed }), biasInitializer: tf.initializers.zeros() };
    case 'torch-uniform':
      return torchUniform(fanIn, seed);
    case 'pyro':
      // Pyro's examples/vae/utils/custom_mlp.py: hidden Linear layers' weights and biases are
      // N(0, 0.001²); the output layers keep PyTorch's default.
      if (last) return torchUniform(fanIn, seed);
      return {
        kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.001, seed }),
        biasInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.001, seed: seed + 100 }),
      };
  }
}

/** The hidden units' nonlinearity: softplus (M2, Kingma et al.) or ELU (the CS236 networks). */
export const ACTIVATIONS = ['softplus', 'elu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * A multilayer perceptron on `inputs`: dense layers of `hidden` units (softplus unless
 * `activation` says otherwise), then a linear output layer of `outputSize`, named
 * `<name>_dense<i>`. Layer i is initialised from seed + i.
 */
export function mlp(
  name: string,
  inputs: tf.SymbolicTensor,
  hidden: number[],
  outputSize: number,
  { init, seed, activation = 'softplus' }: { init: Init; seed: number; activation?: Activation },
): tf.SymbolicTensor {
  let h = inputs;
  const inputSize = inputs.shape.at(-1);
  if (typeof inputSize !== 'number') throw new Error(`${name}: the input's last dimension must be known, got shape [${inputs.shape}]`);
  let fanIn = inputSize;
  [...hidden, outputSize].forEach((units, i) => {
    const last = i === hidden.length;
    const { kernelInitializer, biasInitializer } = initializers(init, fanIn, last, seed + i);
    h = tf.layers
      .dense({ units, activation: last ? 'linear' : activation, kernelInitializer, biasInitializer, name: `${name}_dense${i}` })
      .apply(h) as tf.SymbolicTensor;
    fanIn = units;
  });
  return h;
}
