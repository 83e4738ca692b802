/**
 * Every notebook survives being run again in the same kernel: Run All, then every code cell once
 * more, last first (scripts/rerun-notebooks.py, with nbclient and the tslab kernel), under
 * SSVAE_PROFILE=smoke. The notebooks are split between two processes that run side by side.
 * Set SSVAE_SKIP_NOTEBOOK_TESTS=1 to skip.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..');
const { setupPython } = require('../scripts/setup-python') as { setupPython(): { python: string } };

const notebooks = fs
  .readdirSync(path.join(ROOT, 'notebooks'))
  .filter((n) => n.endsWith('.ipynb') && !n.startsWith('.'))
  .sort();

/** Runs the re-execution script on `names`; resolves with its exit status and output. */
function rerun(python: string, names: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [path.join(ROOT, 'scripts', 'rerun-notebooks.py'), ...names.map((n) => path.join('notebooks', n))], {
      cwd: ROOT,
      env: { ...process.env, SSVAE_PROFILE: 'smoke' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

test(
  'every notebook can be run, and then each of its cells once more, in one kernel',
  { skip: process.env.SSVAE_SKIP_NOTEBOOK_TESTS === '1' ? 'SSVAE_SKIP_NOTEBOOK_TESTS=1' : false },
  async () => {
    const { python } = setupPython();
    const halves = [notebooks.filter((_, i) => i % 2 === 0), notebooks.filter((_, i) => i % 2 === 1)];
    const results = await Promise.all(halves.map((names) => rerun(python, names)));
    for (const { status, output } of results) assert.equal(status, 0, output);
    const ok = results.flatMap(({ output }) => output.split('\n').filter((line) => line.startsWith('rerun ok: ')));
    assert.deepEqual(ok.map((line) => line.slice('rerun ok: '.length).split(' ')[0]).sort(), notebooks);
  },
);
