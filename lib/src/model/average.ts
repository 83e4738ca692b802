/**
 * An exponential moving average of the weights over the optimisation steps (Polyak averaging in
 * its exponential form). After t steps with weights w_1 … w_t the average is
 *
 *     w̄_t = Σ_s d^(t−s) · (1 − d) · w_s  /  (1 − d^t),
 *
 * a weighted mean of the iterates in which a step's weight shrinks by the decay d per later step:
 * about 1 / (1 − d) steps count (1,000 at d = 0.999, four epochs of 250 steps). Dividing by
 * (1 − d^t) makes the weights of the mean sum to one from the first step on, so the average starts
 * at the weights themselves rather than at zero. The training never sees the average: it only
 * replaces the weights while the model is evaluated (swapIn), and the weights come back after.
 */
import { tf } from '../core/backend';
import { zip } from '../core/arrays';

/** What a checkpoint keeps of an average: the steps taken and the running sums, flat. */
export interface AverageState {
  steps: number;
  sums: Float32Array;
}

export class WeightAverage {
  /** Σ_s d^(t−s)(1 − d) w_s per variable, starting at zero. */
  private readonly sums: tf.Variable[];
  private stepsTaken = 0;

  constructor(
    private readonly variables: tf.Variable[],
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new Error(`WeightAverage: the decay must lie in (0, 1), got ${decay}`);
    this.sums = variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  }

  /** Steps averaged so far. */
  get steps(): number {
    return this.stepsTaken;
  }

  /** Takes the variables' current values into the average (call after every optimisation step). */
  update(): void {
    const d = this.decay;
    tf.tidy(() => {
      zip(this.sums, this.variables).forEach(([sum, v]) => sum.assign(tf.add(tf.mul(d, sum), tf.mul(1 - d, v))));
    });
    this.stepsTaken += 1;
  }

  /** The averaged value of each variable (the variables' own values before the first step); the caller disposes them. */
  values(): tf.Tensor[] {
    if (this.stepsTaken === 0) return this.variables.map((v) => v.clone());
    const norm = 1 - this.decay ** this.stepsTaken;
    return tf.tidy(() => this.sums.map((sum) => tf.div(sum, norm)));
  }

  /**
   * Puts the averaged values into the variables and returns what puts the trained values back.
   * Between the two, the model computes with the averaged weights.
   */
  swapIn(): () => void {
    const kept = this.variables.map((v) => v.clone());
    this.apply();
    return () => {
      zip(this.variables, kept).forEach(([v, k]) => v.assign(k));
      tf.dispose(kept);
    };
  }

  /** Puts the averaged values into the variables for good (the trained values are lost). */
  apply(): void {
    const averaged = this.values();
    zip(this.variables, averaged).forEach(([v, a]) => v.assign(a));
    tf.dispose(averaged);
  }

  getState(): AverageState {
    const parts = this.sums.map((s) => s.dataSync() as Float32Array);
    const sums = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      sums.set(p, offset);
      offset += p.length;
    }
    return { steps: this.stepsTaken, sums };
  }

  setState(state: AverageState): void {
    const size = this.sums.reduce((n, s) => n + s.size, 0);
    if (state.sums.length !== size) throw new Error(`the saved weight average holds ${state.sums.length} values, the model has ${size}`);
    if (!(Number.isInteger(state.steps) && state.steps >= 0))
      throw new Error(`the saved weight average has ${state.steps} steps, expected a whole number ≥ 0`);
    let offset = 0;
    tf.tidy(() => {
      for (const s of this.sums) {
        s.assign(tf.tensor(state.sums.subarray(offset, offset + s.size), s.shape));
        offset += s.size;
      }
    });
    this.stepsTaken = state.steps;
  }

  dispose(): void {
    tf.dispose(this.sums);
  }
}
