/**
 * The explorer: M2's decoder quantised and run by the page's own code, in Node and in Chromium.
 * The browser part opens a page holding only the explorer (offline, every request refused),
 * chooses a digit, moves a slider, and compares the canvas with the exact decoder in Node.
 */
/// <reference lib="dom" />
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  disposeM2,
  exactPixels,
  explorerData,
  explorerHtml,
  loadDataset,
  quantiseLayer,
  quantisedDecoder,
  subsetDataset,
  train,
  type ExplorerData,
  type ExplorerHandle,
  type M2,
} from 'ssvae';
import { artifactPath, browserTestsSkipped, launchChromium, openOffline } from './browser';
import { networkReferences } from './handouts';
import { tempDir } from './helpers';

// M2 of MNIST's shape after one epoch on 2,000 images: enough for z to matter to the decoder.
const mnist = subsetDataset(loadDataset(), { train: 2000, validation: 100, test: 600 });
let model: M2;
let data: ExplorerData;

before(async () => {
  const run = await train({ variant: 'v3', labels: 100, epochs: 1, seed: 3, dataset: mnist.name }, { dataset: mnist, keepModel: true });
  assert.ok(run.model);
  model = run.model;
  data = explorerData(model, mnist.test, { codes: 500, examples: 4 });
});

after(() => disposeM2(model));

test('quantiseLayer: every weight within half a step of its scale, each scale set by the largest weight of its block and column', () => {
  const rows = 5;
  const cols = 3;
  const kernel = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i + 1) * (1 + (i % cols)));
  for (const [bits, groupRows] of [
    [8, rows],
    [16, rows],
    [8, 2],
  ] as const) {
    const layer = quantiseLayer({ rows, cols, kernel, bias: new Float32Array(cols) }, bits, groupRows);
    assert.equal(layer.groupRows, groupRows);
    const bytes = Buffer.from(layer.weights, 'base64');
    const q =
      bits === 8
        ? new Int8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + rows * cols))
        : new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 2 * rows * cols));
    const scaleBytes = Buffer.from(layer.scales, 'base64');
    const blocks = Math.ceil(rows / groupRows);
    const scales = new Float32Array(scaleBytes.buffer.slice(scaleBytes.byteOffset, scaleBytes.byteOffset + 4 * blocks * cols));
    const top = 2 ** (bits - 1) - 1;
    for (let block = 0; block < blocks; block++)
      for (let c = 0; c < cols; c++) {
        const scale = scales[block * cols + c]!;
        let largest = 0;
        for (let r = block * groupRows; r < Math.min(rows, (block + 1) * groupRows); r++) {
          const w = kernel[r * cols + c]!;
          largest = Math.max(largest, Math.abs(w));
          assert.ok(
            Math.abs(q[r * cols + c]! * scale - w) <= scale / 2 + 1e-7,
            `bits ${bits}, groups of ${groupRows}: weight (${r}, ${c})`,
          );
        }
        assert.ok(Math.abs(scale * top - largest) < 1e-5 * largest);
      }
  }
  assert.throws(
    () => quantiseLayer({ rows, cols, kernel, bias: new Float32Array(cols) }, 8, 0),
    /groupRows must be a positive integer, got 0/,
  );
});

test('explorerData: unit principal directions of the codes, largest variance first, and a small quantisation error', () => {
  assert.equal(data.directions.length, 5);
  assert.equal(data.mean.length, 50);
  for (const d of data.directions) assert.ok(Math.abs(Math.hypot(...d) - 1) < 1e-6);
  for (let i = 1; i < data.sd.length; i++) assert.ok(data.sd[i]! <= data.sd[i - 1]! + 1e-12);
  // Directions are orthogonal.
  const dot = data.directions[0]!.reduce((a, v, j) => a + v * data.directions[1]![j]!, 0);
  assert.ok(Math.abs(dot) < 1e-6, `d1 · d2 = ${dot}`);
  assert.equal(data.examples.length, 4);
  assert.deepEqual(
    data.examples.map((e) => e.label),
    Array.from(mnist.test.labels.subarray(0, 4)),
  );
  // 8 bits per weight: pixel probabilities within 1% of the exact decoder's (the measured error is recorded).
  assert.ok(data.quantisation.maxAbsError > 0 && data.quantisation.maxAbsError < 0.01, JSON.stringify(data.quantisation));
  // The page's decoder, run in Node, agrees with the exact one to that error.
  const z = data.mean.map((v, j) => v + 2 * data.sd[0]! * data.directions[0]![j]!);
  const approx = quantisedDecoder(data)(z, 4);
  const [exact] = exactPixels(model, [{ z, y: 4 }]);
  exact!.forEach((v, i) => assert.ok(Math.abs(v - approx[i]!) <= 2 * data.quantisation.maxAbsError + 1e-6, `pixel ${i}`));
  // 16 bits: far closer.
  const fine = explorerData(model, mnist.test, { codes: 500, examples: 2, bits: 16 });
  assert.ok(fine.quantisation.maxAbsError < data.quantisation.maxAbsError / 50);
});

