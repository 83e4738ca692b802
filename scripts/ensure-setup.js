#!/usr/bin/env node
// Makes a fresh clone ready to use: installs the npm packages (which builds native TensorFlow
// and lib/, see scripts/install-native.js) if they are missing, then the Python side
// (scripts/setup-python.js). Cheap when everything is already there, so `npm start` and
// `npm test` call it first and work straight after `git clone`.
//
//   node scripts/ensure-setup.js          what `npm start` needs
//   node scripts/ensure-setup.js --test   also the system programs the tests need, Chromium and
//                                         GNU parallel (scripts/setup-system.js), first
'use strict';

const cp = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/** True if every direct dependency is installed at its pinned version and the native binding and lib/ are built. */
function nodeDepsReady() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const wanted = { ...pkg.dependencies, ...pkg.devDependencies };
  for (const [name, spec] of Object.entries(wanted)) {
    const file = path.join(ROOT, 'node_modules', name, 'package.json');
    if (!fs.existsSync(file)) return false;
    // Exact pins must match; ranges and file: links only need to be present.
    if (/^\d+\.\d+\.\d+$/.test(spec) && JSON.parse(fs.readFileSync(file, 'utf8')).version !== spec) return false;
  }
  const binding = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node', 'lib');
  const built = fs.existsSync(binding) && fs.readdirSync(binding).some((d) => fs.existsSync(path.join(binding, d, 'tfjs_binding.node')));
  return (built || process.env.SSVAE_SKIP_NATIVE === '1') && fs.existsSync(path.join(ROOT, 'lib', 'dist', 'index.js'));
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

/** Chromium and GNU parallel for the tests: found, installed with apt-get, or one message saying how. */
function ensureSystemPrograms() {
  const { setupSystem, SetupSystemError } = require('./setup-system');
  try {
    const found = setupSystem();
    console.log(`[setup] Chromium: ${found.chromium ?? 'not needed (browser tests skipped)'}; GNU parallel: ${found.parallel}`);
  } catch (error) {
    console.error(`[setup] error: ${error instanceof SetupSystemError ? error.message : error.stack}`);
    process.exit(1);
  }
}

function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--test');
  if (unknown.length > 0) {
    console.error(`[setup] error: unknown argument ${unknown[0]} (the only option is --test)`);
    process.exit(2);
  }
  if (args.includes('--test')) ensureSystemPrograms();
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
