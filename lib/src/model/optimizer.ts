/**
 * Adam (Kingma & Ba 2015) in PyTorch's formulation, over groups of variables.
 *
 *   m ← β1 m + (1 − β1) g          v ← β2 v + (1 − β2) g²
 *   θ ← θ − lr · m̂ / (√v̂ + ε),     m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
 *
 * Written here rather than taken from tf.train.adam because:
 * - each group (one network) keeps its moments in one flat buffer, so a step is ~20 tensor
 *   ops per network instead of ~10 per variable: on M2's 18 small variables, op dispatch,
 *   not arithmetic, was most of tf.train.adam's 15 ms per step;
 * - a group without gradient in a step (q(y|x) on a labelled batch of variant 2) is skipped
 *   and keeps its own step count t, as PyTorch does for a parameter without gradient; tfjs's
 *   Adam matches moments to variables by position in each call, which such a step would shift;
 * - its state restores bit-exactly (β^t is recomputed from t in double precision), which
 *   resume-equals-uninterrupted needs.
 */
import { zip } from '../core/arrays';
import { tf } from '../core/backend';

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon?: number;
}

interface Group {
  variables: tf.Variable[];
  sizes: number[];
  m: tf.Variable;
  v: tf.Variable;
  t: number;
}

export interface AdamState {
  /** Per group: variable names, step count and the flat moment estimates. */
  groups: { names: string[]; t: number; m: Float32Array; v: Float32Array }[];
}

export class Adam {
  private readonly groups: Group[];
  private readonly epsilon: number;

  /** `groups`: lists of variables that always receive gradients together (e.g. one network each). */
  constructor(
    groups: tf.Variable[][],
    readonly options: AdamOptions,
  ) {
    this.epsilon = options.epsilon ?? 1e-8;
    this.groups = groups.map((variables) => {
      const sizes = variables.map((v) => v.size);
      const total = sizes.reduce((a, b) => a + b, 0);
      // tidy frees the zeros each variable was initialised from.
      const [m, v] = tf.tidy(() => [tf.variable(tf.zeros([total]), false), tf.variable(tf.zeros([total]), false)]);
      return { variables, sizes, m: m as tf.Variable, v: v as tf.Variable, t: 0 };
    });
  }

  get variables(): tf.Variable[] {
    return this.groups.flatMap((g) => g.variables);
  }

  /** One step for every group whose variables have gradients in `grads` (keyed by variable name). */
  apply(grads: tf.NamedTensorMap): void {
    const { lr, beta1, beta2 } = this.options;
    for (const group of this.groups) {
      const gs = group.variables.map((v) => grads[v.name]);
      const present = gs.filter((g) => g !== undefined).length;
      if (present === 0) continue;
      if (present !== gs.length) {
        const missing = group.variables.filter((_, i) => gs[i] === undefined).map((v) => v.name);
        throw new Error(`Adam: gradients missing for ${missing.join(', ')} while others of their group have one`);
      }
      group.t += 1;
      // Bias corrections in double precision from the step count: exact and reproducible.
      const c1 = 1 - beta1 ** group.t;
      const c2 = 1 - beta2 ** group.t;
      tf.tidy(() => {
        const g = tf.concat(gs.map((x) => (x as tf.Tensor).reshape([-1])));
        const m = tf.add(tf.mul(group.m, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(group.v, beta2), tf.mul(tf.square(g), 1 - beta2));
        group.m.assign(m);
        group.v.assign(v);
        const update = tf.div(tf.mul(m, lr / c1), tf.add(tf.sqrt(tf.mul(v, 1 / c2)), this.epsilon));
        tf.split(update, group.sizes).forEach((u, i) => {
          const variable = group.variables[i] as tf.Variable;
          variable.assign(tf.sub(variable, u.reshape(variable.shape)));
        });
      });
    }
  }

  getState(): AdamState {
    return {
      groups: this.groups.map((g) => ({
        names: g.variables.map((v) => v.name),
        t: g.t,
        m: (g.m.dataSync() as Float32Array).slice(),
        v: (g.v.dataSync() as Float32Array).slice(),
      })),
    };
  }

  setState(state: AdamState): void {
    if (state.groups.length !== this.groups.length) {
      throw new Error(`optimizer state has ${state.groups.length} groups, this optimizer has ${this.groups.length}`);
    }
    zip(this.groups, state.groups).forEach(([group, saved], i) => {
      if (saved.m.length !== group.m.size || saved.v.length !== group.v.size) {
        throw new Error(`optimizer state of group ${i} holds ${saved.m.length} values, the model's group has ${group.m.size}`);
      }
      group.t = saved.t;
      tf.tidy(() => {
        group.m.assign(tf.tensor1d(saved.m));
        group.v.assign(tf.tensor1d(saved.v));
      });
    });
  }

  dispose(): void {
    for (const g of this.groups) {
      g.m.dispose();
      g.v.dispose();
    }
  }
}
