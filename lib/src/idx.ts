/**
 * Reader for the IDX format in which MNIST is distributed.
 *
 * Layout: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions d,
 * then d big-endian uint32 sizes, then the data in row-major order.
 */
import * as fs from 'node:fs';

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
  const dims = bytes[3];
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

/** Reads and parses an IDX file, with an error naming the file if it is missing or malformed. */
export function readIdx(file: string, expectedDims?: number): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: cannot read IDX file (${code === 'ENOENT' ? 'no such file' : code ?? String(err)})`);
  }
  return parseIdx(bytes, file, expectedDims);
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
