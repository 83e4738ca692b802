import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  aggregateClassKl,
  bernoulliLogLikelihood,
  classifierLogits,
  createM2,
  decode,
  decodeAllClasses,
  disposeM2,
  encode,
  encodeAllClasses,
  gaussianKl,
  labelledBound,
  logQy,
  plain,
  standardNormal,
  tf,
  trainableVariables,
  unlabelledBoundEnumerated,
  unlabelledBoundSampled,
  CONTROL_VARIATES,
} from 'ssvae';
import { randomPixels } from './helpers';

const tiny = { xDim: 6, numClasses: 3, hidden: [5], zDim: 2, init: 'glorot-normal' as const, likelihood: 'bernoulli' as const };

test('KL(q(z|x,y) ‖ p(z)) in closed form agrees with a Monte Carlo estimate', () => {
  const loc = tf.tensor2d([
    [0.5, -1.0, 2.0],
    [0, 0, 0],
    [-0.3, 0.8, 0.1],
  ]);
  const logScale = tf.tensor2d([
    [-0.5, 0.2, 0.0],
    [0, 0, 0],
    [0.4, -1.2, 0.3],
  ]);
  const closed = gaussianKl({ loc, logScale }).arraySync() as number[];
  // KL = E_q[log q(z) − log p(z)]; the log-ratio of a Gaussian sample, averaged over S draws.
  const S = 200_000;
  const eps = tf.tensor3d(standardNormal(S * 9, 42), [S, 3, 3]);
  const ratio = tf.tidy(() => {
    const z = tf.add(loc, tf.mul(tf.exp(logScale), eps)); //             [S, 3, 3]
    const logQ = tf.sum(tf.sub(tf.mul(-0.5, tf.square(eps)), logScale), 2); // constants cancel with log p
    const logP = tf.sum(tf.mul(-0.5, tf.square(z)), 2);
    return tf.sub(logQ, logP); //                                         [S, 3]
  });
  const mean = tf.mean(ratio, 0).arraySync() as number[];
  const sd = tf.sqrt(tf.moments(ratio, 0).variance).arraySync() as number[];
  closed.forEach((kl, i) => {
    const se = (sd[i] as number) / Math.sqrt(S);
    // Four standard errors: a false failure has probability ≈ 6e-5 per row.
    assert.ok(Math.abs((mean[i] as number) - kl) <= 4 * se + 1e-6, `row ${i}: closed ${kl}, Monte Carlo ${mean[i]} ± ${se}`);
  });
  assert.equal(closed[1], 0); // q = p
  tf.dispose([loc, logScale, eps, ratio]);
});

test('Bernoulli log-likelihood from logits equals the naive formula at moderate logits', () => {
  const x = tf.tensor2d([
    [0, 1, 0.3, 0.9],
    [1, 0, 0.5, 0.1],
  ]);
  const logits = tf.tensor2d([
    [-3, 2.5, 0.1, 4],
    [5, -5, 0, -0.7],
  ]);
  const ours = bernoulliLogLikelihood(x, logits).arraySync() as number[];
  const p = tf.sigmoid(logits);
  const naive = tf.sum(tf.add(tf.mul(x, tf.log(p)), tf.mul(tf.sub(1, x), tf.log(tf.sub(1, p)))), 1).arraySync() as number[];
  ours.forEach((v, i) => assert.ok(Math.abs(v - (naive[i] as number)) < 1e-4, `${v} vs ${naive[i]}`));
});

