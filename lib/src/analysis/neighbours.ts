/**
 * How well a representation separates the classes, with no model trained on it: k-nearest-
 * neighbour classification of query points (e.g. validation images) by labelled reference points
 * (e.g. every training image with its label), in squared Euclidean distance. Applied to pixels and
 * to a VAE's code, it says which of the two puts images of one digit closer together.
 */
import { tf } from '../core/backend';
import { mapRowBatches, rowCount } from '../core/batches';

export interface KnnOptions {
  /** Neighbours that vote (default 5). */
  k?: number;
  /** Query rows per batch: a batch's distances to every reference row are held at once (default 500). */
  batch?: number;
}

/**
 * The share of `queries` whose k nearest `reference` rows (`width` values per row) vote for the
 * query's own label. Each neighbour votes for its label; a tie goes to the tied class whose
 * nearest member is nearest.
 */
export function knnAccuracy(
  reference: Float32Array,
  referenceLabels: ArrayLike<number>,
  queries: Float32Array,
  queryLabels: ArrayLike<number>,
  width: number,
  options: KnnOptions = {},
): number {
  const k = options.k ?? 5;
  const references = rowCount(reference, width);
  const count = rowCount(queries, width);
  if (!Number.isInteger(k) || k < 1 || k > references)
    throw new Error(`knnAccuracy: k must be a whole number in [1, ${references}] (the reference rows), got ${k}`);
  if (referenceLabels.length !== references)
    throw new Error(`knnAccuracy: ${references} reference rows but ${referenceLabels.length} reference labels`);
  if (queryLabels.length !== count) throw new Error(`knnAccuracy: ${count} query rows but ${queryLabels.length} query labels`);
  const ref = tf.tensor2d(reference, [references, width]);
  const refSquares = tf.tidy(() => tf.sum(tf.square(ref), 1).expandDims(0));
  let neighbours: Int32Array;
  try {
    // ‖q − r‖² = ‖q‖² − 2 q·r + ‖r‖²; ‖q‖² is the same for every r, so it does not change the order.
    neighbours = mapRowBatches(
      queries,
      width,
      new Int32Array(count * k),
      (q) => tf.topk(tf.neg(tf.sub(refSquares, tf.mul(2, tf.matMul(q, ref, false, true)))), k).indices,
      options.batch ?? 500,
    );
  } finally {
    tf.dispose([ref, refSquares]);
  }
  let correct = 0;
  const votes = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const labels = Array.from(neighbours.subarray(i * k, (i + 1) * k), (r) => referenceLabels[r] as number);
    votes.clear();
    for (const label of labels) votes.set(label, (votes.get(label) ?? 0) + 1);
    const most = Math.max(...votes.values());
    // Nearest first, so the first label with the most votes is the tied class with the nearest member.
    if (labels.find((label) => votes.get(label) === most) === queryLabels[i]) correct++;
  }
  return correct / count;
}
