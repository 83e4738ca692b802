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

/**
 * Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` in `file` by `content`
 * (atomically). Throws, naming the file, if the markers are missing. Returns true if it changed.
 */
export function replaceMarkedBlock(file: string, name: string, content: string): boolean {
  const text = fs.readFileSync(file, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file}: no block marked ${start} … ${end} to replace`);
  const updated = `${text.slice(0, a + start.length)}\n${content}\n${text.slice(b)}`;
  if (updated === text) return false;
  writeFileAtomic(file, updated);
  return true;
}

/** The text between the markers of `name` in `file` (trimmed), or undefined if there are none. */
export function readMarkedBlock(file: string, name: string): string | undefined {
  const text = fs.readFileSync(file, 'utf8');
  const a = text.indexOf(`<!-- ${name}:start -->`);
  const b = text.indexOf(`<!-- ${name}:end -->`);
  if (a < 0 || b < a) return undefined;
  return text.slice(a + `<!-- ${name}:start -->`.length, b).trim();
}

/**
 * Reads and parses the JSON file `file`. If it cannot be read, the error says `${file}: ${unreadable}`;
 * if it is not JSON, it says so with the parser's message.
 */
export function readJsonFile(file: string, unreadable: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: ${unreadable}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}
