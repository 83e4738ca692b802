import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

/** The library's folders, lowest first: a folder may import only itself and the folders before it. */
const LAYERS = ['core', 'data', 'model', 'train', 'analysis', 'figures', 'notebook', 'tools'];
const src = path.resolve(__dirname, '..', 'lib', 'src');

/** Every relative import of a file under `root`, as [folder, module]: "../model/m2" → ["model", "m2"]. */
function relativeImports(file: string, root = src): string[][] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.\.?\/[^']+)'/g)].map((m) =>
    path.relative(root, path.resolve(path.dirname(file), m[1] ?? '')).split(path.sep),
  );
}

test('layout: every folder has an index and a README, and no source file lies outside a folder but the root index', () => {
  const entries = fs.readdirSync(src, { withFileTypes: true });
  assert.deepEqual(
    entries.filter((e) => e.isFile()).map((e) => e.name),
    ['index.ts'],
  );
  assert.deepEqual(
    entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort(),
    [...LAYERS].sort(),
  );
  for (const layer of LAYERS) {
    for (const required of ['index.ts', 'README.md'])
      assert.ok(fs.existsSync(path.join(src, layer, required)), `${layer}/${required} is missing`);
  }
});

/** "core/x.ts imports train/" for every import of a folder from a folder above it (or from outside the layers). */
function layerViolations(root = src): string[] {
  const found: string[] = [];
  for (const layer of LAYERS.filter((l) => fs.existsSync(path.join(root, l)))) {
    for (const name of fs.readdirSync(path.join(root, layer)).filter((n) => n.endsWith('.ts'))) {
      for (const [target = ''] of relativeImports(path.join(root, layer, name), root)) {
        const rank = LAYERS.indexOf(target);
        if (rank < 0 || rank > LAYERS.indexOf(layer)) found.push(`${layer}/${name} imports ${target}/`);
      }
    }
  }
  return found;
}

test('layout: lower layers never import higher ones', () => {
  assert.deepEqual(layerViolations(), []);
});

test('layout: the check sees a violation when there is one', () => {
  // The same parsing, on a copy of the layout with a file of core/ importing from train/.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ssvae-layout-'));
  try {
    fs.mkdirSync(path.join(root, 'core'));
    const probe = path.join(root, 'core', 'probe.ts');
    fs.writeFileSync(
      probe,
      "import { tf } from './backend';\nimport { train } from '../train/trainer';\nconst m = import('../model/m2');\n",
    );
    assert.deepEqual(relativeImports(probe, root), [
      ['core', 'backend'],
      ['train', 'trainer'],
      ['model', 'm2'],
    ]);
    assert.deepEqual(layerViolations(root), ['core/probe.ts imports train/', 'core/probe.ts imports model/']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
