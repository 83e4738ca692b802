// notebook/: see README.md in this folder for what lives here and what it may import.
export * from './profile';
export * from './progress';
export * from './setup';
