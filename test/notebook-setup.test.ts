/**
 * The notebooks as documents: they are stored without outputs, and 00-setup executes from a
 * fresh tslab kernel through scripts/export.js into a handout that shows its figures.
 *
 * The export test runs the real pipeline (the .venv, nbconvert, tslab, the native backend) and
 * takes some seconds; set SSVAE_SKIP_NOTEBOOK_TESTS=1 to skip it where Python is unavailable.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { smokeExport } from './smoke-export';
import { before, describe, test } from 'node:test';
import { figureMarkup } from './handouts';

const ROOT = path.resolve(__dirname, '..');
const NOTEBOOK_DIR = path.join(ROOT, 'notebooks');

interface Cell {
  cell_type: string;
  id?: string;
  execution_count?: number | null;
  outputs?: unknown[];
  source: string | string[];
}

function notebookFiles(): string[] {
  return fs
    .readdirSync(NOTEBOOK_DIR)
    .filter((name) => name.endsWith('.ipynb') && !name.startsWith('.')) // not export's temporary copies
    .sort()
    .map((name) => path.join(NOTEBOOK_DIR, name));
}

describe('stored notebooks', () => {
  test('there is at least the setup notebook', () => {
    assert.ok(notebookFiles().some((file) => path.basename(file) === '00-setup.ipynb'));
  });

  for (const file of notebookFiles()) {
    const name = path.basename(file);
    test(`${name} is stored without outputs, with an id for every cell, and uses the tslab kernel`, () => {
      const notebook = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Cell[]; metadata: { kernelspec?: { name?: string } } };
      assert.equal(notebook.metadata.kernelspec?.name, 'tslab', `${name}: kernelspec should be tslab`);
      // nbformat 4.5: every cell has an id, unique in its notebook (nbconvert warns otherwise).
      const ids = notebook.cells.map((cell) => cell.id);
      assert.deepEqual(
        ids.flatMap((id, index) => (typeof id === 'string' && /^[\w-]{1,64}$/.test(id) ? [] : [index])),
        [],
        `${name}: cells without a valid id`,
      );
      assert.equal(new Set(ids).size, ids.length, `${name}: two cells share an id`);
      notebook.cells.forEach((cell, index) => {
        if (cell.cell_type !== 'code') return;
        assert.deepEqual(cell.outputs ?? [], [], `${name}: cell ${index} has outputs (clear them before committing)`);
        assert.equal(cell.execution_count ?? null, null, `${name}: cell ${index} has an execution count (clear outputs before committing)`);
      });
    });
  }
});

describe('the export command line', () => {
  const exportWith = (args: string[], handoutDir: string) =>
    spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'export.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, SSVAE_HANDOUT_DIR: handoutDir },
      encoding: 'utf8',
    });

  test('a bad --jobs or an unknown notebook gets one clear error, and no handout is written', () => {
    const handoutDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ssvae-export-')), 'handouts');
    for (const [args, message] of [
      [['--jobs', '0'], '[export] error: --jobs: expected a whole number ≥ 1, got "0"'],
      [['--jobs', 'two', '00-setup'], '[export] error: --jobs: expected a whole number ≥ 1, got "two"'],
      [['--job', '2'], "[export] error: Unknown option '--job' (usage: export.js [--jobs N] [--rerun] [NOTEBOOK …])"],
      [['99-nope'], '[export] error: 99-nope: no such notebook in notebooks/ (have: '],
    ] as [string[], string][]) {
      const result = exportWith(args, handoutDir);
      assert.equal(result.status, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.ok(result.stderr.startsWith(message), `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr.match(/error:/g)?.length, 1, result.stderr);
      assert.ok(!fs.existsSync(handoutDir), `${args.join(' ')} wrote ${handoutDir}`);
    }
  });
});

describe('exporting 00-setup', { skip: process.env.SSVAE_SKIP_NOTEBOOK_TESTS === '1' ? 'SSVAE_SKIP_NOTEBOOK_TESTS=1' : false }, () => {
  let outDir = '';
  let html = '';

  before(() => {
    const handouts = smokeExport();
    outDir = handouts.dir;
    html = handouts.html('00-setup');
  });

  test('the handout shows the digit grid as an inline PNG', () => {
    const grid = figureMarkup(html, 'digit-grid');
    assert.ok(grid, 'no <figure id="digit-grid"> in the handout');
    const match = grid.match(/<img[^>]*src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/);
    assert.ok(match, 'the digit-grid figure holds no data:image/png image');
    const png = Buffer.from(match[1] as string, 'base64');
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG');
    // 8 × 8 digits of 28 px, with 2 px lines, at scale 2: at least 8 × 28 × 2 = 448 px a side.
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    assert.ok(width >= 448 && height >= 448, `grid is only ${width}×${height}`);
    assert.ok(png.length > 5000, `grid PNG is only ${png.length} bytes`);
  });

  test('the handout shows the label counts as an inline SVG chart', () => {
    const chart = figureMarkup(html, 'label-counts');
    assert.ok(chart, 'no <figure id="label-counts"> in the handout');
    assert.match(chart, /<svg[\s>]/);
    assert.match(chart, /<\/svg>/);
    for (const split of ['train', 'validation', 'test']) assert.ok(chart.includes(`>${split}</text>`), `no legend entry for ${split}`);
  });

  test('the handout has no error or stderr output', () => {
    // nbconvert's lab template renders errors (with their tracebacks) and stderr this way.
    assert.ok(!html.includes('data-mime-type="application/vnd.jupyter.stderr"'), 'the handout contains error or stderr output');
    assert.ok(!/class="[^"]*\b(output_error|traceback)\b/.test(html), 'the handout contains an error output');
  });

  test('the handout loads nothing from the network', () => {
    const external = html.match(/<(?:script|link|img)\b[^>]*\b(?:src|href)="(?:https?:)?\/\/[^"]*"/g) ?? [];
    assert.deepEqual(external, []);
  });

  test('index.html lists the handout under its heading', () => {
    const index = fs.readFileSync(path.join(outDir, 'index.html'), 'utf8');
    assert.match(index, /<a href="00-setup\.html">0\. Setting up[^<]*<\/a>/);
  });
});
