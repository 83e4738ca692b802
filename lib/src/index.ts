/**
 * The SS-VAE library: everything the notebooks, the CLI and the tests use, by folder, lower
 * layers first (a folder imports only the folders listed before it):
 *   core      backend, randomness, files, statistics, hashing, paths, HTML, batched inference
 *   data      IDX files, datasets, semi-supervised splits, subsets
 *   model     configs, the network builder, M2, objectives, the VAE, Adam
 *   train     schedule, gradient step, trainers, evaluation, checkpoints, records, cache
 *   analysis  gradient variance, generation, t-SNE, k-NN accuracy, the comparison and published numbers
 *   figures   charts, digit grids, tables
 *   notebook  profiles, progress lines, the notebooks' shared opening
 *   tools     the sweep and Table 1 from its plans (the CLI and benchmarks are programs, not exports)
 * Everything is exported flat (`ssvae.train(…)`) and by folder (`ssvae.figures.accuracySpec`).
 */
export * from './core';
export * from './data';
export * from './model';
export * from './train';
export * from './analysis';
export * from './figures';
export * from './notebook';
export * from './tools';

export * as core from './core';
export * as data from './data';
export * as model from './model';
export * as training from './train';
export * as analysis from './analysis';
export * as figures from './figures';
export * as notebook from './notebook';
export * as tools from './tools';
