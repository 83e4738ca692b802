/**
 * Reader for the IDX format in which MNIST is distributed.
 *
 * Layout: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions d,
 * then d big-endian uint32 sizes, then the data in row-major order.
 *
 * A file may also be gzipped, as MNIST's own site ships it (`train-images-idx3-ubyte.gz`):
 * readIdx recognises gzip by its magic number and decompresses it in memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

export interface IdxArray {
  /** Sizes of each dimension, outermost first. */
  shape: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/** Parses IDX bytes; `source` names the file in error messages. */
export function parseIdx(bytes: Uint8Array, source: string, expectedDims?: number): IdxArray {
  const bad = (why: string): Error => new Error(`${source}: not a valid IDX file: ${why}`);
  if (bytes.length < 4) throw bad(`${bytes.length} bytes is shorter than the 4-byte header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw bad(`magic number starts with 0x${hex(bytes[0])}${hex(bytes[1])}, expected 0x0000`);
  }
  if (bytes[2] !== UNSIGNED_BYTE) throw bad(`type code 0x${hex(bytes[2])}, expected 0x08 (unsigned byte)`);
  const dims = bytes[3] ?? 0;
  if (dims === 0) throw bad('zero dimensions');
  if (expectedDims !== undefined && dims !== expectedDims) throw bad(`${dims} dimensions, expected ${expectedDims}`);
  const headerLength = 4 + 4 * dims;
  if (bytes.length < headerLength) throw bad(`truncated header: ${bytes.length} bytes, need ${headerLength}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < dims; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  if (actual !== count) {
    throw bad(`${actual < count ? 'truncated' : 'trailing bytes'}: header says ${shape.join('×')} = ${count} values, file holds ${actual}`);
  }
  return { shape, data: bytes.subarray(headerLength) };
}

/**
 * Reads and parses an IDX file, plain or gzipped (recognised by its content, not its name), with
 * an error naming the file if it is missing, not a complete gzip archive, or malformed.
 */
export function readIdx(file: string, expectedDims?: number): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: cannot read IDX file (${code === 'ENOENT' ? 'no such file' : (code ?? String(err))})`, { cause: err });
  }
  if (isGzip(bytes)) {
    bytes = gunzipIdx(bytes, file);
  } else if (file.endsWith('.gz') && !(bytes[0] === 0 && bytes[1] === 0)) {
    // A .gz file that holds plain IDX (a browser may have decompressed it already) is read as such.
    throw new Error(`${file}: not a gzip archive (starts with 0x${hex(bytes[0])}${hex(bytes[1])}, expected 0x1f8b)`);
  }
  return parseIdx(bytes, file, expectedDims);
}

/** True if `bytes` start with gzip's magic number 0x1f 0x8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses a gzip archive; `source` names the file in errors (truncated or corrupt archive).
 *
 * One synchronous call (zlib.gunzipSync) rather than a stream: MNIST's largest file is 9.9 MB
 * gzipped and 47 MB decompressed, which fits in memory at once, and loadDataset stays synchronous.
 */
export function gunzipIdx(bytes: Uint8Array, source: string): Uint8Array {
  try {
    return zlib.gunzipSync(bytes);
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    // zlib says Z_BUF_ERROR when the input ends before the archive does.
    if (code === 'Z_BUF_ERROR') throw new Error(`${source}: truncated gzip archive (${message})`, { cause: err });
    throw new Error(`${source}: corrupt gzip archive (${message})`, { cause: err });
  }
}

/**
 * The IDX file `name` in `directory`: the plain file if it exists, else `name.gz`. Throws an
 * error naming both when the directory holds neither, or naming the directory if it is missing.
 */
export function locateIdxFile(directory: string, name: string): string {
  const plain = path.join(directory, name);
  if (fs.existsSync(plain)) return plain;
  const gzipped = `${plain}.gz`;
  if (fs.existsSync(gzipped)) return gzipped;
  if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory()) {
    throw new Error(`${directory}: no such directory (expected it to hold ${name} or ${name}.gz)`);
  }
  throw new Error(`${directory}: holds neither ${name} nor ${name}.gz (an IDX file, plain or gzipped)`);
}

/** Encodes an unsigned-byte IDX array (used to write datasets and test fixtures). */
export function encodeIdx(shape: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  header[2] = UNSIGNED_BYTE;
  header[3] = shape.length;
  const view = new DataView(header.buffer);
  shape.forEach((size, i) => view.setUint32(4 + 4 * i, size, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, '0');
}
