/** Classification quality of q(y|x): accuracy and the confusion matrix. */
import { tf } from '../core/backend';
import { mapRowBatches } from '../core/batches';
import type { Split } from '../data/datasets';
import { classifierLogits, type M2 } from '../model/m2';

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
