import assert from 'node:assert/strict';
import { test } from 'node:test';
import { knnAccuracy, standardNormal, tf } from 'ssvae';

/** k-NN by the definition, in plain JavaScript: sort every reference by distance, count the k first. */
function knnByHand(reference: Float32Array, refLabels: number[], queries: Float32Array, queryLabels: number[], width: number, k: number) {
  let correct = 0;
  for (let i = 0; i < queryLabels.length; i++) {
    const distances = refLabels.map((_, r) => {
      let d = 0;
      for (let c = 0; c < width; c++) d += (queries[i * width + c]! - reference[r * width + c]!) ** 2;
      return { d, label: refLabels[r]! };
    });
    distances.sort((a, b) => a.d - b.d);
    const nearest = distances.slice(0, k).map((n) => n.label);
    const votes = nearest.map((label) => nearest.filter((l) => l === label).length);
    const winner = nearest[votes.indexOf(Math.max(...votes))];
    if (winner === queryLabels[i]) correct++;
  }
  return correct / queryLabels.length;
}

test('knnAccuracy equals k-NN computed by hand, for several k and batch sizes, and leaks no tensor', () => {
  const width = 6;
  // Three classes around three centres, overlapping enough that some queries are misclassified.
  const labelsOf = (n: number, offset: number) => Array.from({ length: n }, (_, i) => (i + offset) % 3);
  const pointsOf = (labels: number[], seed: number) => {
    const noise = standardNormal(labels.length * width, seed);
    return noise.map((v, j) => v + (Math.floor(j / width) < labels.length ? labels[Math.floor(j / width)]! * 0.8 : 0));
  };
  const refLabels = labelsOf(240, 0);
  const queryLabels = labelsOf(70, 1);
  const reference = pointsOf(refLabels, 1);
  const queries = pointsOf(queryLabels, 2);
  const before = tf.memory().numTensors;
  for (const [k, batch] of [
    [1, 500],
    [4, 16],
    [5, 7],
    [11, 70],
  ] as const) {
    const expected = knnByHand(reference, refLabels, queries, queryLabels, width, k);
    assert.ok(expected > 0.4 && expected < 1, `the test data should separate the classes only in part, got ${expected}`);
    assert.equal(knnAccuracy(reference, refLabels, queries, queryLabels, width, { k, batch }), expected, `k = ${k}, batch ${batch}`);
  }
  assert.equal(tf.memory().numTensors, before);
});

test('knnAccuracy: a tie goes to the class with the nearest member; bad sizes get one clear error', () => {
  // On a line: the query at 0, references at 1 (class 7), 2 (class 3), 3 (class 3), 4 (class 7).
  const reference = Float32Array.from([1, 2, 3, 4]);
  const labels = [7, 3, 3, 7];
  assert.equal(knnAccuracy(reference, labels, Float32Array.from([0]), [7], 1, { k: 4 }), 1);
  assert.equal(knnAccuracy(reference, labels, Float32Array.from([0]), [3], 1, { k: 3 }), 1);
  assert.throws(
    () => knnAccuracy(reference, labels, Float32Array.from([0]), [7], 1, { k: 5 }),
    /^Error: knnAccuracy: k must be a whole number in \[1, 4\] \(the reference rows\), got 5$/,
  );
  assert.throws(() => knnAccuracy(reference, [7, 3], Float32Array.from([0]), [7], 1, { k: 1 }), /4 reference rows but 2 reference labels/);
  assert.throws(() => knnAccuracy(reference, labels, Float32Array.from([0, 1]), [7], 1, { k: 1 }), /2 query rows but 1 query labels/);
});
