/** The SS-VAE library: everything the notebooks, the CLI and the tests use. */
export * from './backend';
export * from './idx';
export * from './random';
export * from './data';
export * from './charts';
export * from './images';
export * from './config';
export * from './model';
export * from './objectives';
export * from './optimizer';
export * from './checkpoint';
export * from './records';
export * from './evaluate';
export * from './train';
export * from './files';
export * from './cache';
export * from './profile';