test('explorerHtml: everything inline, under 2 MB, nothing fetched from the network', () => {
  const html = explorerHtml(data, { id: 'explorer', caption: 'M2 explorer.' });
  assert.ok(html.length < 2_000_000, `${html.length} bytes`);
  assert.deepEqual(networkReferences(html), []);
  assert.match(html, /<figure id="explorer" class="ssvae-figure ssvae-explorer">/);
  assert.match(html, /quantised to 8 bits per weight/);
});

describe('the explorer in Chromium', { skip: browserTestsSkipped() }, () => {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('a digit and a slider change the canvas, which matches the Node decoder; no errors, no requests; latency measured', async () => {
    assert.ok(browser);
    const dir = tempDir('explorer-page');
    const file = path.join(dir, 'explorer.html');
    fs.writeFileSync(
      file,
      `<!doctype html><html><head><meta charset="utf-8"></head><body>${explorerHtml(data, { id: 'explorer', caption: 'M2 explorer.' })}</body></html>`,
    );
    const { context, page, requested, problems } = await openOffline(browser, file, { width: 900, height: 700 });
    try {
      const pixels = (role: string) =>
        page.evaluate((r) => {
          const canvas = document.querySelector(`#explorer canvas[data-role="${r}"]`) as HTMLCanvasElement;
          const rgba = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          return Array.from({ length: rgba.length / 4 }, (_, i) => rgba[4 * i]!);
        }, role);
      const state = () =>
        page.evaluate(() => (window as unknown as { ssvaeExplorers: Record<string, ExplorerHandle> }).ssvaeExplorers['explorer']!.state);
      const expectedGreys = (y: number, z: number[]) => Array.from(exactPixels(model, [{ z, y }])[0]!, (p) => Math.round(255 * (1 - p)));
      const tolerance = 255 * data.quantisation.maxAbsError * 2 + 1;
      const assertMatches = (canvas: number[], expected: number[], what: string) => {
        const worst = Math.max(...canvas.map((v, i) => Math.abs(v - expected[i]!)));
        assert.ok(
          worst <= tolerance,
          `${what}: canvas differs from the Node decoder by ${worst} grey levels (allowed ${tolerance.toFixed(2)})`,
        );
      };

      await page.check('#explorer input[data-role="digit"][value="7"]');
      const atSeven = await pixels('live');
      let s = await state();
      assert.equal(s.y, 7);
      assertMatches(atSeven, expectedGreys(7, s.z), 'digit 7 at the mean code');

      // Move the first slider to +2 sd the way a reader's drag does: value, then an input event.
      const latencies = await page.evaluate(() => {
        const slider = document.querySelector('#explorer input[data-role="direction"][data-index="0"]') as HTMLInputElement;
        const times: number[] = [];
        for (const value of ['0.5', '1', '1.5', '2', '1.5', '2', '1', '2', '0.5', '2']) {
          const started = performance.now();
          slider.value = value;
          slider.dispatchEvent(new Event('input'));
          times.push(performance.now() - started);
        }
        return times;
      });
      const moved = await pixels('live');
      s = await state();
      assert.equal(s.sliders[0], 2);
      assert.ok(
        moved.some((v, i) => v !== atSeven[i]),
        'the canvas did not change when the slider moved',
      );
      const z = data.mean.map((v, j) => v + 2 * data.sd[0]! * data.directions[0]![j]!);
      s.z.forEach((v: number, j: number) => assert.ok(Math.abs(v - z[j]!) < 1e-5));
      assertMatches(moved, expectedGreys(7, s.z), 'digit 7 at +2 sd along direction 1');
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(
        `# explorer: slider update (decode and draw) median ${sorted[5]!.toFixed(1)} ms, slowest ${sorted[9]!.toFixed(1)} ms over 10 moves`,
      );
      assert.ok(sorted[5]! < 100, `median update ${sorted[5]} ms`);

      // The analogy strip: the chosen test image's code written as each digit.
      await page.selectOption('#explorer select[data-role="example"]', '2');
      for (const y of [0, 5])
        assertMatches(await pixels(`analogy-${y}`), expectedGreys(y, data.examples[2]!.z), `analogy strip, digit ${y}`);
      await page.screenshot({ path: artifactPath('explorer', 'explorer.png'), fullPage: true });
      assert.deepEqual(problems, []);
      assert.deepEqual(requested, []);
    } finally {
      await context.close();
    }
  });
});
