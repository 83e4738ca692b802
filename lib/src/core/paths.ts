/**
 * Where the project's files are, found from this file's own place (lib/dist/core/ when compiled,
 * lib/src/core/ under ts-node): the library folder lib/, and the project's data/ beside it.
 */
import * as path from 'node:path';

/** The library's folder, lib/ (it holds package.json, src/ and dist/). */
export function libraryDir(): string {
  return path.resolve(__dirname, '..', '..');
}

/** The project's data/ folder (next to lib/): MNIST caches, trained runs, run records. */
export function projectDataDir(): string {
  return path.resolve(libraryDir(), '..', 'data');
}
