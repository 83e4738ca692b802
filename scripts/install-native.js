#!/usr/bin/env node
// Makes @tensorflow/tfjs-node's native binding available, also on machines that
// cannot reach the host its installer downloads libtensorflow from.
//
// 1. If the binding already loads, there is nothing to do.
// 2. The normal path: tfjs-node's own scripts/install.js (download + build).
// 3. The offline path: take the TensorFlow C library out of the tensorflow-cpu
//    wheel on PyPI (cached between installs), lay it out under
//    node_modules/@tensorflow/tfjs-node/deps/ under the names tfjs-node's
//    deps-constants.js and binding.gyp expect, then run the same install.js,
//    which builds the binding from source with node-gyp when the library is there.
//
// Environment:
//   SSVAE_NATIVE_SOURCE=auto|download|wheel   which path to take (default auto)
//   SSVAE_CACHE_DIR                            where the wheel is cached
//   SSVAE_SKIP_NATIVE=1                        do nothing (WASM backend only)
//
// The output of tfjs-node's installer (a Node stack trace when its download host is unreachable,
// the node-gyp build log) goes to node_modules/.cache/ssvae/install-native.log; the terminal
// gets one line per step, and the tail of the log when the build fails. The wheel exists for
// Linux x86_64 only: elsewhere, when the normal path fails, the script says so and leaves the
// WASM backend to lib/src/core/backend.ts (exit status 0).
'use strict';

const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const TF_WHEEL = { name: 'tensorflow-cpu', version: '2.21.0', python: '311', platform: 'manylinux_2_27_x86_64' };
/** Where the installer's output goes (node_modules/, so `npm ci` starts it afresh). */
const LOG_FILE = path.join(ROOT, 'node_modules', '.cache', 'ssvae', 'install-native.log');
/** Error codes that mean the download host could not be reached (as opposed to a broken download). */
const UNREACHABLE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

function log(message) {
  console.log(`[install-native] ${message}`);
}

function fail(message) {
  console.error(`[install-native] error: ${message}`);
  process.exit(1);
}

function tfjsNodeDir() {
  try {
    return path.dirname(require.resolve('@tensorflow/tfjs-node/package.json', { paths: [ROOT] }));
  } catch {
    fail('@tensorflow/tfjs-node is not installed; run `npm install` first.');
  }
}

