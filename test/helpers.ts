/** Small helpers shared by the tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeIdx, IDX_FILES } from 'ssvae';

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

/** Command-line flags from an object, in its order: { labels: 50, 'z-dim': 2 } → ['--labels', '50', '--z-dim', '2']. */
export function flags(values: Record<string, string | number>): string[] {
  return Object.entries(values).flatMap(([name, value]) => [`--${name}`, String(value)]);
}

/** The settings of an M2 small enough to train in a second on a tiny dataset (writeTinyDataset) in `dataDir`. */
export function tinyModelFlags(dataDir: string): string[] {
  return flags({ 'batch-size': 20, hidden: 8, 'z-dim': 2, 'data-dir': dataDir });
}
