#!/usr/bin/env node
// The selection study's table: for every setting × N under a root of run records, the best
// validation accuracy within the first E epochs and the epoch it came at, as Markdown. Test
// accuracy is left out on purpose: settings are chosen on validation accuracy only.
//
//   node scripts/study-table.js [--root data/study/selection] [--epochs 6] [--variant v3]
'use strict';
const path = require('node:path');
const { parseArgs } = require('node:util');
const ssvae = require('../lib/dist');

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: 'data/study/selection' },
    epochs: { type: 'string', default: '6' },
    variant: { type: 'string', default: 'v3' },
  },
});
const cap = Number(values.epochs);
if (!Number.isInteger(cap) || cap <= 0) {
  console.error(`study-table: --epochs expects a positive integer, got "${values.epochs}"`);
  process.exit(2);
}
// The settings the study varies, as columns; a run's row is its values of these.
const STUDIED = ['init', 'schedule', 'lr', 'beta1', 'alphaRule'];
const rows = new Map();
const labelCounts = new Set();
for (const dir of ssvae.findRunDirs(path.resolve(values.root))) {
  const record = ssvae.readRunRecord(dir);
  const { config } = record;
  // Unfinished runs count once they have the first E epochs.
  if (config.variant !== values.variant || record.epochs.length < cap || config.preset !== 'default') continue;
  const first = record.epochs.slice(0, cap);
  const best = first.reduce((a, e) => (e.validationAccuracy > a.validationAccuracy ? e : a));
  const key = STUDIED.map((k) => String(config[k])).join(' | ');
  if (!rows.has(key)) rows.set(key, {});
  rows.get(key)[config.labels] = `${(100 * best.validationAccuracy).toFixed(2)} (${best.epoch})`;
  labelCounts.add(config.labels);
}
const columns = [...labelCounts].sort((a, b) => a - b);
console.log(`| ${STUDIED.join(' | ')} | ${columns.map((n) => `N = ${n}`).join(' | ')} |`);
console.log(`|${STUDIED.map(() => '---').join('|')}|${columns.map(() => '---:').join('|')}|`);
for (const key of [...rows.keys()].sort()) console.log(`| ${key} | ${columns.map((n) => rows.get(key)[n] ?? '—').join(' | ')} |`);
