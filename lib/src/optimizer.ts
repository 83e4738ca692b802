/**
 * Adam (Kingma & Ba 2015) in PyTorch's formulation, with per-variable step counts.
 *
 * Written here rather than taken from tf.train.adam for two reasons: tfjs's Adam matches its
 * moment estimates to variables by position in each call, so a step that leaves a network
 * without gradient (q(y|x) on a labelled batch of variant 2) would shift them; and its state
 * cannot be restored bit-exactly (it recomputes β^t by pow), which resume-equals-uninterrupted needs.
 *
 *   m ← β1 m + (1 − β1) g          v ← β2 v + (1 − β2) g²
 *   θ ← θ − lr · m̂ / (√v̂ + ε),     m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
 */
import { tf } from './backend';

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon?: number;
}

interface Slot {
  m: tf.Variable;
  v: tf.Variable;
  t: number;
}

export interface AdamState {
  /** Per variable, in the order of `variables`: step count and the two moment estimates. */
  slots: { name: string; t: number; m: Float32Array; v: Float32Array; shape: number[] }[];
}

export class Adam {
  private readonly slots = new Map<tf.Variable, Slot>();
  private readonly epsilon: number;

  constructor(readonly variables: tf.Variable[], readonly options: AdamOptions) {
    this.epsilon = options.epsilon ?? 1e-8;
  }

  private slot(variable: tf.Variable): Slot {
    let s = this.slots.get(variable);
    if (s === undefined) {
      s = { m: tf.variable(tf.zerosLike(variable), false), v: tf.variable(tf.zerosLike(variable), false), t: 0 };
      this.slots.set(variable, s);
    }
    return s;
  }

  /** One step for every variable that has a gradient in `grads` (keyed by variable name). */
  apply(grads: tf.NamedTensorMap): void {
    const { lr, beta1, beta2 } = this.options;
    for (const variable of this.variables) {
      const g = grads[variable.name];
      if (g === undefined) continue;
      const s = this.slot(variable);
      s.t += 1;
      // Bias corrections in double precision from the step count: exact and reproducible.
      const c1 = 1 - beta1 ** s.t;
      const c2 = 1 - beta2 ** s.t;
      tf.tidy(() => {
        const m = tf.add(tf.mul(s.m, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(s.v, beta2), tf.mul(tf.square(g), 1 - beta2));
        s.m.assign(m);
        s.v.assign(v);
        const update = tf.div(tf.mul(m, lr / c1), tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon));
        variable.assign(tf.sub(variable, update));
      });
    }
  }

  getState(): AdamState {
    return {
      slots: this.variables.map((variable) => {
        const s = this.slots.get(variable);
        const size = variable.size;
        return {
          name: variable.name,
          t: s?.t ?? 0,
          m: s ? (s.m.dataSync() as Float32Array).slice() : new Float32Array(size),
          v: s ? (s.v.dataSync() as Float32Array).slice() : new Float32Array(size),
          shape: variable.shape.slice(),
        };
      }),
    };
  }

  setState(state: AdamState): void {
    if (state.slots.length !== this.variables.length) {
      throw new Error(`optimizer state has ${state.slots.length} variables, the model has ${this.variables.length}`);
    }
    this.variables.forEach((variable, i) => {
      const saved = state.slots[i]!;
      if (saved.shape.join('x') !== variable.shape.join('x')) {
        throw new Error(`optimizer state for variable ${i} has shape [${saved.shape}], the model's ${variable.name} has [${variable.shape}]`);
      }
      const s = this.slot(variable);
      s.t = saved.t;
      tf.tidy(() => {
        s.m.assign(tf.tensor(saved.m, variable.shape));
        s.v.assign(tf.tensor(saved.v, variable.shape));
      });
    });
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.clear();
  }
}
