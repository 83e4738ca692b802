/** Writing files so that a crash never leaves a half-written one: write a temp file, then rename. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/**
 * Replaces directory `dir` by one that `fill` writes: fill a sibling temp directory, move the
 * old one aside, rename the new one into place, then delete the old. If the process dies in
 * between, `dir` or `dir.old` holds a complete copy (see readableDir).
 */
export function replaceDirAtomic(dir: string, fill: (tmpDir: string) => void): void {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  fill(tmp);
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** `dir` if it exists, else the complete previous copy left by an interrupted replaceDirAtomic. */
export function readableDir(dir: string): string | undefined {
  if (fs.existsSync(dir)) return dir;
  if (fs.existsSync(`${dir}.old`)) return `${dir}.old`;
  return undefined;
}