test('Bernoulli log-likelihood and its gradient stay finite (and exact) at logits of ±1000', () => {
  const x = tf.tensor2d([[1, 0, 1, 0, 0.5]]);
  const logits = tf.tensor2d([[1000, -1000, -1000, 1000, 1000]]);
  // x·l − softplus(l): 0, 0, −1000, −1000, 500 − 1000
  const value = bernoulliLogLikelihood(x, logits).arraySync() as number[];
  assert.ok(Math.abs((value[0] as number) - (0 + 0 - 1000 - 1000 - 500)) < 1e-3, String(value[0]));
  const grad = tf
    .grad((l: tf.Tensor) => tf.sum(bernoulliLogLikelihood(x, l)))(logits)
    .arraySync() as number[][];
  // ∂/∂l = x − sigmoid(l)
  assert.deepEqual(grad[0], [0, 0, 1, -1, -0.5]);
  // The naive formula is not finite there: this is what the logits form avoids.
  const p = tf.sigmoid(logits);
  const naive = tf.sum(tf.add(tf.mul(x, tf.log(p)), tf.mul(tf.sub(1, x), tf.log(tf.sub(1, p))))).arraySync() as number;
  assert.ok(!Number.isFinite(naive));
});

test('the factored first layers give what the concatenated layers models give', () => {
  const m = createM2({ ...tiny, xDim: 12, numClasses: 4, hidden: [7, 6] }, 3);
  const x = randomPixels(5, 12, 1);
  const labels = tf.tensor1d([0, 3, 1, 2, 3], 'int32');
  const y = tf.oneHot(labels, 4).toFloat() as tf.Tensor2D;
  const close = (a: tf.Tensor, b: tf.Tensor, what: string) => {
    const diff = tf.max(tf.abs(tf.sub(a, b))).arraySync() as number;
    assert.ok(diff < 1e-5, `${what}: max difference ${diff}`);
  };
  close(classifierLogits(m, x), plain.classifierLogits(m, x), 'classifier');
  const q = encode(m, x, y);
  const qPlain = plain.encode(m, x, y);
  close(q.loc, qPlain.loc, 'encoder loc');
  close(q.logScale, qPlain.logScale, 'encoder log scale');
  const z = tf.tensor2d(standardNormal(5 * 2, 2), [5, 2]);
  close(decode(m, z, y), plain.decode(m, z, y), 'decoder');
  // All classes at once: block k of the class-major output is the network at y = k.
  const all = encodeAllClasses(m, x);
  const zAll = tf.tensor2d(standardNormal(4 * 5 * 2, 3), [20, 2]);
  const logitsAll = decodeAllClasses(m, zAll);
  for (let k = 0; k < 4; k++) {
    const yk = tf.oneHot(tf.fill([5], k, 'int32') as tf.Tensor1D, 4).toFloat() as tf.Tensor2D;
    const ref = plain.encode(m, x, yk);
    close(all.loc.slice([5 * k, 0], [5, 2]), ref.loc, `encodeAllClasses loc, class ${k}`);
    close(all.logScale.slice([5 * k, 0], [5, 2]), ref.logScale, `encodeAllClasses log scale, class ${k}`);
    close(logitsAll.slice([5 * k, 0], [5, 12]), plain.decode(m, zAll.slice([5 * k, 0], [5, 2]), yk), `decodeAllClasses, class ${k}`);
  }
  disposeM2(m);
});

test('U(x) with y summed out equals an explicit loop over the ten classes', () => {
  const m = createM2({ ...tiny, xDim: 20, numClasses: 10, hidden: [9], zDim: 3 }, 5);
  const B = 4;
  const x = randomPixels(B, 20, 7);
  const eps = tf.tensor2d(standardNormal(10 * B * 3, 8), [10 * B, 3]); // class-major rows
  const u = unlabelledBoundEnumerated(m, x, eps);
  const logQ = logQy(m, x).arraySync() as number[][];
  const expected = new Array<number>(B).fill(0);
  for (let y = 0; y < 10; y++) {
    const yOneHot = tf.oneHot(tf.fill([B], y, 'int32') as tf.Tensor1D, 10).toFloat() as tf.Tensor2D;
    const l = labelledBound(m, x, yOneHot, eps.slice([y * B, 0], [B, 3]) as tf.Tensor2D).bound.arraySync() as number[];
    for (let b = 0; b < B; b++) {
      const lq = logQ[b]![y]!;
      expected[b]! += Math.exp(lq) * (l[b]! - lq); // q(y|x) L(x,y) plus this class's share of H(q)
    }
  }
  const got = u.bound.arraySync() as number[];
  got.forEach((v, b) => assert.ok(Math.abs(v - expected[b]!) < 1e-3 * Math.abs(expected[b]!), `image ${b}: ${v} vs ${expected[b]}`));
  disposeM2(m);
});

