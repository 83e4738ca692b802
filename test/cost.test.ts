import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classCounts, loadDataset, resolveConfig, semiSupervisedSplits, tf, timeTrainingSteps, withRandomLabels } from 'ssvae';
import { tempDir, writeTinyDataset } from './helpers';

const dataDir = tempDir('cost-data');
writeTinyDataset(dataDir, 30, 5); // 4×4 images: train 200 (after 100 validation), test 50
const dataset = loadDataset({ dataDir, validationSize: 100 });

test('withRandomLabels: the same images with K seeded uniform labels, named as such', () => {
  const many = withRandomLabels(dataset, 20, 1);
  assert.equal(many.numClasses, 20);
  assert.match(many.name, /20 random labels, seed 1/);
  assert.equal(many.train.images, dataset.train.images);
  for (const split of [many.train, many.validation, many.test]) assert.ok(split.labels.every((l) => l < 20));
  // 200 training labels over 20 classes: every class turns up, none takes a quarter.
  const counts = classCounts(many.train, 20);
  assert.ok(
    counts.every((c) => c > 0 && c < 50),
    `${counts}`,
  );
  assert.deepEqual(withRandomLabels(dataset, 20, 1).train.labels, many.train.labels);
  assert.notDeepEqual(withRandomLabels(dataset, 20, 2).train.labels, many.train.labels);
  assert.throws(() => withRandomLabels(dataset, 1, 0), /classes must be an integer from 2 to 256, got 1/);
});

test('timeTrainingSteps: real steps of the trainer at any K, timed, with nothing left behind', () => {
  const before = tf.memory().numTensors;
  const base = { labels: 20, batchSize: 20, hidden: [8], zDim: 2, xDim: 16, dataset: dataDir };
  for (const [variant, classes] of [
    ['v3', 10],
    ['gumbel', 10],
    ['v3', 4],
  ] as const) {
    const data = classes === 10 ? dataset : withRandomLabels(dataset, classes, 0);
    const config = resolveConfig({ ...base, variant, numClasses: classes });
    const timing = timeTrainingSteps(config, semiSupervisedSplits(data, config.labels, 0), { warmup: 1, steps: 3 });
    assert.equal(timing.variant, variant);
    assert.equal(timing.classes, classes);
    assert.equal(timing.timed.length, 3);
    assert.ok(timing.msPerStep > 0 && Number.isFinite(timing.msPerStep));
    assert.ok(timing.stepsPerEpoch >= 1);
    assert.ok(Math.abs(timing.secondsPerEpoch - (timing.msPerStep * timing.stepsPerEpoch) / 1000) < 1e-9);
  }
  assert.equal(tf.memory().numTensors, before);
  assert.throws(
    () => timeTrainingSteps(resolveConfig({ ...base, variant: 'v3' }), semiSupervisedSplits(dataset, 20, 0), { warmup: 0, steps: 0 }),
    /steps must be a positive integer, got 0/,
  );
});
