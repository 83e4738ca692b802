// figures/: see README.md in this folder for what lives here and what it may import.
export * from './comparison';
export * from './counts';
export * from './images';
export * from './latent';
export * from './likelihood';
export * from './m1';
export * from './results';
export * from './training';
export * from './vega';
export * from './explorer';
export type { ExplorerHandle } from './explorer-runtime';
