/** Small helpers shared by the tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import {
  encodeIdx,
  epochPlan,
  IDX_FILES,
  loadDataset,
  makeRng,
  resolveConfig,
  standardNormal,
  tf,
  Trainer,
  type Dataset,
  type RunRecord,
  type SemiSupervisedSplits,
  type TrainConfig,
  type TrainSettings,
} from 'ssvae';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ssvae-${prefix}-`));
}

/**
 * Writes a tiny dataset in MNIST's four-file IDX layout: `perClass` images of each of
 * `numClasses` classes in the training file and in the test file; image i of class c is
 * filled with the byte value (c * 20 + i) % 256 so tests can tell images apart.
 */
export function writeTinyDataset(dir: string, trainPerClass: number, testPerClass: number, numClasses = 10, side = 4): void {
  const write = (imagesName: string, labelsName: string, perClass: number) => {
    const count = perClass * numClasses;
    const images = new Uint8Array(count * side * side);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      labels[i] = i % numClasses; // interleaved classes, like a shuffled dataset
      images.fill((labels[i]! * 20 + Math.floor(i / numClasses)) % 256, i * side * side, (i + 1) * side * side);
    }
    fs.writeFileSync(path.join(dir, imagesName), encodeIdx([count, side, side], images));
    fs.writeFileSync(path.join(dir, labelsName), encodeIdx([count], labels));
  };
  write(IDX_FILES.trainImages, IDX_FILES.trainLabels, trainPerClass);
  write(IDX_FILES.testImages, IDX_FILES.testLabels, testPerClass);
}

/**
 * A tiny dataset in a new temporary folder (writeTinyDataset: 4×4 images, 300 train of which 100
 * are validation, 50 test), loaded, and the settings of an M2 that trains on it in a second.
 */
export function tinyTraining(prefix: string): {
  dataDir: string;
  dataset: Dataset;
  small: { labels: number; batchSize: number; hidden: number[]; zDim: number; xDim: number; dataset: string };
} {
  const dataDir = tempDir(prefix);
  writeTinyDataset(dataDir, 30, 5);
  const dataset = loadDataset({ dataDir, validationSize: 100 });
  return { dataDir, dataset, small: { labels: 50, batchSize: 20, hidden: [8], zDim: 2, xDim: 16, dataset: dataDir } };
}

/** Command-line flags from an object, in its order: { labels: 50, 'z-dim': 2 } → ['--labels', '50', '--z-dim', '2']. */
export function flags(values: Record<string, string | number>): string[] {
  return Object.entries(values).flatMap(([name, value]) => [`--${name}`, String(value)]);
}

/** The settings of an M2 small enough to train in a second on a tiny dataset (writeTinyDataset) in `dataDir`. */
export function tinyModelFlags(dataDir: string): string[] {
  return flags({ 'batch-size': 20, hidden: 8, 'z-dim': 2, 'data-dir': dataDir });
}

/**
 * Runs 100 steps of a trainer for `config` on `splits` (its epoch plan, cycled), each with a finite
 * loss, and checks that tf.memory().numTensors after step 100 is what it was after step 10.
 * Returns the terms of the last step.
 */
export function assertStepsKeepTensorCount(config: TrainConfig, splits: SemiSupervisedSplits): Record<string, number> {
  const trainer = new Trainer(config, splits);
  const rng = makeRng(0, 'leak');
  const plan = epochPlan(config, splits.unlabelled.count, splits.labelled.count, rng);
  let at10 = -1;
  let terms: Record<string, number> = {};
  try {
    for (let i = 1; i <= 100; i++) {
      terms = trainer.step(plan[i % plan.length]!, rng);
      assert.ok(Number.isFinite(terms.loss), `step ${i}: loss ${terms.loss}`);
      if (i === 10) at10 = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, at10);
  } finally {
    trainer.dispose();
  }
  return terms;
}

/** `rows × cols` values in (0, 1) (the logistic of standard normal draws from `seed`), like pixel intensities. */
export function randomPixels(rows: number, cols: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(
    Float32Array.from(standardNormal(rows * cols, seed), (v) => 1 / (1 + Math.exp(-v))),
    [rows, cols],
  );
}

/** A finished run record as the CLI would write it, with the given result. */
export function fakeRecord(overrides: TrainSettings, testAccuracy: number, startedAt: string, finished = true): RunRecord {
  const config = resolveConfig(overrides);
  const epochs = Array.from({ length: finished ? config.epochs : 1 }, (_, i) => ({
    epoch: i + 1,
    seconds: 20,
    losses: { 'unlabelled.loss': 100 },
    validationAccuracy: i === 0 ? 0.5 : testAccuracy + 0.001,
    testAccuracy: i === 0 ? 0.4 : testAccuracy,
  }));
  return {
    format: 'ssvae-run/1',
    config,
    epochs,
    result: {
      bestEpoch: epochs.length,
      testAccuracyAtBest: testAccuracy,
      validationAccuracyAtBest: testAccuracy + 0.001,
      testAccuracyLast: testAccuracy,
      finished,
    },
    environment: { backend: 'tensorflow', versions: {}, commit: 'abcdef1234567', cpu: 'Test CPU', cores: 2, startedAt },
    wallSeconds: 20 * epochs.length,
  };
}

export function writeRecord(root: string, name: string, record: RunRecord): void {
  fs.mkdirSync(path.join(root, name), { recursive: true });
  fs.writeFileSync(path.join(root, name, 'run.json'), JSON.stringify(record));
}
