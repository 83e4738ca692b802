// tools/: see README.md in this folder for what lives here and what it may import.
export * from './sweep';
export * from './table-one';
