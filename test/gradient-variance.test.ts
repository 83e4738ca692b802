import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classificationLoss,
  createM2,
  disposeM2,
  labelledBound,
  measureGradientVariance,
  medianInPlace,
  networkGradientNorms,
  RELAXED_ESTIMATORS,
  standardNormal,
  tf,
  unlabelledBoundEnumerated,
} from 'ssvae';

const tiny = { xDim: 6, numClasses: 3, hidden: [5], zDim: 2, init: 'glorot-normal' as const, likelihood: 'bernoulli' as const };
const B = 8;
// B images of 6 "pixels" in (0, 1).
const x = Float32Array.from(standardNormal(B * tiny.xDim, 7), (v) => 1 / (1 + Math.exp(-v)));

test('with ε fixed, the mean of the score-function draws converges to the exact summed-out gradient (with and without baseline)', () => {
  const m = createM2(tiny, 1);
  const before = tf.memory().numTensors;
  const draws = 300;
  const r = measureGradientVariance(m, x, {
    draws,
    seed: 2,
    noise: 'y',
    estimators: ['summed-out', 'score-function', 'score-function-baseline'],
  });
  assert.equal(tf.memory().numTensors, before);
  for (const s of r.stats) {
    assert.equal(s.norms.length, draws);
    assert.equal(s.cosines.length, draws);
    if (s.estimator === 'summed-out') {
      // Nothing random is left: every draw is the reference itself.
      assert.equal(s.variance, 0, `${s.group}: variance ${s.variance}`);
      assert.ok(s.meanError <= 1e-5 * r.referenceNorms[s.group], `${s.group}: ${s.meanError}`);
      continue;
    }
    assert.ok(s.variance > 0);
    // Unbiased: E‖ḡ − g*‖² = tr Cov / S. The ratio below is a weighted mean of χ²₁ variables
    // (one per noisy direction of the gradient), so of order one; a bias b would add ‖b‖²·S / tr Cov,
    // which grows with the number of draws.
    const ratio = (s.meanError ** 2 * draws) / s.variance;
    assert.ok(ratio < 4, `${s.estimator} ${s.group}: ‖ḡ − g*‖²·S / tr Cov = ${ratio}`);
  }
  // The part of the gradient that only q(y|x) receives is where the sampled estimator is noisy,
  // and the leave-one-out baseline reduces that noise.
  const classifier = (e: string) => r.stats.find((s) => s.estimator === e && s.group === 'classifier')!;
  assert.ok(classifier('score-function-baseline').variance < classifier('score-function').variance);
  disposeM2(m);
});

test('independent draws: with ε resampled the summed-out estimator varies too, and every draw differs', () => {
  const m = createM2(tiny, 3);
  const r = measureGradientVariance(m, x, { draws: 20, seed: 5, noise: 'y-and-z', referenceDraws: 50 });
  assert.equal(r.stats.length, 3 * 4);
  assert.equal(r.batchSize, B);
  for (const s of r.stats) {
    assert.ok(s.variance > 0, `${s.estimator} ${s.group}`);
    assert.equal(new Set(s.norms).size, s.norms.length, `${s.estimator} ${s.group}: repeated draws`);
    assert.ok(s.cosines.every((c) => c >= -1 - 1e-9 && c <= 1 + 1e-9));
    assert.ok(Number.isFinite(s.snr) && Number.isFinite(s.medianParameterSnr));
  }
  assert.ok(Number.isFinite(r.learningSignal.mean) && r.learningSignal.sd > 0);
  assert.throws(() => measureGradientVariance(m, x, { draws: 1, seed: 0, noise: 'y' }), /draws must be an integer of at least 2/);
  disposeM2(m);
});

