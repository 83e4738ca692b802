#!/usr/bin/env node
// Makes sure the system programs the test suite needs are there:
//
// - Chromium, for the browser tests (test/browser.ts drives it with playwright-core; no browser
//   is ever downloaded): SSVAE_CHROMIUM if set, else /usr/bin/chromium (Debian's package), else
//   chromium, chromium-browser, google-chrome or google-chrome-stable on PATH. Not needed when
//   SSVAE_SKIP_BROWSER_TESTS=1 or SSVAE_SKIP_NOTEBOOK_TESTS=1.
// - GNU parallel, for test/sweep.test.ts.
//
// What is missing is installed with apt-get on Debian and Ubuntu: directly as root, through
// `sudo -n` when that works without a password. Otherwise the script stops with one message
// naming the command to run. `npm test` runs this through scripts/ensure-setup.js, and .ci/run
// as its first stage.
//
// The decision is planSystemSetup(), a pure function of a SystemProbe (what is installed, who
// we are); test/setup-system.test.ts checks it with fake probes.
'use strict';

const cp = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** Where Debian's chromium package puts the browser; the default when nothing else is found. */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
/** Commands that start a Chromium, looked up on PATH in this order. */
const CHROMIUM_COMMANDS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
/**
 * Debian packages per missing program. fonts-dejavu-core gives pages a font on machines with none;
 * chromium-driver (which .ci/run used to install too) is left out: playwright talks to Chromium
 * directly, nothing here uses chromedriver.
 */
const APT_PACKAGES = {
  chromium: ['chromium', 'fonts-dejavu-core'],
  parallel: ['parallel'],
};

class SetupSystemError extends Error {}

function log(message) {
  console.log(`[setup-system] ${message}`);
}

/**
 * @typedef {object} SystemProbe  what planSystemSetup may ask about the machine
 * @property {Record<string, string | undefined>} env  the environment (SSVAE_CHROMIUM, SSVAE_SKIP_*)
 * @property {(file: string) => boolean} isExecutable  whether a file exists and may be executed
 * @property {(command: string) => string | null} which  the path of a command on PATH, or null
 * @property {boolean} root  whether this process runs as root
 * @property {() => boolean} sudoWorks  whether `sudo -n true` succeeds; asked only when an install needs it
 */

/**
 * @typedef {{ kind: 'ready', chromium: string | null, parallel: string }
 *   | { kind: 'install', packages: string[], commands: string[][], missing: string[] }
 *   | { kind: 'fail', message: string }} SystemPlan
 * `ready`: everything is there (chromium is null when the browser tests are skipped).
 * `install`: run `commands` (argv arrays, with DEBIAN_FRONTEND=noninteractive), then plan again.
 * `fail`: stop with `message`, which says what to do.
 */

/** True when the environment says the browser tests will not run, so Chromium is not needed. */
function browserTestsSkipped(env) {
  return env.SSVAE_SKIP_BROWSER_TESTS === '1' || env.SSVAE_SKIP_NOTEBOOK_TESTS === '1';
}

/**
 * The Chromium the browser tests should launch: SSVAE_CHROMIUM if set (a SetupSystemError if it
 * is not an executable file), else /usr/bin/chromium, else the first of CHROMIUM_COMMANDS on
 * PATH; null if there is none.
 * @param {SystemProbe} probe
 * @returns {string | null}
 */
