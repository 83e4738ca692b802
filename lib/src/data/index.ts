// data/: see README.md in this folder for what lives here and what it may import.
export * from './datasets';
export * from './idx';
export * from './subset';
export * from './import';