test('the variant-1 score-function gradient, with and without the leave-one-out control variate, equals the summed-out gradient in expectation', () => {
  const m = createM2(tiny, 11);
  const vars = trainableVariables(m);
  const x1 = randomPixels(1, tiny.xDim, 12);
  const K = tiny.numClasses;
  // Fix the z-noise of each class, e_y, so that E_ŷ[Û] = U exactly: then the only randomness
  // left is ŷ ~ q(y|x), the one the score function has to handle.
  const e = tf.tensor2d(standardNormal(K * tiny.zDim, 13), [K, tiny.zDim]);
  const flat = (grads: tf.NamedTensorMap) => tf.concat(vars.map((v) => (grads[v.name] ?? tf.zerosLike(v)).reshape([-1])));
  const exact = tf.tidy(() => flat(tf.variableGrads(() => tf.mean(unlabelledBoundEnumerated(m, x1, e).bound) as tf.Scalar, vars).grads));
  const classifierParams = m.classifier.countParams();
  const meanAbs = tf.tidy(() => tf.abs(exact.slice(0, classifierParams)).mean().arraySync() as number);
  // R independent estimates, each the mean over n samples of ŷ (n copies of x in one batch).
  const R = 30;
  const n = 2000;
  const xs = tf.tile(x1, [n, 1]) as tf.Tensor2D;
  const spread: Record<string, number> = {};
  for (const controlVariate of CONTROL_VARIATES) {
    const stacked = tf.tidy(() => {
      const estimates: tf.Tensor[] = [];
      for (let r = 0; r < R; r++) {
        const yHat = tf.multinomial(classifierLogits(m, xs), 1, 1000 + r).reshape([-1]) as tf.Tensor1D;
        const eps = tf.gather(e, yHat) as tf.Tensor2D;
        const surrogate = () => tf.mean(unlabelledBoundSampled(m, xs, yHat, eps, controlVariate).surrogate) as tf.Scalar;
        estimates.push(flat(tf.variableGrads(surrogate, vars).grads));
      }
      return tf.stack(estimates); //                                   [R, P]
    });
    const { mean, variance } = tf.moments(stacked, 0);
    const se = tf.sqrt(tf.div(variance, R));
    // Standardised error of every parameter's gradient; with R = 30 the t-statistic has heavy-ish
    // tails, so allow 5 (two-sided p ≈ 2e-5 each; P ≈ 130 parameters).
    const z = tf.div(tf.abs(tf.sub(mean, exact)), tf.add(se, 1e-6)).arraySync() as number[];
    const worst = Math.max(...z);
    assert.ok(worst < 5, `${controlVariate}: largest standardised deviation ${worst}`);
    spread[controlVariate] = tf.sqrt(variance.slice(0, classifierParams)).mul(Math.sqrt(n)).mean().arraySync() as number;
    tf.dispose([stacked, mean, variance, se]);
  }
  // Without a control variate the estimator is noisy (that is the point of variant 1): its
  // spread dwarfs the mean for q(y|x). The leave-one-out baseline removes the part of Û that all
  // classes share, so its spread is smaller.
  assert.ok(spread.none! > 3 * meanAbs, `per-sample sd ${spread.none} vs mean |gradient| ${meanAbs}`);
  assert.ok(
    spread['leave-one-out']! < spread.none! / 2,
    `per-sample sd ${spread['leave-one-out']} with the baseline vs ${spread.none} without`,
  );
  tf.dispose([exact, xs, e, x1]);
  disposeM2(m);
});