function resolveChromium(probe = systemProbe()) {
  const override = probe.env.SSVAE_CHROMIUM;
  if (override) {
    if (!probe.isExecutable(override)) {
      throw new SetupSystemError(`SSVAE_CHROMIUM=${override}: no such executable file (expected the path of a Chromium or Chrome binary)`);
    }
    return override;
  }
  if (probe.isExecutable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  for (const command of CHROMIUM_COMMANDS) {
    const found = probe.which(command);
    if (found) return found;
  }
  return null;
}

/**
 * Decides what to do: nothing, an apt-get install, or stop with a message. Pure: everything it
 * knows about the machine comes from `probe`.
 * @param {SystemProbe} probe
 * @returns {SystemPlan}
 */
function planSystemSetup(probe) {
  let chromium;
  try {
    chromium = browserTestsSkipped(probe.env) ? null : resolveChromium(probe);
  } catch (error) {
    if (error instanceof SetupSystemError) return { kind: 'fail', message: error.message };
    throw error;
  }
  const parallel = probe.which('parallel');
  const missing = [];
  if (chromium === null && !browserTestsSkipped(probe.env)) missing.push('chromium');
  if (parallel === null) missing.push('parallel');
  if (missing.length === 0) return { kind: 'ready', chromium, parallel: /** @type {string} */ (parallel) };

  const what = missing
    .map((m) => (m === 'chromium' ? 'Chromium (for the browser tests)' : 'GNU parallel (for the sweep test)'))
    .join(' and ');
  if (!probe.which('apt-get')) {
    return { kind: 'fail', message: nonDebianMessage(missing, what) };
  }
  const packages = missing.flatMap((m) => APT_PACKAGES[m]);
  const apt = (...args) => ['apt-get', ...args];
  const steps = [apt('update', '-qq'), apt('install', '-y', '-qq', ...packages)];
  if (probe.root) return { kind: 'install', packages, commands: steps, missing };
  const hasSudo = probe.which('sudo') !== null;
  if (hasSudo && probe.sudoWorks()) {
    // sudo resets the environment; `env` carries DEBIAN_FRONTEND over to apt-get.
    return {
      kind: 'install',
      packages,
      commands: steps.map((s) => ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive', ...s]),
      missing,
    };
  }
  const why = hasSudo ? 'this is not root and `sudo -n true` needs a password' : 'this is not root and there is no sudo';
  return {
    kind: 'fail',
    message:
      `${what} ${missing.length > 1 ? 'are' : 'is'} not installed, and installing ${missing.length > 1 ? 'them' : 'it'} needs root ` +
      `(${why}). Run${hasSudo ? '' : ' as root'}:\n\n` +
      `    ${manualAptCommand(packages, hasSudo)}\n\n` +
      `then run the command again.${missing.includes('chromium') ? ' To use another Chromium, set SSVAE_CHROMIUM=/path/to/chromium; SSVAE_SKIP_BROWSER_TESTS=1 skips the browser tests.' : ''}`,
  };
}

/** The command a user should type to install `packages`: through sudo, or as root if there is no sudo. */
function manualAptCommand(packages, sudo = true) {
  const prefix = sudo ? 'sudo ' : '';
  return `${prefix}apt-get update && ${prefix}apt-get install -y ${packages.join(' ')}`;
}

/** What to tell a user without apt-get: which programs to install and how to point at Chromium. */
function nonDebianMessage(missing, what) {
  const steps = [];
  if (missing.includes('chromium')) {
    steps.push(
      `install Chromium or Google Chrome with your system's package manager; if it is not on PATH as ${CHROMIUM_COMMANDS.join(', ')}, ` +
        'set SSVAE_CHROMIUM=/path/to/the/browser/binary (SSVAE_SKIP_BROWSER_TESTS=1 skips the browser tests instead)',
    );
  }
  if (missing.includes('parallel')) steps.push("install GNU parallel (the `parallel` command) with your system's package manager");
  return `${what} ${missing.length > 1 ? 'are' : 'is'} not installed, and this system has no apt-get to install ${missing.length > 1 ? 'them' : 'it'} with: ${steps.join('; ')}.`;
}

/** Finds `command` in the directories of PATH, as the shell would; null if it is not there. */
function which(command, envPath = process.env.PATH || '') {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, command);
    if (isExecutable(file)) return file;
  }
  return null;
}

/** True if `file` is a regular file (after symlinks) this process may execute. */
function isExecutable(file) {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The probe of this machine. */
function systemProbe() {
  return {
    env: process.env,
    isExecutable,
    which: (command) => which(command),
    root: typeof process.getuid === 'function' && process.getuid() === 0,
    sudoWorks: () => cp.spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0,
  };
}

/** Runs one install command; on failure throws a SetupSystemError with the command and its output's tail. */
function runInstallCommand(argv) {
  const r = cp.spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new SetupSystemError(`could not run \`${argv.join(' ')}\`: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = `${r.stdout}${r.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new SetupSystemError(`\`${argv.join(' ')}\` exited with status ${r.status ?? r.signal}:\n${tail}`);
  }
}

/**
 * Installs what is missing (see the top of this file) and returns the programs found. Throws a
 * SetupSystemError with the message to show when that cannot be done.
 * @param {SystemProbe} probe
 * @returns {{ chromium: string | null, parallel: string }}
 */
function setupSystem(probe = systemProbe()) {
  const plan = planSystemSetup(probe);
  if (plan.kind === 'fail') throw new SetupSystemError(plan.message);
  if (plan.kind === 'ready') return { chromium: plan.chromium, parallel: plan.parallel };
  log(`installing ${plan.packages.join(' ')} with apt-get (missing: ${plan.missing.join(', ')}; takes a minute or two)`);
  for (const argv of plan.commands) runInstallCommand(argv);
  const after = planSystemSetup(probe);
  if (after.kind !== 'ready') {
    throw new SetupSystemError(
      `apt-get installed ${plan.packages.join(' ')}, but ${after.kind === 'fail' ? after.message : 'something is still missing'}`,
    );
  }
  return { chromium: after.chromium, parallel: after.parallel };
}

/** The first line of `<program> --version`, or '' if it does not answer. */
function versionOf(program) {
  const r = cp.spawnSync(program, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? (r.stdout.split('\n')[0] ?? '').trim() : '';
}

module.exports = {
  planSystemSetup,
  resolveChromium,
  setupSystem,
  systemProbe,
  which,
  SetupSystemError,
  DEBIAN_CHROMIUM,
  CHROMIUM_COMMANDS,
  APT_PACKAGES,
};

if (require.main === module) {
  try {
    const found = setupSystem();
    if (found.chromium) log(`Chromium: ${found.chromium} (${versionOf(found.chromium) || 'no --version'})`);
    else log('Chromium: not needed (browser tests skipped)');
    log(`GNU parallel: ${found.parallel} (${versionOf(found.parallel) || 'no --version'})`);
  } catch (error) {
    console.error(`[setup-system] error: ${error instanceof SetupSystemError ? error.message : error.stack}`);
    process.exit(1);
  }
}
