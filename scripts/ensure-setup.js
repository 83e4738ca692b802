#!/usr/bin/env node
// Makes a fresh clone ready to use: installs the npm packages (which builds native TensorFlow
// and lib/, see scripts/install-native.js) if they are missing, then the Python side
// (scripts/setup-python.js). Cheap when everything is already there, so `npm start` and
// `npm test` call it first and work straight after `git clone`.
'use strict';

const cp = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

function nodeDepsReady() {
  const installed = path.join(ROOT, 'node_modules', '.package-lock.json');
  const lock = path.join(ROOT, 'package-lock.json');
  if (!fs.existsSync(installed)) return false;
  // npm rewrites node_modules/.package-lock.json on every install: older than the lock file means stale.
  return fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs;
}

function ensureNodeDeps() {
  if (nodeDepsReady()) return;
  console.log('[setup] installing npm packages (npm ci; builds native TensorFlow the first time)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = cp.spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('[setup] error: `npm ci` failed (see above).');
    process.exit(r.status ?? 1);
  }
}

function main() {
  ensureNodeDeps();
  const { setupPython, SetupError } = require('./setup-python');
  try {
    setupPython();
  } catch (error) {
    console.error(`[setup] error: ${error instanceof SetupError ? error.message : error.stack}`);
    process.exit(1);
  }
}

main();