/** True if a fresh Node process can load the native binding. */
function bindingLoads() {
  const probe = "process.stdout.write(require('@tensorflow/tfjs-node').getBackend())";
  const r = cp.spawnSync(process.execPath, ['-e', probe], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  return r.status === 0 && r.stdout.trim() === 'tensorflow';
}

/** Environment for node-pre-gyp / node-gyp: local binaries on PATH, local Node headers. */
function buildEnv() {
  const env = { ...process.env };
  env.PATH = [path.join(ROOT, 'node_modules', '.bin'), env.PATH].join(path.delimiter);
  if (!env.npm_config_nodedir) {
    // node-gyp cannot download Node's headers here; use the ones installed with Node.
    const prefix = path.resolve(path.dirname(process.execPath), '..');
    if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
  }
  return env;
}

/** The line tfjs-node's install.js prints when the download is done and the build starts. */
const BUILD_STARTS = '* Building TensorFlow Node.js bindings';

/**
 * Why a download failed, as an error code found in the captured output of tfjs-node's installer
 * (only the part before the build starts, so a node-gyp error is not taken for one): the
 * `code: '...'` of Node's error report, a code after `getaddrinfo` / `connect` / `read`, a TLS
 * or tar error code, or an HTTP status (`HTTP 403`). Null if there is none.
 * @param {string} captured
 * @returns {string | null}
 */
function downloadErrorCode(captured) {
  const output = captured.split(BUILD_STARTS)[0] ?? '';
  const patterns = [
    /\bcode:\s*['"]([A-Z][A-Z0-9_]+)['"]/,
    /\b(?:getaddrinfo|connect|read|write)\s+(E[A-Z_]+)\b/,
    /\b(E(?:NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT|HOSTUNREACH|NETUNREACH|NETDOWN|PROTO))\b/,
    /\b((?:UNABLE_TO|CERT|SELF_SIGNED|DEPTH_ZERO)_[A-Z_]+|TAR_[A-Z_]+|Z_DATA_ERROR|Z_BUF_ERROR)\b/,
  ];
  for (const pattern of patterns) {
    const m = output.match(pattern);
    if (m) return m[1];
  }
  const http = output.match(/\b(?:HTTP\/\d(?:\.\d)?|HTTP|status(?:Code| code)?:?)\s+([1-5]\d\d)\b/i);
  return http ? `HTTP ${http[1]}` : null;
}

/**
 * One phrase saying why tfjs-node's own installer failed, from its captured output and exit status.
 * @param {string} output
 * @param {number | null} status  exit status (null if it was killed)
 * @param {string | null} signal
 * @returns {string}
 */
function describeInstallFailure(output, status, signal = null) {
  const code = downloadErrorCode(output);
  if (code && (UNREACHABLE_CODES.has(code) || code.startsWith('HTTP '))) return `libtensorflow download unreachable (${code})`;
  if (code) return `libtensorflow download failed (${code})`;
  if (status === null) return `tfjs-node's installer was stopped (${signal ?? 'killed'})`;
  return `tfjs-node's installer failed (exit status ${status})`;
}

/** True where the tensorflow-cpu wheel fallback applies: its libraries are built for Linux x86_64. */
function wheelPlatformSupported(platform = process.platform, arch = process.arch) {
  return platform === 'linux' && arch === 'x64';
}

/** The path shown to the user: relative to the project when it is inside it. */
function shown(file) {
  const relative = path.relative(ROOT, file);
  return relative.startsWith('..') ? file : relative;
}

/**
 * Runs tfjs-node's scripts/install.js with its output appended to LOG_FILE under a heading.
 * @returns {{ ok: boolean, output: string, status: number | null, signal: string | null }}
 */
function runTfjsInstall(dir, heading) {
  fs.mkdirSync(path.dirname(LOG_FILE), { recursive: true });
  fs.appendFileSync(LOG_FILE, `\n== ${new Date().toISOString()} ${heading}: node scripts/install.js (in ${dir})\n`);
  const start = fs.statSync(LOG_FILE).size;
  const fd = fs.openSync(LOG_FILE, 'a');
  let r;
  try {
    r = cp.spawnSync(process.execPath, ['scripts/install.js'], {
      cwd: dir,
      stdio: ['ignore', fd, fd],
      env: buildEnv(),
      timeout: 15 * 60 * 1000,
    });
  } finally {
    fs.closeSync(fd);
  }
  if (r.error) fs.appendFileSync(LOG_FILE, `could not run: ${r.error.message}\n`);
  fs.appendFileSync(LOG_FILE, `== exit status ${r.status ?? r.signal}\n`);
  const output = fs.readFileSync(LOG_FILE).subarray(start).toString('utf8'); // `start` counts bytes
  return { ok: r.status === 0, output, status: r.status, signal: r.signal };
}

/** The last `lines` lines of `text`. */
function tail(text, lines = 30) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function cacheDir() {
  if (process.env.SSVAE_CACHE_DIR) return process.env.SSVAE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'ssvae-notebooks');
}

function findPython() {
  for (const candidate of [process.env.PYTHON, 'python3', 'python']) {
    if (!candidate) continue;
    const r = cp.spawnSync(candidate, ['-c', 'import sys; print(sys.version_info[0])'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() === '3') return candidate;
  }
  fail('the offline TensorFlow install needs Python 3 with pip (set PYTHON to its path).');
}

/** The cached wheel, downloaded once (only that file, no dependencies). */
function ensureWheel(python) {
  const dir = cacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const prefix = `${TF_WHEEL.name.replace('-', '_')}-${TF_WHEEL.version}-`;
  const cached = () => fs.readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  if (cached()) {
    log(`using cached wheel ${path.join(dir, cached())}`);
    return path.join(dir, cached());
  }
  const tmp = fs.mkdtempSync(path.join(dir, 'download-'));
  log(`downloading ${TF_WHEEL.name}==${TF_WHEEL.version} (about 274 MB, once) into ${dir}`);
  const r = cp.spawnSync(
    python,
    [
      '-m',
      'pip',
      'download',
      '--no-deps',
      '--only-binary=:all:',
      '--python-version',
      TF_WHEEL.python,
      '--platform',
      TF_WHEEL.platform,
      '-d',
      tmp,
      `${TF_WHEEL.name}==${TF_WHEEL.version}`,
    ],
    { stdio: 'inherit' },
  );
  const got = r.status === 0 ? fs.readdirSync(tmp).find((f) => f.endsWith('.whl')) : undefined;
  if (!got) {
    fs.rmSync(tmp, { recursive: true, force: true });
    fail(`pip could not download ${TF_WHEEL.name}==${TF_WHEEL.version}.`);
  }
  fs.renameSync(path.join(tmp, got), path.join(dir, got));
  fs.rmSync(tmp, { recursive: true, force: true });
  return path.join(dir, got);
}

// Extracts the two shared libraries and only the headers the binding's sources
// reach (followed transitively through #include "...") from the wheel.
const EXTRACT_PY = String.raw`
import os, re, sys, zipfile
wheel, out, src_dir = sys.argv[1:4]
z = zipfile.ZipFile(wheel)
names = set(z.namelist())
inc = 'tensorflow/include/'
todo = []
for f in os.listdir(src_dir):
    if f.endswith(('.cc', '.h')):
        todo += re.findall(r'#include\s+"([^"]+)"', open(os.path.join(src_dir, f)).read())
seen = set()
while todo:
    h = todo.pop()
    if h in seen or inc + h not in names:
        continue
    seen.add(h)
    data = z.read(inc + h)
    dest = os.path.join(out, 'include', h)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    open(dest, 'wb').write(data)
    todo += re.findall(r'#include\s+"([^"]+)"', data.decode('utf-8', 'replace'))
for h in ('tensorflow/c/c_api.h', 'tensorflow/c/eager/c_api.h'):
    if h not in seen:
        sys.exit('header %s not found in %s' % (h, wheel))
os.makedirs(os.path.join(out, 'lib'), exist_ok=True)
for member, target in (('tensorflow/libtensorflow_cc.so.2', sys.argv[4]), ('tensorflow/libtensorflow_framework.so.2', 'libtensorflow_framework.so.2')):
    if member not in names:
        sys.exit('%s not found in %s' % (member, wheel))
    with z.open(member) as src, open(os.path.join(out, 'lib', target), 'wb') as dst:
        while True:
            chunk = src.read(1 << 22)
            if not chunk:
                break
            dst.write(chunk)
print('%d headers' % len(seen))
`;

function layOutDeps(tfjsDir, wheel, python) {
  const constants = require(path.join(tfjsDir, 'scripts', 'deps-constants.js'));
  const libName = path.basename(constants.depsLibTensorFlowPath); // libtensorflow.so.2.9.1
  const staging = `${constants.depsPath}.staging`;
  fs.rmSync(staging, { recursive: true, force: true });
  log('extracting libtensorflow and its C headers from the wheel');
  const r = cp.spawnSync(python, ['-c', EXTRACT_PY, wheel, staging, path.join(tfjsDir, 'binding'), libName], { stdio: 'inherit' });
  if (r.status !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    fail(`could not extract TensorFlow from ${wheel}; delete it to download it again.`);
  }
  const lib = path.join(staging, 'lib');
  // -ltensorflow / -ltensorflow_framework at link time:
  fs.symlinkSync(libName, path.join(lib, 'libtensorflow.so'));
  fs.symlinkSync('libtensorflow_framework.so.2', path.join(lib, 'libtensorflow_framework.so'));
  // The wheel's library has SONAME libtensorflow_cc.so.2: the built binding asks for that name at run time.
  fs.symlinkSync(libName, path.join(lib, 'libtensorflow_cc.so.2'));
  fs.rmSync(constants.depsPath, { recursive: true, force: true });
  fs.renameSync(staging, constants.depsPath);
}

function main() {
  if (process.env.SSVAE_SKIP_NATIVE === '1') {
    log('SSVAE_SKIP_NATIVE=1: not installing native TensorFlow (the WASM backend will be used).');
    return;
  }
  const source = process.env.SSVAE_NATIVE_SOURCE || 'auto';
  if (!['auto', 'download', 'wheel'].includes(source)) {
    fail(`SSVAE_NATIVE_SOURCE must be auto, download or wheel, got "${source}".`);
  }
  const tfjsDir = tfjsNodeDir();
  if (bindingLoads()) {
    log('native TensorFlow binding already loads; nothing to do.');
    return;
  }
  fs.mkdirSync(path.dirname(LOG_FILE), { recursive: true });
  fs.writeFileSync(LOG_FILE, `install-native log (${process.platform} ${process.arch}, Node ${process.version})\n`);
  const noWheel = `the ${TF_WHEEL.name} wheel is for Linux x86_64 only (this is ${process.platform} ${process.arch}): native TensorFlow is not installed, the WASM backend will be used`;
  const wheel = `the ${TF_WHEEL.name} ${TF_WHEEL.version} wheel`;
  if (source === 'wheel') {
    if (!wheelPlatformSupported()) {
      log(`SSVAE_NATIVE_SOURCE=wheel, but ${noWheel}.`);
      return;
    }
    log(`SSVAE_NATIVE_SOURCE=wheel: using ${wheel}`);
  } else {
    log("trying tfjs-node's own installer (downloads libtensorflow 2.9.1)");
    const first = runTfjsInstall(tfjsDir, 'normal path (download, then build)');
    if (first.ok && bindingLoads()) {
      log('native TensorFlow installed by the normal path.');
      return;
    }
    const why = first.ok
      ? "tfjs-node's installer finished but the binding does not load"
      : describeInstallFailure(first.output, first.status, first.signal);
    if (source === 'download') fail(`${why}, and SSVAE_NATIVE_SOURCE=download forbids the wheel path; details in ${shown(LOG_FILE)}`);
    if (!wheelPlatformSupported()) {
      log(`${why}; ${noWheel}. Details in ${shown(LOG_FILE)}`);
      return;
    }
    log(`${why} — using ${wheel}; details in ${shown(LOG_FILE)}`);
  }
  const python = findPython();
  layOutDeps(tfjsDir, ensureWheel(python), python);
  log(`building the binding from source (node-gyp; output in ${shown(LOG_FILE)})`);
  const build = runTfjsInstall(tfjsDir, 'wheel path (build against the extracted library)');
  if (!build.ok) {
    console.error(tail(build.output));
    fail(`building the tfjs-node binding failed (the end of its output is above; all of it in ${shown(LOG_FILE)}).`);
  }
  if (!bindingLoads()) fail('the binding was built but does not load; see the error from `node -e "require(\'@tensorflow/tfjs-node\')"`.');
  log('native TensorFlow ready (backend "tensorflow").');
}

module.exports = { downloadErrorCode, describeInstallFailure, wheelPlatformSupported, LOG_FILE };

if (require.main === module) main();