test('the leave-one-out control variate changes the surrogate by −b·log q(ŷ|x), b the mean of Û over the other images, and not the bound', () => {
  const m = createM2(tiny, 21);
  const B = 5;
  const x = randomPixels(B, tiny.xDim, 22);
  const yHat = tf.tensor1d([0, 1, 2, 1, 0], 'int32');
  const eps = tf.tensor2d(standardNormal(B * tiny.zDim, 23), [B, tiny.zDim]);
  const plain = unlabelledBoundSampled(m, x, yHat, eps, 'none');
  const loo = unlabelledBoundSampled(m, x, yHat, eps, 'leave-one-out');
  const u = plain.bound.arraySync() as number[];
  const logQ = tf.neg(plain.entropy).arraySync() as number[];
  const total = u.reduce((a, b) => a + b, 0);
  assert.deepEqual(loo.bound.arraySync(), u);
  const diff = tf.sub(loo.surrogate, plain.surrogate).arraySync() as number[];
  diff.forEach((d, i) => {
    const b = (total - u[i]!) / (B - 1);
    assert.ok(Math.abs(d - -b * logQ[i]!) < 1e-3 * Math.abs(b * logQ[i]!) + 1e-4, `image ${i}: ${d} vs ${-b * logQ[i]!}`);
  });
  // A batch of one has no other images: the baseline is 0.
  const one = (cv: 'none' | 'leave-one-out') =>
    unlabelledBoundSampled(m, x.slice(0, 1), yHat.slice(0, 1), eps.slice(0, 1), cv).surrogate.arraySync();
  assert.deepEqual(one('leave-one-out'), one('none'));
  tf.dispose([
    x,
    yHat,
    eps,
    plain.bound,
    plain.surrogate,
    plain.entropy,
    plain.kl,
    plain.reconstruction,
    loo.bound,
    loo.surrogate,
    loo.entropy,
    loo.kl,
    loo.reconstruction,
  ]);
  disposeM2(m);
});

test('KL(q̄ ‖ p(y)) is the part of the batch-mean KL(q(y|x) ‖ p(y)) that the image does not explain (ELBO surgery)', () => {
  // (1/B) Σ_i KL(q_i ‖ u) = (1/B) Σ_i KL(q_i ‖ q̄) + KL(q̄ ‖ u), computed here in plain arithmetic.
  const logits = [
    [2, -1, 0.5, 0],
    [-3, 1, 1, 0.2],
    [0, 0, 4, -2],
  ];
  const logQ = tf.logSoftmax(tf.tensor2d(logits)) as tf.Tensor2D;
  const q = (logQ.arraySync() as number[][]).map((row) => row.map(Math.exp));
  const k = 4;
  const mean = [0, 1, 2, 3].map((y) => q.reduce((s, row) => s + row[y]! / q.length, 0));
  const kl = (a: number[], b: number[]) => a.reduce((s, ay, y) => s + ay * Math.log(ay / b[y]!), 0);
  const uniform = new Array<number>(k).fill(1 / k);
  const toPrior = q.reduce((s, row) => s + kl(row, uniform) / q.length, 0);
  const toMean = q.reduce((s, row) => s + kl(row, mean) / q.length, 0);
  const got = aggregateClassKl(logQ).dataSync()[0]!;
  assert.ok(Math.abs(got - kl(mean, uniform)) < 1e-6, `KL(q̄ ‖ u) ${got} against ${kl(mean, uniform)}`);
  assert.ok(Math.abs(toPrior - (toMean + got)) < 1e-6, `${toPrior} = ${toMean} + ${got}`);
  // Zero when the batch uses every class equally, even if each image is certain of its own.
  const even = tf.log(
    tf
      .tensor2d([
        [1, 0],
        [0, 1],
      ])
      .add(1e-30),
  ) as tf.Tensor2D;
  assert.ok(Math.abs(aggregateClassKl(even).dataSync()[0]!) < 1e-6);
  // Finite when a class is all but unused, and equal to log K when the batch uses one class only.
  const one = tf.logSoftmax(
    tf.tensor2d([
      [80, -80, -80],
      [90, -90, -90],
    ]),
  ) as tf.Tensor2D;
  assert.ok(Math.abs(aggregateClassKl(one).dataSync()[0]! - Math.log(3)) < 1e-5);
});
