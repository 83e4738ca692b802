import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { likelihoodMarkdown, readMarkedBlock, replaceMarkedBlock, resultsBlock } from 'ssvae';
import { tempDir } from './helpers';

const root = path.resolve(__dirname, '..');

test("the README's results tables are the ones the run records under data/runs and Table 1's plans give", () => {
  const inReadme = readMarkedBlock(path.join(root, 'README.md'), 'results');
  assert.ok(inReadme, 'README.md has a <!-- results:start --> … <!-- results:end --> block');
  assert.equal(inReadme, resultsBlock(path.join(root, 'data', 'runs')).trim(), 'stale: run `npm run ssvae -- results --write README.md`');
});

test("the README's likelihood table is the one the records under data/study/likelihood give", () => {
  const inReadme = readMarkedBlock(path.join(root, 'README.md'), 'likelihood');
  assert.ok(inReadme, 'README.md has a <!-- likelihood:start --> … <!-- likelihood:end --> block');
  assert.equal(
    inReadme,
    likelihoodMarkdown(path.join(root, 'data', 'study', 'likelihood')).trim(),
    'stale: run `npm run ssvae -- results --write README.md`',
  );
});

test('replaceMarkedBlock rewrites only the marked block and refuses a file without markers', () => {
  const file = path.join(tempDir('marked'), 'doc.md');
  fs.writeFileSync(file, 'before\n<!-- t:start -->\nold\n<!-- t:end -->\nafter\n');
  assert.equal(replaceMarkedBlock(file, 't', 'new | table'), true);
  assert.equal(fs.readFileSync(file, 'utf8'), 'before\n<!-- t:start -->\nnew | table\n<!-- t:end -->\nafter\n');
  assert.equal(replaceMarkedBlock(file, 't', 'new | table'), false);
  assert.throws(() => replaceMarkedBlock(file, 'other', 'x'), /doc\.md: no block marked <!-- other:start -->/);
});
