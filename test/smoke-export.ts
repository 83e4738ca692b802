/**
 * One export of every notebook under SSVAE_PROFILE=smoke, two at a time, each run with Run All
 * and then every code cell once more (export.js --rerun), shared by the test
 * files that check handouts (each test file runs in its own process). The export goes to
 * build/test-handouts/<stamp>/, where the stamp hashes everything that shapes the handouts
 * (notebooks, export scripts and template, the compiled library); a later test file with the
 * same stamp reads that export instead of running it again.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name), keep) : keep(e.name) ? [path.join(dir, e.name)] : []))
    .sort();
}

function stamp(): string {
  const hash = crypto.createHash('sha256');
  const inputs = [
    ...filesUnder(path.join(ROOT, 'notebooks'), (n) => n.endsWith('.ipynb') && !n.startsWith('.')),
    ...filesUnder(path.join(ROOT, 'scripts'), (n) => /\.(js|j2|py)$/.test(n)),
    ...filesUnder(path.join(ROOT, 'lib', 'dist'), (n) => n.endsWith('.js')),
  ];
  for (const file of inputs) hash.update(path.relative(ROOT, file)).update(fs.readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

export interface SmokeExport {
  /** Folder holding <notebook>.html and index.html. */
  dir: string;
  /** What the export printed (its per-notebook "done in … s" lines among it). */
  log: string;
  /** Whether this process ran the export (false: reused one made by an earlier test file). */
  ran: boolean;
  html(name: string): string;
}

export function smokeExport(): SmokeExport {
  const base = path.join(ROOT, 'build', 'test-handouts');
  const dir = path.join(base, stamp());
  const logFile = path.join(dir, 'export.log');
  let ran = false;
  if (!fs.existsSync(logFile)) {
    fs.rmSync(base, { recursive: true, force: true }); // older exports
    // Two notebooks at a time: much of a notebook's time is the kernel starting and compiling
    // cells, one core's work, so two side by side take less time than one after the other.
    const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'export.js'), '--jobs', '2', '--rerun'], {
      cwd: ROOT,
      env: { ...process.env, SSVAE_PROFILE: 'smoke', SSVAE_HANDOUT_DIR: dir },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 45 * 60 * 1000,
    });
    const log = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.status, 0, `scripts/export.js failed (status ${result.status ?? result.signal}):\n${log}`);
    fs.writeFileSync(logFile, log); // written last: its presence marks a complete export
    ran = true;
  }
  return { dir, log: fs.readFileSync(logFile, 'utf8'), ran, html: (name) => fs.readFileSync(path.join(dir, `${name}.html`), 'utf8') };
}

/** One notebook's line from the export's second pass (scripts/execute_twice.py). */
export interface RerunLine {
  /** The notebook, as notebooks/<name>.ipynb. */
  notebook: string;
  /** CPU seconds of nbconvert and the kernel at the end of Run All. */
  runAllCpuSeconds: number;
  /** Code cells run again, last first. */
  codeCells: number;
}

/** The "rerun ok" lines of an export's log. */
export function rerunLines(log: string): RerunLine[] {
  return [...log.matchAll(/rerun ok: (notebooks\/[^:]+\.ipynb): Run All used ([\d.]+) s of CPU; then its (\d+) code cells/g)].map((m) => ({
    notebook: m[1] as string,
    runAllCpuSeconds: Number(m[2]),
    codeCells: Number(m[3]),
  }));
}
