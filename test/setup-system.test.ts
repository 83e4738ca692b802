/**
 * The decision of scripts/setup-system.js (which Chromium, whether and how to install Chromium and
 * GNU parallel), on fake machines: nothing is installed and no command runs.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { planSystemSetup, resolveChromium, SetupSystemError, which, type SystemPlan, type SystemProbe } from '../scripts/setup-system';
import { tempDir } from './helpers';

interface FakeMachine {
  /** Executable files that exist outside PATH lookups (e.g. /usr/bin/chromium, SSVAE_CHROMIUM's target). */
  files?: string[];
  /** Commands on PATH: name → path. */
  commands?: Record<string, string>;
  root?: boolean;
  /** What `sudo -n true` would answer. */
  sudo?: boolean;
  env?: Record<string, string>;
}

/** A probe of a made-up machine that counts how often sudo was asked. */
function fake(machine: FakeMachine): SystemProbe & { sudoAsked: number } {
  const commands = machine.commands ?? {};
  const files = new Set([...(machine.files ?? []), ...Object.values(commands)]);
  const probe = {
    env: machine.env ?? {},
    isExecutable: (file: string) => files.has(file),
    which: (command: string) => commands[command] ?? null,
    root: machine.root ?? false,
    sudoAsked: 0,
    sudoWorks: () => {
      probe.sudoAsked++;
      return machine.sudo ?? false;
    },
  };
  return probe;
}

const DEBIAN = { 'apt-get': '/usr/bin/apt-get' };
const WITH_SUDO = { ...DEBIAN, sudo: '/usr/bin/sudo' };
const PARALLEL = { parallel: '/usr/bin/parallel' };

function expectKind<K extends SystemPlan['kind']>(plan: SystemPlan, kind: K): Extract<SystemPlan, { kind: K }> {
  assert.equal(plan.kind, kind, JSON.stringify(plan));
  return plan as Extract<SystemPlan, { kind: K }>;
}

describe('programs already installed', () => {
  test("Debian's /usr/bin/chromium and parallel: nothing to do, sudo not asked", () => {
    const machine = fake({ files: ['/usr/bin/chromium'], commands: { ...WITH_SUDO, ...PARALLEL } });
    const plan = expectKind(planSystemSetup(machine), 'ready');
    assert.deepEqual(plan, { kind: 'ready', chromium: '/usr/bin/chromium', parallel: '/usr/bin/parallel' });
    assert.equal(machine.sudoAsked, 0);
  });

  test('/usr/bin/chromium comes before a Chromium on PATH', () => {
    const machine = fake({ files: ['/usr/bin/chromium'], commands: { 'chromium-browser': '/opt/bin/chromium-browser', ...PARALLEL } });
    assert.equal(expectKind(planSystemSetup(machine), 'ready').chromium, '/usr/bin/chromium');
  });

  test('otherwise chromium, chromium-browser, google-chrome, google-chrome-stable on PATH, in that order', () => {
    const chrome = fake({
      commands: { 'google-chrome-stable': '/opt/google/chrome/stable', 'google-chrome': '/usr/local/bin/google-chrome', ...PARALLEL },
    });
    assert.equal(expectKind(planSystemSetup(chrome), 'ready').chromium, '/usr/local/bin/google-chrome');
    const snap = fake({ commands: { 'chromium-browser': '/snap/bin/chromium-browser', chromium: '/snap/bin/chromium', ...PARALLEL } });
    assert.equal(resolveChromium(snap), '/snap/bin/chromium');
  });

  test('SSVAE_CHROMIUM wins over everything found', () => {
    const machine = fake({
      env: { SSVAE_CHROMIUM: '/home/me/chrome/chrome' },
      files: ['/home/me/chrome/chrome', '/usr/bin/chromium'],
      commands: PARALLEL,
    });
    assert.equal(expectKind(planSystemSetup(machine), 'ready').chromium, '/home/me/chrome/chrome');
  });

  test('a SSVAE_CHROMIUM that does not exist is an error naming it, not a fallback or an install', () => {
    const machine = fake({
      env: { SSVAE_CHROMIUM: '/no/such/chrome' },
      files: ['/usr/bin/chromium'],
      commands: { ...DEBIAN, ...PARALLEL },
      root: true,
    });
    const plan = expectKind(planSystemSetup(machine), 'fail');
    assert.match(plan.message, /^SSVAE_CHROMIUM=\/no\/such\/chrome: no such executable file/);
    assert.throws(
      () => resolveChromium(machine),
      (err: Error) => err instanceof SetupSystemError && err.message === plan.message,
    );
  });

  test('with the browser tests skipped Chromium is not needed', () => {
    for (const env of [{ SSVAE_SKIP_BROWSER_TESTS: '1' }, { SSVAE_SKIP_NOTEBOOK_TESTS: '1' }] as Record<string, string>[]) {
      const plan = expectKind(planSystemSetup(fake({ env, commands: { ...DEBIAN, ...PARALLEL }, root: true })), 'ready');
      assert.equal(plan.chromium, null);
    }
  });
});

