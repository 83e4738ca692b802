/**
 * A smaller copy of a dataset, for runs that only need to show that the code works (the smoke
 * profile, tests): the first images of each split. Its name says what it holds, so a run
 * configured with `dataset: subset.name` is cached under a different key than the full data
 * and its record says honestly what it was trained on.
 */
import { makeRng } from '../core/random';
import { selectRows, type Dataset, type Split } from './datasets';

export interface SubsetSizes {
  train: number;
  validation: number;
  test: number;
}

function firstRows(split: Split, count: number): Split {
  if (!Number.isInteger(count) || count <= 0) throw new Error(`subset of ${split.name}: size must be a positive integer, got ${count}`);
  if (count >= split.count) return split;
  return selectRows(
    split,
    Array.from({ length: count }, (_, i) => i),
    split.name,
  );
}

/** The first `sizes.train` / `.validation` / `.test` images of each split (a split smaller than asked stays whole). */
export function subsetDataset(dataset: Dataset, sizes: SubsetSizes): Dataset {
  const train = firstRows(dataset.train, sizes.train);
  const validation = firstRows(dataset.validation, sizes.validation);
  const test = firstRows(dataset.test, sizes.test);
  if (train === dataset.train && validation === dataset.validation && test === dataset.test) return dataset;
  return {
    ...dataset,
    name: `${dataset.name}[train ${train.count}, validation ${validation.count}, test ${test.count}]`,
    train,
    validation,
    test,
  };
}

/**
 * The same images, each with a label drawn uniformly from `classes` classes (seeded): a dataset
 * with K classes for measuring what a step costs as K grows. Nothing can be learnt from it.
 */
export function withRandomLabels(dataset: Dataset, classes: number, seed: number): Dataset {
  if (!(Number.isInteger(classes) && classes >= 2 && classes <= 256))
    throw new Error(`withRandomLabels: classes must be an integer from 2 to 256, got ${classes}`);
  const rng = makeRng(seed, 'random-labels');
  const relabel = (split: Split): Split => ({ ...split, labels: Uint8Array.from(split.labels, () => Math.floor(rng() * classes)) });
  return {
    ...dataset,
    name: `${dataset.name}[${classes} random labels, seed ${seed}]`,
    numClasses: classes,
    train: relabel(dataset.train),
    validation: relabel(dataset.validation),
    test: relabel(dataset.test),
  };
}
