// train/: see README.md in this folder for what lives here and what it may import.
export * from './cache';
export * from './cache-entries';
export * from './checkpoint';
export * from './evaluate';
export * from './m1';
export * from './records';
export * from './run-dir';
export * from './schedule';
export * from './step';
export * from './trainer';
export * from './vae';
