/** Classification quality of q(y|x) (accuracy, the confusion matrix), and how much of z the encoder uses. */
import { tf } from '../core/backend';
import { forEachRowBatch, mapRowBatches } from '../core/batches';
import type { Split } from '../data/datasets';
import { classifierLogits, encode, type M2 } from '../model/m2';
import { gaussianKlPerDimension } from '../model/objectives';

/** Predicted class (argmax of q(y|x)) of every image in the split. */
export function predict(m: M2, split: Split): Int32Array {
  return mapRowBatches(split.images, m.config.xDim, new Int32Array(split.count), (x) => tf.argMax(classifierLogits(m, x), 1));
}

/** Fraction of the split that q(y|x) classifies correctly. */
export function accuracy(m: M2, split: Split): number {
  const predicted = predict(m, split);
  let correct = 0;
  predicted.forEach((p, i) => {
    if (p === split.labels[i]) correct++;
  });
  return correct / split.count;
}

/** confusion[true][predicted] counts. */
export function confusionMatrix(m: M2, split: Split, numClasses: number): number[][] {
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const predicted = predict(m, split);
  split.labels.forEach((truth, i) => {
    const row = matrix[truth];
    const p = predicted[i];
    if (row === undefined || p === undefined || p >= numClasses)
      throw new Error(`confusionMatrix: class ${truth} or prediction ${p} is not below ${numClasses}`);
    row[p] = (row[p] ?? 0) + 1;
  });
  return matrix;
}

/**
 * KL(q(z|x,y) ‖ p(z)) per dimension of z, averaged over the split's images with y their label:
 * [zDim] nats, summing to the mean KL. A dimension whose KL stays near 0 is ignored by the
 * decoder: q(z_j|x,y) is the prior whatever the image (an inactive unit; see ACTIVE_KL).
 */
export function klPerDimension(m: M2, split: Split): number[] {
  const { xDim, zDim, numClasses } = m.config;
  const sums = new Float64Array(zDim);
  forEachRowBatch(split.images, xDim, (x, start, n) => {
    const perBatch = tf.tidy(() => {
      const y = tf.oneHot(tf.tensor1d(split.labels.subarray(start, start + n), 'int32'), numClasses).toFloat() as tf.Tensor2D;
      return tf.sum(gaussianKlPerDimension(encode(m, x, y)), 0);
    });
    (perBatch.dataSync() as Float32Array).forEach((v, j) => (sums[j] = (sums[j] ?? 0) + v));
    perBatch.dispose();
  });
  return Array.from(sums, (v) => v / split.count);
}

/** Mean KL (nats) above which a dimension of z counts as active. */
export const ACTIVE_KL = 0.01;

/** How many dimensions carry more than ACTIVE_KL nats on average. */
export function activeUnits(klPerDim: readonly number[], threshold = ACTIVE_KL): number {
  return klPerDim.filter((kl) => kl > threshold).length;
}
