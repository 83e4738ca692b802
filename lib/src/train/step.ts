/**
 * One optimisation step, the same for every model: the gradient of the loss with respect to the
 * trained variables (tf.variableGrads), a check that nothing became NaN or infinite, the update,
 * and every intermediate tensor freed.
 */
import { tf } from '../core/backend';
import type { Adam } from '../model/optimizer';

/** The loss (or one of the terms reported with it) is NaN or infinite; the weights were left as they were. */
export class TrainingDiverged extends Error {}

export interface StepObjective {
  /** The scalar minimised. */
  loss: tf.Scalar;
  /** Terms reported with it (batch means), stacked; read once after the gradient is taken. */
  terms: tf.Tensor1D;
}

/**
 * Takes the gradient of `objective().loss` with respect to `variables` and, if the loss and every
 * term are finite, applies it with `optimizer`. Throws TrainingDiverged otherwise, leaving the
 * weights untouched. Returns the loss and the terms as numbers; leaves no tensor behind.
 */
export function gradientStep(
  optimizer: Adam,
  variables: tf.Variable[],
  objective: () => StepObjective,
): { loss: number; terms: Float32Array } {
  let terms: tf.Tensor1D | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = objective();
    // Kept past the tidy that variableGrads runs the objective in; disposed below.
    terms = tf.keep(out.terms);
    return out.loss;
  }, variables);
  try {
    const loss = value.dataSync()[0] ?? NaN;
    const values = (terms?.dataSync() ?? new Float32Array()) as Float32Array;
    if (!Number.isFinite(loss) || !values.every(Number.isFinite)) throw new TrainingDiverged(`non-finite loss ${loss}`);
    optimizer.apply(grads);
    return { loss, terms: values };
  } finally {
    tf.dispose([value, ...(terms ? [terms] : [])]);
    tf.dispose(grads);
  }
}
