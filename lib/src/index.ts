/** The SS-VAE library: everything the notebooks, the CLI and the tests use. */
export * from './backend';
export * from './idx';
export * from './random';
export * from './data';
export * from './charts';
export * from './images';