describe('installing on Debian and Ubuntu', () => {
  test('as root: apt-get update, then apt-get install of Chromium, its font and parallel', () => {
    const machine = fake({ commands: WITH_SUDO, root: true });
    const plan = expectKind(planSystemSetup(machine), 'install');
    assert.deepEqual(plan.missing, ['chromium', 'parallel']);
    assert.deepEqual(plan.packages, ['chromium', 'fonts-dejavu-core', 'parallel']);
    assert.deepEqual(plan.commands, [
      ['apt-get', 'update', '-qq'],
      ['apt-get', 'install', '-y', '-qq', 'chromium', 'fonts-dejavu-core', 'parallel'],
    ]);
    assert.equal(machine.sudoAsked, 0, 'root needs no sudo');
  });

  test('only what is missing is installed', () => {
    const noParallel = expectKind(planSystemSetup(fake({ files: ['/usr/bin/chromium'], commands: DEBIAN, root: true })), 'install');
    assert.deepEqual(noParallel.packages, ['parallel']);
    const noChromium = expectKind(planSystemSetup(fake({ commands: { ...DEBIAN, ...PARALLEL }, root: true })), 'install');
    assert.deepEqual(noChromium.packages, ['chromium', 'fonts-dejavu-core']);
  });

  test('not root, `sudo -n true` works: the same commands through sudo -n', () => {
    const machine = fake({ commands: WITH_SUDO, sudo: true });
    const plan = expectKind(planSystemSetup(machine), 'install');
    const sudo = ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive'];
    assert.deepEqual(plan.commands, [
      [...sudo, 'apt-get', 'update', '-qq'],
      [...sudo, 'apt-get', 'install', '-y', '-qq', 'chromium', 'fonts-dejavu-core', 'parallel'],
    ]);
    assert.equal(machine.sudoAsked, 1);
  });

  test('not root, sudo wants a password: one message with the command to run', () => {
    const machine = fake({ commands: WITH_SUDO, sudo: false });
    const plan = expectKind(planSystemSetup(machine), 'fail');
    assert.ok(
      plan.message.includes('    sudo apt-get update && sudo apt-get install -y chromium fonts-dejavu-core parallel\n'),
      plan.message,
    );
    assert.match(
      plan.message,
      /^Chromium \(for the browser tests\) and GNU parallel \(for the sweep test\) are not installed, and installing them needs root \(this is not root and `sudo -n true` needs a password\)\. Run:/,
    );
    assert.match(plan.message, /SSVAE_CHROMIUM/);
    assert.equal(machine.sudoAsked, 1);
  });

  test('not root and no sudo at all: the command to run as root, sudo never run', () => {
    const machine = fake({ files: ['/usr/bin/chromium'], commands: DEBIAN, sudo: true });
    const plan = expectKind(planSystemSetup(machine), 'fail');
    assert.match(
      plan.message,
      /^GNU parallel \(for the sweep test\) is not installed, and installing it needs root \(this is not root and there is no sudo\)\. Run as root:/,
    );
    assert.ok(plan.message.includes('\n    apt-get update && apt-get install -y parallel\n'), plan.message);
    assert.doesNotMatch(plan.message, /SSVAE_CHROMIUM/, 'Chromium is there: no advice about it');
    assert.equal(machine.sudoAsked, 0);
  });
});

describe('other systems (no apt-get)', () => {
  test('nothing is installed; the message says what to install and how to point at a browser', () => {
    const machine = fake({ commands: { sudo: '/usr/bin/sudo' }, root: true, sudo: true });
    const plan = expectKind(planSystemSetup(machine), 'fail');
    assert.match(plan.message, /no apt-get/);
    assert.match(plan.message, /SSVAE_CHROMIUM=/);
    assert.match(plan.message, /GNU parallel/);
    assert.doesNotMatch(plan.message, /apt-get install/);
    assert.equal(machine.sudoAsked, 0);
  });

  test('a Chrome found on PATH is enough there too', () => {
    const machine = fake({ commands: { 'google-chrome': '/usr/local/bin/google-chrome', ...PARALLEL } });
    assert.equal(expectKind(planSystemSetup(machine), 'ready').chromium, '/usr/local/bin/google-chrome');
  });
});

test('which() finds executable files on PATH only', () => {
  const dir = tempDir('which');
  const other = tempDir('which-other');
  fs.writeFileSync(path.join(dir, 'plain'), 'not a program');
  fs.chmodSync(path.join(dir, 'plain'), 0o644);
  fs.mkdirSync(path.join(dir, 'folder'));
  fs.writeFileSync(path.join(other, 'tool'), '#!/bin/sh\n');
  fs.chmodSync(path.join(other, 'tool'), 0o755);
  const envPath = [dir, '', other].join(path.delimiter);
  assert.equal(which('tool', envPath), path.join(other, 'tool'));
  assert.equal(which('plain', envPath), null);
  assert.equal(which('folder', envPath), null);
  assert.equal(which('missing', envPath), null);
});
