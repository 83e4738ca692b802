#!/usr/bin/env node
// Starts the project's Jupyter from .venv, after making sure it is set up (scripts/setup-python.js).
//
//   node scripts/jupyter.js lab [jupyter lab options...]     (npm start)
//   node scripts/jupyter.js <subcommand> [options...]        any other jupyter subcommand
//
// For `lab`, `notebook` and `server`, the server's root is notebooks/ and, when running as root
// (as in many containers), --allow-root is added. Everything after the subcommand is passed on
// to Jupyter unchanged, so later options override these.
'use strict';

const cp = require('node:child_process');
const path = require('node:path');
const { setupPython, SetupError } = require('./setup-python');

const ROOT = path.resolve(__dirname, '..');
const NOTEBOOK_DIR = path.join(ROOT, 'notebooks');
const SERVER_COMMANDS = new Set(['lab', 'notebook', 'server']);

function main() {
  const [subcommand = 'lab', ...rest] = process.argv.slice(2);
  let paths;
  try {
    paths = setupPython();
  } catch (error) {
    console.error(`[jupyter] error: ${error instanceof SetupError ? error.message : error.stack}`);
    process.exit(1);
  }

  const args = [subcommand];
  if (SERVER_COMMANDS.has(subcommand)) {
    args.push(`--ServerApp.root_dir=${NOTEBOOK_DIR}`);
    if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--allow-root');
  }
  args.push(...rest);

  console.log(`[jupyter] ${path.relative(ROOT, paths.jupyter)} ${args.join(' ')}`);
  const child = cp.spawn(paths.jupyter, args, {
    cwd: NOTEBOOK_DIR,
    stdio: 'inherit',
    // Prefer the kernels registered in .venv over any the user has installed globally.
    env: { ...process.env, JUPYTER_PREFER_ENV_PATH: '1' },
  });
  // Ctrl+C reaches Jupyter directly (same terminal); pass on the signals that do not.
  for (const signal of ['SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  process.on('SIGINT', () => {
    // Jupyter handles Ctrl+C itself (it asks for confirmation); do not exit before it does.
  });
  child.on('error', (error) => {
    console.error(`[jupyter] error: could not start ${paths.jupyter}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    process.exit(code ?? (signal ? 128 + (require('node:os').constants.signals[signal] ?? 0) : 1));
  });
}

main();
