import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { encodeIdx, parseIdx, readIdx } from 'ssvae';
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
  assert.throws(() => readIdx(file, 3), (err: Error) => err.message.includes(file) && /truncated/.test(err.message) && /12 values, file holds 7/.test(err.message));
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
  assert.throws(() => readIdx(file), (err: Error) => err.message === `${file}: cannot read IDX file (no such file)`);
});
