/**
 * Chooses and loads the TensorFlow.js backend; every other module takes `tf` from here.
 *
 * Native TensorFlow (`@tensorflow/tfjs-node`, backend "tensorflow") is the default: M2's
 * summed-out bound is roughly ten times slower on WebAssembly and forty times slower on the
 * pure-JS CPU backend. If the native binding cannot load we fall back to WASM and say so in
 * one line. `SSVAE_BACKEND=tensorflow|wasm` forces a choice. We never run on the JS CPU backend.
 */
import * as tf from '@tensorflow/tfjs';
import type * as TfNode from '@tensorflow/tfjs-node';

export { tf };

export type BackendName = 'tensorflow' | 'wasm';

export interface BackendInfo {
  /** The backend that runs the math. */
  name: BackendName;
  /** Why this backend was chosen, in one sentence. */
  reason: string;
  tfjsVersion: string;
}

const BACKEND_ENV = 'SSVAE_BACKEND';

let chosen: Promise<BackendInfo> | undefined;
let nodeModule: typeof TfNode | undefined;

// The union package registers the pure-JS "cpu" and the "webgl" backends; drop them so that
// nothing can ever run silently on them before initBackend() has finished.
for (const name of ['cpu', 'webgl']) {
  if (tf.findBackendFactory(name) !== null) tf.removeBackend(name);
}

function forcedBackend(): BackendName | undefined {
  const value = process.env[BACKEND_ENV];
  if (value === undefined || value === '') return undefined;
  if (value === 'tensorflow' || value === 'wasm') return value;
  throw new Error(`${BACKEND_ENV} must be "tensorflow" or "wasm", got "${value}".`);
}

/** Loads @tensorflow/tfjs-node; returns the load error instead of throwing. */
function loadNative(): Error | undefined {
  // TensorFlow's C++ info lines (oneDNN, CPU features) are noise for our users.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    nodeModule = require('@tensorflow/tfjs-node') as typeof TfNode;
    if (!tf.setBackend('tensorflow')) return new Error('tf.setBackend("tensorflow") returned false');
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

async function loadWasm(reason: string): Promise<BackendInfo> {
  // Registers the "wasm" backend with the same tfjs engine.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) {
    throw new Error('Neither native TensorFlow nor the WASM backend could be initialised; refusing to run on the pure-JS CPU backend.');
  }
  return { name: 'wasm', reason, tfjsVersion: tf.version.tfjs };
}

// Native loads synchronously, so it is loaded as soon as this module is: code that uses `tf`
// before awaiting initBackend() then already runs on the native backend.
const eagerNativeError: Error | undefined = (() => {
  try {
    return forcedBackend() === 'wasm' ? undefined : loadNative();
  } catch {
    return undefined; // a bad SSVAE_BACKEND value is reported by initBackend()
  }
})();

async function choose(log: (line: string) => void): Promise<BackendInfo> {
  const forced = forcedBackend();
  let info: BackendInfo;
  if (forced === 'wasm') {
    info = await loadWasm(`forced by ${BACKEND_ENV}=wasm`);
  } else {
    const error = nodeModule !== undefined ? undefined : (eagerNativeError ?? loadNative());
    if (error === undefined) {
      info = {
        name: 'tensorflow',
        reason: forced ? `forced by ${BACKEND_ENV}=tensorflow` : 'native binding loaded',
        tfjsVersion: tf.version.tfjs,
      };
    } else if (forced === 'tensorflow') {
      throw new Error(`${BACKEND_ENV}=tensorflow but the native binding failed to load: ${firstLine(error.message)}`);
    } else {
      info = await loadWasm(`native binding failed to load (${firstLine(error.message)})`);
    }
  }
  if (info.name !== 'tensorflow') log(`[ssvae] backend: ${info.name}, ${info.reason}`);
  return info;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/**
 * Selects the backend once per process and resolves when it is ready. Prints one line
 * (through `log`, default console.error) whenever it is not the native backend.
 */
export function initBackend(log: (line: string) => void = (line) => console.error(line)): Promise<BackendInfo> {
  chosen ??= choose(log);
  return chosen;
}

/** tfjs-node's `node` namespace (PNG encoding, …), or an error if the native backend is not loaded. */
export function tfNode(): typeof TfNode.node {
  if (nodeModule === undefined) {
    throw new Error('This needs the native backend (@tensorflow/tfjs-node), which is not loaded.');
  }
  return nodeModule.node;
}
