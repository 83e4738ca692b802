/**
 * The pure parts of scripts/install-native.js: reading why tfjs-node's installer failed from its
 * captured output, and which platforms the wheel fallback serves. The install itself is not run.
 */
import assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { describeInstallFailure, downloadErrorCode, LOG_FILE, wheelPlatformSupported } from '../scripts/install-native';

/** What tfjs-node's install.js prints when storage.googleapis.com has no DNS entry (Node 20). */
const ENOTFOUND_OUTPUT = `* Downloading libtensorflow
https://storage.googleapis.com/tensorflow/libtensorflow/libtensorflow-cpu-linux-x86_64-2.9.1.tar.gz
node:events:502
      throw er; // Unhandled 'error' event
      ^

Error: getaddrinfo ENOTFOUND storage.googleapis.com
    at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:120:26)
Emitted 'error' event on ClientRequest instance at:
    at emitErrorEvent (node:_http_client:101:11)
    at process.processTicksAndRejections (node:internal/process/task_queues:82:21) {
  errno: -3008,
  code: 'ENOTFOUND',
  syscall: 'getaddrinfo',
  hostname: 'storage.googleapis.com'
}

Node.js v20.20.2
`;

test('the error code of an unreachable download host', () => {
  assert.equal(downloadErrorCode(ENOTFOUND_OUTPUT), 'ENOTFOUND');
  assert.equal(describeInstallFailure(ENOTFOUND_OUTPUT, 1), 'libtensorflow download unreachable (ENOTFOUND)');
});

test('codes without the error object: from the message line, from a bare code, from an HTTP status', () => {
  assert.equal(downloadErrorCode('Error: connect ETIMEDOUT 142.250.1.1:443\n'), 'ETIMEDOUT');
  assert.equal(downloadErrorCode('Error: getaddrinfo EAI_AGAIN storage.googleapis.com'), 'EAI_AGAIN');
  assert.equal(downloadErrorCode('request failed: ECONNRESET'), 'ECONNRESET');
  assert.equal(
    downloadErrorCode("Error: self-signed certificate in certificate chain\n  code: 'SELF_SIGNED_CERT_IN_CHAIN'"),
    'SELF_SIGNED_CERT_IN_CHAIN',
  );
  assert.equal(downloadErrorCode('proxy answered HTTP/1.1 407 Proxy Authentication Required'), 'HTTP 407');
  assert.equal(downloadErrorCode('{ statusCode: 403 }'), 'HTTP 403');
  assert.equal(describeInstallFailure('statusCode: 404', 1), 'libtensorflow download unreachable (HTTP 404)');
});

test('a download that arrived broken is a failure, not "unreachable"', () => {
  const output = "TAR_BAD_ARCHIVE: Unrecognized archive format\n  code: 'TAR_BAD_ARCHIVE'";
  assert.equal(describeInstallFailure(output, 1), 'libtensorflow download failed (TAR_BAD_ARCHIVE)');
});

test('without a code: the exit status, or the signal that stopped the installer', () => {
  const gyp = 'gyp ERR! build error\ngyp ERR! stack Error: `make` failed with exit code: 2\n';
  assert.equal(downloadErrorCode(gyp), null);
  assert.equal(describeInstallFailure(gyp, 1), "tfjs-node's installer failed (exit status 1)");
  assert.equal(describeInstallFailure('', null, 'SIGTERM'), "tfjs-node's installer was stopped (SIGTERM)");
  // A build that fails after a good download: its error codes are not the download's.
  const buildFailed = `* Downloading libtensorflow\n* Building TensorFlow Node.js bindings\nError: spawn make ENOENT\n  code: 'ENOENT'\n`;
  assert.equal(downloadErrorCode(buildFailed), null);
});

test("the code in the output of a real failed request, as Node reports an unhandled 'error' event", () => {
  // Port 1 on the loopback interface: nothing listens there, so the connection is refused at once.
  const r = cp.spawnSync(process.execPath, ['-e', "require('https').get('https://127.0.0.1:1/libtensorflow.tar.gz')"], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.notEqual(r.status, 0);
  assert.equal(downloadErrorCode(r.stdout + r.stderr), 'ECONNREFUSED');
  assert.equal(describeInstallFailure(r.stdout + r.stderr, r.status), 'libtensorflow download unreachable (ECONNREFUSED)');
});

test('the wheel fallback is for Linux x86_64 only', () => {
  assert.equal(wheelPlatformSupported('linux', 'x64'), true);
  for (const [platform, arch] of [
    ['linux', 'arm64'],
    ['darwin', 'x64'],
    ['darwin', 'arm64'],
    ['win32', 'x64'],
    ['freebsd', 'x64'],
  ] as const) {
    assert.equal(wheelPlatformSupported(platform, arch), false, `${platform} ${arch}`);
  }
  assert.equal(wheelPlatformSupported(), process.platform === 'linux' && process.arch === 'x64');
});

test('the log goes under node_modules/.cache, which npm ci starts afresh', () => {
  assert.equal(path.relative(path.resolve(__dirname, '..'), LOG_FILE), path.join('node_modules', '.cache', 'ssvae', 'install-native.log'));
});

test('requiring the script runs no install', () => {
  const r = cp.spawnSync(process.execPath, ['-e', "require('./scripts/install-native.js')"], {
    cwd: path.resolve(__dirname, '..'),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '');
});
