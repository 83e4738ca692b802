import assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

// Each case runs in a fresh process: the backend is chosen once per process.
const root = path.resolve(__dirname, '..');
function probe(env: Record<string, string>) {
  const script =
    "require('ssvae').initBackend().then(b => console.log(JSON.stringify(b)), e => { console.error('ERR ' + e.message); process.exit(3); })";
  return cp.spawnSync(process.execPath, ['-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, SSVAE_BACKEND: '', ...env },
  });
}

test('the native TensorFlow backend is the default, and says nothing', () => {
  const r = probe({});
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).name, 'tensorflow');
  assert.doesNotMatch(r.stderr, /\[ssvae\] backend/);
});

test('SSVAE_BACKEND=wasm forces WASM and prints one line saying so', () => {
  const r = probe({ SSVAE_BACKEND: 'wasm' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).name, 'wasm');
  assert.match(r.stderr, /^\[ssvae\] backend: wasm, forced by SSVAE_BACKEND=wasm$/m);
});

test('when the native binding cannot load, WASM takes over with one line naming the cause', () => {
  // Make require('@tensorflow/tfjs-node') fail the way a missing binding does.
  const blocker = path.join(__dirname, 'fixtures', 'block-tfjs-node.js');
  const r = probe({ NODE_OPTIONS: `--require ${blocker}` });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).name, 'wasm');
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('[ssvae]'));
  assert.deepEqual(lines, [
    '[ssvae] backend: wasm, native binding failed to load (Cannot find module tfjs_binding.node (blocked by test))',
  ]);
});

test('forcing tensorflow when it cannot load is an error, not a silent fallback', () => {
  const blocker = path.join(__dirname, 'fixtures', 'block-tfjs-node.js');
  const r = probe({ NODE_OPTIONS: `--require ${blocker}`, SSVAE_BACKEND: 'tensorflow' });
  assert.equal(r.status, 3);
  assert.match(r.stderr, /ERR SSVAE_BACKEND=tensorflow but the native binding failed to load/);
});

test('an unknown SSVAE_BACKEND is refused', () => {
  const r = probe({ SSVAE_BACKEND: 'cpu' });
  assert.equal(r.status, 3);
  assert.match(r.stderr, /SSVAE_BACKEND must be "tensorflow" or "wasm", got "cpu"/);
});
