/**
 * Every notebook survives being run again in the same kernel: Run All, then every code cell once
 * more, last first. The shared smoke export runs each notebook so (export.js --rerun, whose
 * second pass is the nbconvert preprocessor scripts/execute_twice.py); this file checks its log,
 * and that the preprocessor does catch a cell that breaks when run again.
 * Set SSVAE_SKIP_NOTEBOOK_TESTS=1 to skip.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { rerunLines, smokeExport } from './smoke-export';

const ROOT = path.resolve(__dirname, '..');
const { setupPython } = require('../scripts/setup-python') as {
  setupPython(): { jupyter: string; kernelName: string };
};
const { listNotebooks, executionArgs, nbconvertEnv } = require('../scripts/export') as {
  listNotebooks(): string[];
  executionArgs(options: { kernelName: string; timeout: string; rerun: boolean; label: string }): string[];
  nbconvertEnv(): NodeJS.ProcessEnv;
};

describe(
  'running every cell again',
  { skip: process.env.SSVAE_SKIP_NOTEBOOK_TESTS === '1' ? 'SSVAE_SKIP_NOTEBOOK_TESTS=1' : false },
  () => {
    test('every notebook can be run, and then each of its cells once more, in one kernel', () => {
      const { log } = smokeExport();
      const ok = rerunLines(log);
      const expected = listNotebooks().map((file) => path.relative(ROOT, file));
      assert.deepEqual(ok.map((line) => line.notebook).sort(), [...expected].sort(), log);
      for (const line of ok) assert.ok(line.codeCells > 0, `${line.notebook}: no code cell ran again`);
    });

    test('a cell that undoes what it needs fails on the second pass, by name, and no handout is written', () => {
      const { jupyter, kernelName } = setupPython();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssvae-rerun-'));
      try {
        const cell = (id: string, source: string) => ({ cell_type: 'code', id, metadata: {}, execution_count: null, outputs: [], source });
        const notebook = {
          nbformat: 4,
          nbformat_minor: 5,
          metadata: {},
          cells: [
            cell('make', 'const queue = [1, 2];'),
            cell('take', "queue.shift();\nif (queue.length === 0) throw new Error('the queue is empty');\nqueue.length"),
          ],
        };
        fs.writeFileSync(path.join(dir, 'twice.ipynb'), JSON.stringify(notebook));
        const args = [
          'nbconvert',
          '--to',
          'html',
          ...executionArgs({ kernelName, timeout: '300', rerun: true, label: 'twice.ipynb' }),
          '--output-dir',
          dir,
          path.join(dir, 'twice.ipynb'),
        ];
        const result = spawnSync(jupyter, args, {
          cwd: ROOT,
          env: nbconvertEnv(),
          encoding: 'utf8',
          timeout: 5 * 60 * 1000,
        });
        const output = `${result.stdout}\n${result.stderr}`;
        assert.notEqual(result.status, 0, output);
        assert.match(output, /rerun FAILED: twice\.ipynb: code cell take \(cell 2\) failed when run a second time/);
        assert.match(output, /the queue is empty/);
        assert.ok(!/rerun ok/.test(output), output);
        assert.ok(!fs.existsSync(path.join(dir, 'twice.html')), 'a handout was written');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
