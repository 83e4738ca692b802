/** Classification quality of q(y|x): accuracy and the confusion matrix. */
import { tf } from './backend';
import type { Split } from './data';
import { classifierLogits, type M2 } from './model';

const EVAL_BATCH = 1000;

/** Predicted class (argmax of q(y|x)) of every image in the split. */
export function predict(m: M2, split: Split): Int32Array {
  const pixels = split.images.length / split.count;
  const out = new Int32Array(split.count);
  for (let start = 0; start < split.count; start += EVAL_BATCH) {
    const n = Math.min(EVAL_BATCH, split.count - start);
    const predicted = tf.tidy(() => {
      const x = tf.tensor2d(split.images.subarray(start * pixels, (start + n) * pixels), [n, pixels]);
      return tf.argMax(classifierLogits(m, x), 1);
    });
    out.set(predicted.dataSync() as Int32Array, start);
    predicted.dispose();
  }
  return out;
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
  predict(m, split).forEach((p, i) => {
    const row = matrix[split.labels[i] as number] as number[];
    row[p] = (row[p] ?? 0) + 1;
  });
  return matrix;
}
