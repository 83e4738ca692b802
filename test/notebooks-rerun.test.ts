/**
 * Every notebook survives being run again in the same kernel: Run All twice, then every code cell
 * once more, last first (scripts/rerun-notebooks.py, with nbclient and the tslab kernel), under
 * SSVAE_PROFILE=smoke. Set SSVAE_SKIP_NOTEBOOK_TESTS=1 to skip.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..');
const { setupPython } = require('../scripts/setup-python') as { setupPython(): { python: string } };

const notebooks = fs
  .readdirSync(path.join(ROOT, 'notebooks'))
  .filter((n) => n.endsWith('.ipynb') && !n.startsWith('.'))
  .sort();

test(
  'every notebook can be run twice in one kernel, and each cell once more after that',
  { skip: process.env.SSVAE_SKIP_NOTEBOOK_TESTS === '1' ? 'SSVAE_SKIP_NOTEBOOK_TESTS=1' : false },
  () => {
    const { python } = setupPython();
    const run = spawnSync(python, [path.join(ROOT, 'scripts', 'rerun-notebooks.py'), ...notebooks.map((n) => path.join('notebooks', n))], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SSVAE_PROFILE: 'smoke' },
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const ok = run.stdout.split('\n').filter((line) => line.startsWith('rerun ok: '));
    assert.deepEqual(
      ok.map((line) => line.slice('rerun ok: '.length).split(' ')[0]),
      notebooks,
    );
  },
);
