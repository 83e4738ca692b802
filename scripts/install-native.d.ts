/** Types of the pure parts of scripts/install-native.js, for test/install-native.test.ts. */

/** The error code in the captured output of tfjs-node's installer (ENOTFOUND, `HTTP 403`, …), or null. */
export function downloadErrorCode(output: string): string | null;
/** One phrase saying why tfjs-node's installer failed, e.g. `libtensorflow download unreachable (ENOTFOUND)`. */
export function describeInstallFailure(output: string, status: number | null, signal?: string | null): string;
/** True where the tensorflow-cpu wheel fallback applies (Linux x86_64); defaults to this process's platform. */
export function wheelPlatformSupported(platform?: string, arch?: string): boolean;
/** Where the installer's output is logged. */
export const LOG_FILE: string;
