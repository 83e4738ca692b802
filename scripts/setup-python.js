#!/usr/bin/env node
// Prepares the Python side of the workspace, idempotently:
//
// 1. a project-local virtual environment in .venv (created with python3 if missing);
// 2. the packages of requirements.txt installed into it (skipped when the hash of
//    requirements.txt recorded in .venv after the last successful install still matches);
// 3. the tslab kernels (TypeScript "tslab", JavaScript "jslab") registered inside the venv,
//    under .venv/share/jupyter/kernels, pointing at this checkout's node_modules/.bin/tslab,
//    so the user's global Jupyter configuration is left alone.
//
// Usable as a command (`node scripts/setup-python.js`) and as a module (scripts/jupyter.js and
// scripts/export.js call setupPython() before they start Jupyter).
//
// Environment:
//   SSVAE_PYTHON   the interpreter used to create the venv (default python3)
'use strict';

const cp = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const VENV = path.join(ROOT, '.venv');
const REQUIREMENTS = path.join(ROOT, 'requirements.txt');
const STAMP = path.join(VENV, '.ssvae-requirements.sha256');
const TSLAB_BIN = path.join(ROOT, 'node_modules', '.bin', 'tslab');
const KERNEL_NAME = 'tslab';

const paths = {
  root: ROOT,
  venv: VENV,
  python: path.join(VENV, 'bin', 'python'),
  jupyter: path.join(VENV, 'bin', 'jupyter'),
  kernelsDir: path.join(VENV, 'share', 'jupyter', 'kernels'),
  kernelName: KERNEL_NAME,
};

class SetupError extends Error {}

function log(message) {
  console.log(`[setup-python] ${message}`);
}

/** Runs a command with inherited output; throws a SetupError naming it when it fails. */
function run(command, args, what) {
  const result = cp.spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.error) throw new SetupError(`${what}: could not run ${command}: ${result.error.message}`);
  if (result.status !== 0)
    throw new SetupError(`${what}: \`${[command, ...args].join(' ')}\` exited with status ${result.status ?? result.signal}`);
}

function runs(command, args) {
  const result = cp.spawnSync(command, args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

function ensureVenv() {
  if (fs.existsSync(paths.python)) {
    if (!runs(paths.python, ['-c', 'import sys'])) {
      throw new SetupError(`${paths.python} does not run (was the Python it was made from removed?). Delete ${VENV} and run this again.`);
    }
    log(`venv: ${path.relative(ROOT, VENV)} exists`);
    return;
  }
  const python = process.env.SSVAE_PYTHON || 'python3';
  if (!runs(python, ['--version'])) {
    throw new SetupError(`${python} was not found. Install Python 3 (3.9 or newer, with the venv module) or point SSVAE_PYTHON at one.`);
  }
  log(`venv: creating ${path.relative(ROOT, VENV)} with ${python}`);
  run(python, ['-m', 'venv', VENV], 'creating the virtual environment');
}

function requirementsHash() {
  // The interpreter version is part of the key: a venv rebuilt on another Python reinstalls.
  const version = cp.spawnSync(paths.python, ['-c', 'import sys; print(sys.version)'], { encoding: 'utf8' }).stdout ?? '';
  return crypto.createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).update(version).digest('hex');
}

function ensureRequirements() {
  const hash = requirementsHash();
  const recorded = fs.existsSync(STAMP) ? fs.readFileSync(STAMP, 'utf8').trim() : '';
  if (recorded === hash && fs.existsSync(paths.jupyter)) {
    log('requirements: up to date (requirements.txt unchanged since the last install)');
    return;
  }
  log('requirements: pip install -r requirements.txt');
  run(paths.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', '-r', REQUIREMENTS], 'installing requirements.txt');
  fs.writeFileSync(STAMP, `${hash}\n`);
}

function kernelSpecPath() {
  return path.join(paths.kernelsDir, KERNEL_NAME, 'kernel.json');
}

function ensureKernel() {
  if (!fs.existsSync(TSLAB_BIN)) {
    throw new SetupError(`${path.relative(ROOT, TSLAB_BIN)} is missing; install the Node dependencies first (npm install).`);
  }
  try {
    const spec = JSON.parse(fs.readFileSync(kernelSpecPath(), 'utf8'));
    if (Array.isArray(spec.argv) && spec.argv[0] === TSLAB_BIN) {
      log(`kernel: ${KERNEL_NAME} registered in ${path.relative(ROOT, paths.kernelsDir)}`);
      return;
    }
  } catch {
    // missing or unreadable: (re)install below
  }
  log(`kernel: registering ${KERNEL_NAME} in ${path.relative(ROOT, paths.kernelsDir)}`);
  // --prefix=<venv> puts the spec under <venv>/share/jupyter/kernels, which the venv's Jupyter
  // searches (sys.prefix), and never touches ~/.local/share/jupyter.
  run(TSLAB_BIN, ['install', `--python=${paths.python}`, `--binary=${TSLAB_BIN}`, `--prefix=${VENV}`], 'registering the tslab kernel');
  if (!fs.existsSync(kernelSpecPath())) {
    throw new SetupError(`tslab install finished but ${kernelSpecPath()} does not exist`);
  }
}

/** Makes sure the venv, its packages and the tslab kernel are in place; returns the paths. */
function setupPython() {
  ensureVenv();
  ensureRequirements();
  ensureKernel();
  return paths;
}

module.exports = { setupPython, paths, SetupError };

if (require.main === module) {
  try {
    setupPython();
    log('done');
  } catch (error) {
    console.error(`[setup-python] error: ${error instanceof SetupError ? error.message : error.stack}`);
    process.exit(1);
  }
}
