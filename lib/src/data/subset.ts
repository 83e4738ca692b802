/**
 * A smaller copy of a dataset, for runs that only need to show that the code works (the smoke
 * profile, tests): the first images of each split. Its name says what it holds, so a run
 * configured with `dataset: subset.name` is cached under a different key than the full data
 * and its record says honestly what it was trained on.
 */
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
