// analysis/: see README.md in this folder for what lives here and what it may import.
export * from './averaging';
export * from './comparison';
export * from './cost';
export * from './generation';
export * from './gradient-variance';
export * from './likelihood';
export * from './neighbours';
export * from './references';
export * from './restarts';
export * from './tsne';
