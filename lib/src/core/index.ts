// core/: see README.md in this folder for what lives here and what it may import.
export * from './backend';
export * from './batches';
export * from './files';
export * from './hash';
export * from './html';
export * from './paths';
export * from './random';
export * from './stats';