test('networkGradientNorms: L(x,y) does not reach q(y|x), U(x) reaches every network, −log q(y|x) only q(y|x)', () => {
  const m = createM2(tiny, 4);
  const xs = tf.tensor2d(x, [B, tiny.xDim]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3).toFloat() as tf.Tensor2D);
  const eps = tf.tensor2d(standardNormal(3 * B * 2, 1), [3 * B, 2]);
  const before = tf.memory().numTensors;
  const labelled = networkGradientNorms(m, () => tf.neg(tf.mean(labelledBound(m, xs, y, eps.slice([0, 0], [B, 2])).bound)) as tf.Scalar);
  assert.equal(labelled.classifier, null);
  assert.ok(labelled.encoder! > 0 && labelled.decoder! > 0);
  const unlabelled = networkGradientNorms(m, () => tf.neg(tf.mean(unlabelledBoundEnumerated(m, xs, eps).bound)) as tf.Scalar);
  assert.ok(unlabelled.classifier! > 0 && unlabelled.encoder! > 0 && unlabelled.decoder! > 0);
  const classification = networkGradientNorms(m, () => tf.mean(classificationLoss(m, xs, y)) as tf.Scalar);
  assert.deepEqual([classification.encoder, classification.decoder], [null, null]);
  assert.ok(classification.classifier! > 0);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([xs, y, eps]);
  disposeM2(m);
});

test('relaxed estimators: far less noise for q(y|x) than the score function, but a biased gradient for q(y|x)', () => {
  const m = createM2(tiny, 1);
  const before = tf.memory().numTensors;
  const draws = 300;
  const r = measureGradientVariance(m, x, {
    draws,
    seed: 4,
    noise: 'y',
    estimators: ['score-function', ...RELAXED_ESTIMATORS],
    temperature: 1,
  });
  assert.equal(tf.memory().numTensors, before);
  const stat = (e: string, group: string) => r.stats.find((s) => s.estimator === e && s.group === group)!;
  // With S draws an unbiased estimator keeps ‖ḡ − g*‖²·S / tr Cov of order one (first test); a
  // bias b adds ‖b‖²·S / tr Cov.
  const biasRatio = (e: string, group: string) => (stat(e, group).meanError ** 2 * draws) / stat(e, group).variance;
  for (const e of RELAXED_ESTIMATORS) {
    assert.ok(stat(e, 'classifier').variance < stat('score-function', 'classifier').variance / 100, `${e}: classifier variance`);
    assert.ok(biasRatio(e, 'classifier') > 20, `${e}: classifier ‖ḡ − g*‖²·S / tr Cov = ${biasRatio(e, 'classifier')}`);
  }
  // The relaxed sample feeds the encoder a mixture of classes, so its gradient is biased too;
  // straight-through feeds it one-hot(argmax), an exact sample of q(y|x), so it is not.
  assert.ok(biasRatio('gumbel-relaxed', 'encoder') > 20, `gumbel-relaxed encoder: ${biasRatio('gumbel-relaxed', 'encoder')}`);
  for (const group of ['encoder', 'decoder'])
    assert.ok(biasRatio('straight-through', group) < 4, `straight-through ${group}: ${biasRatio('straight-through', group)}`);
  disposeM2(m);
});

test('medianInPlace gives the median a sort gives, for odd and even counts, ties and infinities', () => {
  const sorted = (values: Float64Array) => {
    const s = Float64Array.from(values).sort();
    const mid = s.length >> 1;
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  };
  let state = 12345;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let n = 1; n <= 64; n++) {
    for (const levels of [3, 1000]) {
      const values = Float64Array.from({ length: n }, () => Math.floor(next() * levels) - levels / 2);
      assert.equal(medianInPlace(Float64Array.from(values)), sorted(values), `n = ${n}, ${levels} levels`);
    }
  }
  const big = Float64Array.from({ length: 100_001 }, () => next());
  assert.equal(medianInPlace(Float64Array.from(big)), sorted(big));
  assert.equal(medianInPlace(Float64Array.from([1, 2, Infinity])), 2);
  assert.equal(medianInPlace(Float64Array.from([3, Infinity])), Infinity);
  assert.ok(Number.isNaN(medianInPlace(new Float64Array(0))));
});
