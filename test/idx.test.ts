import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { encodeIdx, locateIdxFile, parseIdx, readIdx } from 'ssvae';
import { tempDir } from './helpers';

const dir = tempDir('idx');
const shape = [3, 2, 2];
const values = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
const good = encodeIdx(shape, values);

test('a well-formed IDX file round-trips shape and bytes', () => {
  const file = path.join(dir, 'good-idx3-ubyte');
  fs.writeFileSync(file, good);
  const parsed = readIdx(file, 3);
  assert.deepEqual(parsed.shape, shape);
  assert.deepEqual(Array.from(parsed.data), Array.from(values));
});

test('header layout is big-endian, as MNIST stores it', () => {
  assert.deepEqual(Array.from(good.subarray(0, 8)), [0, 0, 8, 3, 0, 0, 0, 3]);
});

test('a truncated file is rejected with its name and the missing count', () => {
  const file = path.join(dir, 'truncated-idx3-ubyte');
  fs.writeFileSync(file, good.subarray(0, good.length - 5));
  assert.throws(
    () => readIdx(file, 3),
    (err: Error) => err.message.includes(file) && /truncated/.test(err.message) && /12 values, file holds 7/.test(err.message),
  );
});

test('a truncated header is rejected', () => {
  assert.throws(() => parseIdx(good.subarray(0, 9), 'x.idx'), /x\.idx: .*truncated header/);
});

test('a wrong magic number is rejected', () => {
  const bad = Uint8Array.from(good);
  bad[0] = 0x1f;
  assert.throws(() => parseIdx(bad, 'gzip.idx'), /gzip\.idx: not a valid IDX file: magic number starts with 0x1f00/);
  const wrongType = Uint8Array.from(good);
  wrongType[2] = 0x0d;
  assert.throws(() => parseIdx(wrongType, 'float.idx'), /type code 0x0d/);
});

test('wrong dimensions are rejected', () => {
  assert.throws(() => parseIdx(good, 'labels.idx', 1), /labels\.idx: .*3 dimensions, expected 1/);
});

test('trailing bytes are rejected', () => {
  const longer = new Uint8Array(good.length + 1);
  longer.set(good);
  assert.throws(() => parseIdx(longer, 'long.idx'), /trailing bytes/);
});

test('a missing file gives an error naming it', () => {
  const file = path.join(dir, 'nope-idx1-ubyte');
  assert.throws(
    () => readIdx(file),
    (err: Error) => err.message === `${file}: cannot read IDX file (no such file)`,
  );
});

test('a gzipped IDX file reads the same as the plain one, whatever its name', () => {
  const file = path.join(dir, 'good-idx3-ubyte.gz');
  fs.writeFileSync(file, zlib.gzipSync(good));
  const parsed = readIdx(file, 3);
  assert.deepEqual(parsed.shape, shape);
  assert.deepEqual(Array.from(parsed.data), Array.from(values));
  // Recognised by content: a gzipped file without .gz, and a .gz that a browser already unpacked.
  const unnamed = path.join(dir, 'unnamed-idx3-ubyte');
  fs.writeFileSync(unnamed, zlib.gzipSync(good));
  assert.deepEqual(readIdx(unnamed, 3).shape, shape);
  const unpacked = path.join(dir, 'unpacked-idx3-ubyte.gz');
  fs.writeFileSync(unpacked, good);
  assert.deepEqual(readIdx(unpacked, 3).shape, shape);
});

test('a truncated gzip archive is an error naming the file', () => {
  const file = path.join(dir, 'cut-idx3-ubyte.gz');
  const gz = zlib.gzipSync(good);
  fs.writeFileSync(file, gz.subarray(0, gz.length - 6));
  assert.throws(
    () => readIdx(file, 3),
    (err: Error) => err.message === `${file}: truncated gzip archive (unexpected end of file)`,
  );
});

test('a corrupt gzip archive, or a .gz that is not one, is an error naming the file', () => {
  const gz = zlib.gzipSync(good);
  const crc = Buffer.from(gz);
  crc.writeUInt8((crc.at(-6) ?? 0) ^ 0xff, crc.length - 6); // the CRC-32 of the trailer no longer matches the data
  const bad = path.join(dir, 'crc-idx3-ubyte.gz');
  fs.writeFileSync(bad, crc);
  assert.throws(
    () => readIdx(bad, 3),
    (err: Error) => err.message.startsWith(`${bad}: corrupt gzip archive (`),
  );
  const text = path.join(dir, 'page-idx3-ubyte.gz');
  fs.writeFileSync(text, '<html>404</html>');
  assert.throws(
    () => readIdx(text, 3),
    (err: Error) => err.message === `${text}: not a gzip archive (starts with 0x3c68, expected 0x1f8b)`,
  );
  // Decompressed but not IDX: the IDX check names the file.
  const notIdx = path.join(dir, 'text-idx3-ubyte.gz');
  fs.writeFileSync(notIdx, zlib.gzipSync(Buffer.from('hello')));
  assert.throws(
    () => readIdx(notIdx, 3),
    (err: Error) => err.message.startsWith(`${notIdx}: not a valid IDX file: magic number starts with 0x6865`),
  );
});

test('locateIdxFile: the plain file, else the .gz, else an error naming both', () => {
  const where = tempDir('idx-locate');
  assert.throws(
    () => locateIdxFile(where, 'a-idx1-ubyte'),
    (err: Error) => err.message === `${where}: holds neither a-idx1-ubyte nor a-idx1-ubyte.gz (an IDX file, plain or gzipped)`,
  );
  fs.writeFileSync(path.join(where, 'a-idx1-ubyte.gz'), '');
  assert.equal(locateIdxFile(where, 'a-idx1-ubyte'), path.join(where, 'a-idx1-ubyte.gz'));
  fs.writeFileSync(path.join(where, 'a-idx1-ubyte'), '');
  assert.equal(locateIdxFile(where, 'a-idx1-ubyte'), path.join(where, 'a-idx1-ubyte'), 'the plain file wins');
  const missing = path.join(where, 'nope');
  assert.throws(
    () => locateIdxFile(missing, 'a-idx1-ubyte'),
    (err: Error) => err.message === `${missing}: no such directory (expected it to hold a-idx1-ubyte or a-idx1-ubyte.gz)`,
  );
});
