/**
 * Running a network over many images at once would hold every activation of every image in
 * memory; these helpers run it batch by batch instead. The batch size sets memory, not the
 * result (each image's output does not depend on the others in its batch).
 */
import { tf } from './backend';

/** Images per batch when a network runs over a whole split. */
export const INFERENCE_BATCH = 1000;

/** Rows [start, start + n) of a row-major array of `width` values per row, as an [n, width] tensor. */
export function rowsTensor(values: Float32Array, width: number, start: number, n: number): tf.Tensor2D {
  return tf.tensor2d(values.subarray(start * width, (start + n) * width), [n, width]);
}

/** The number of rows of `width` values in `values`; an error if they do not divide evenly. */
export function rowCount(values: Float32Array, width: number): number {
  const count = values.length / width;
  if (!Number.isInteger(count)) throw new Error(`${values.length} values are not a whole number of rows of ${width}`);
  return count;
}

/** Calls `f` with each batch of rows of `values` (an [n, width] tensor, freed afterwards) and the index of its first row. */
export function forEachRowBatch(
  values: Float32Array,
  width: number,
  f: (x: tf.Tensor2D, start: number, n: number) => void,
  batch = INFERENCE_BATCH,
): void {
  const count = rowCount(values, width);
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const x = rowsTensor(values, width, start, n);
    try {
      f(x, start, n);
    } finally {
      x.dispose();
    }
  }
}

/**
 * Applies `f` to the rows of `values` batch by batch (inside tf.tidy) and writes its outputs,
 * one row of out.length / count values per input row, into `out`, which it returns.
 */
export function mapRowBatches<A extends Float32Array | Int32Array>(
  values: Float32Array,
  width: number,
  out: A,
  f: (x: tf.Tensor2D, start: number, n: number) => tf.Tensor,
  batch = INFERENCE_BATCH,
): A {
  const outWidth = out.length / rowCount(values, width);
  forEachRowBatch(
    values,
    width,
    (x, start, n) => {
      const y = tf.tidy(() => f(x, start, n));
      try {
        if (y.size !== n * outWidth) throw new Error(`mapRowBatches: a batch of ${n} rows gave ${y.size} values, expected ${n * outWidth}`);
        out.set(y.dataSync() as A, start * outWidth);
      } finally {
        y.dispose();
      }
    },
    batch,
  );
  return out;
}
