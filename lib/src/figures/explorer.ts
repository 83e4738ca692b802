/**
 * An explorer of M2's generative model that runs where the handout is read: pick a digit y, move
 * z along its principal directions, and watch the decoder's image change; pick a test image and
 * see its style written as every digit. No server and no network: the decoder's weights are
 * inlined in the page, quantised to 8 (or 16) bits per weight with one scale per output unit, and
 * a plain-JavaScript MLP (explorer-runtime.ts) runs them. A decoder of 60 → 500 → 784 units has
 * about 420,000 weights, so 8 bits keep it near 560 kB of base64; TensorFlow.js's own browser
 * build would add about a megabyte for two matrix products.
 */
import { PCA } from 'ml-pca';
import { tf } from '../core/backend';
import { escapeHtml } from '../core/html';
import type { Split } from '../data/datasets';
import { decodeMeans, m2EncodeMean } from '../analysis/generation';
import { denseWeights, type DenseWeights, type M2 } from '../model/m2';
import { explorerRuntime } from './explorer-runtime';

export interface QuantisedLayer {
  rows: number;
  cols: number;
  bits: 8 | 16;
  /** Input rows that share a scale (per column). */
  groupRows: number;
  /** Signed integers, row-major, base64. */
  weights: string;
  /** float32 scales, one per block of groupRows rows and column ([blocks][cols]), base64. */
  scales: string;
  /** float32 biases, base64 (kept exact: there are few). */
  bias: string;
}

export interface ExplorerData {
  zDim: number;
  numClasses: number;
  /** Images are side × side. */
  side: number;
  layers: QuantisedLayer[];
  /** Mean of the codes μ(x, y) of the images analysed, [Z]. */
  mean: number[];
  /** Principal directions of those codes, unit vectors [P][Z], largest variance first. */
  directions: number[][];
  /** Standard deviation of the codes along each direction, [P]. */
  sd: number[];
  /** Share of the codes' total variance along each direction, [P]. */
  explained: number[];
  /** Test images whose codes the analogy strip writes as every digit: label, μ(x, y), pixels (bytes, base64). */
  examples: { label: number; z: number[]; image: string }[];
  /** How far the quantised decoder's pixel probabilities are from the exact decoder's, over the examples × digits. */
  quantisation: { maxAbsError: number; meanAbsError: number };
}

export interface ExplorerOptions {
  /** Sliders: principal directions of z (default 5). */
  directions?: number;
  /** Images of `split` whose codes the principal directions come from (default 2000). */
  codes?: number;
  /** Test images offered to the analogy strip (default 8). */
  examples?: number;
  /** Bits per weight (default 8). */
  bits?: 8 | 16;
  /** Input rows per quantisation scale (default 25). */
  groupRows?: number;
}

function base64(bytes: ArrayBufferView): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Symmetric quantisation with a scale per output unit (column) and block of `groupRows` input
 * rows: q = round(w / s), s = max |w| over the block / (2^(bits−1) − 1). Smaller blocks cost more
 * scales and follow the weights' size more closely.
 */
export function quantiseLayer(layer: DenseWeights, bits: 8 | 16, groupRows = layer.rows): QuantisedLayer {
  const { rows, cols, kernel } = layer;
  if (!(Number.isInteger(groupRows) && groupRows >= 1)) throw new Error(`groupRows must be a positive integer, got ${groupRows}`);
  const top = 2 ** (bits - 1) - 1;
  const groups = Math.ceil(rows / groupRows);
  const scales = new Float32Array(groups * cols);
  for (let r = 0; r < rows; r++) {
    const g = Math.floor(r / groupRows) * cols;
    for (let c = 0; c < cols; c++) scales[g + c] = Math.max(scales[g + c] ?? 0, Math.abs(kernel[r * cols + c] ?? 0) / top);
  }
  const q = bits === 8 ? new Int8Array(rows * cols) : new Int16Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const g = Math.floor(r / groupRows) * cols;
    for (let c = 0; c < cols; c++) {
      const scale = scales[g + c] ?? 0;
      q[r * cols + c] = scale > 0 ? Math.round((kernel[r * cols + c] ?? 0) / scale) : 0;
    }
  }
  return { rows, cols, bits, groupRows, weights: base64(q), scales: base64(scales), bias: base64(layer.bias) };
}

/** Everything the page needs: quantised decoder, principal directions of z, analogy examples, and the quantisation error. */
export function explorerData(m: M2, split: Split, options: ExplorerOptions = {}): ExplorerData {
  const { zDim, numClasses, xDim } = m.config;
  if (m.config.likelihood !== 'bernoulli')
    throw new Error('the explorer draws pixel probabilities: it needs a Bernoulli decoder (not M1+M2)');
  const side = Math.round(Math.sqrt(xDim));
  if (side * side !== xDim) throw new Error(`the explorer draws square images; ${xDim} pixels is not a square`);
  const bits = options.bits ?? 8;
  const p = options.directions ?? 5;
  // μ(x, y) of the first images, once: the principal directions come from the first `codes`
  // of them, the analogy strip's examples are the first `examples`.
  const codeCount = Math.min(options.codes ?? 2000, split.count);
  const exampleCount = Math.min(options.examples ?? 8, split.count);
  const n = Math.max(codeCount, exampleCount);
  const flat = m2EncodeMean(m, split.images.subarray(0, n * xDim), split.labels.subarray(0, n));
  const codeOf = (i: number) => Array.from(flat.subarray(i * zDim, (i + 1) * zDim));
  const codes = Array.from({ length: codeCount }, (_, i) => codeOf(i));
  if (codes.length <= p) throw new Error(`the explorer needs more than ${p} images to find ${p} principal directions, got ${codes.length}`);
  const pca = new PCA(codes, { center: true, scale: false });
  const vectors = pca.getEigenvectors().to2DArray(); //    [Z][Z], column i = direction i
  const variances = pca.getEigenvalues();
  const total = variances.reduce((a, b) => a + b, 0);
  const directions = Array.from({ length: p }, (_, i) => vectors.map((row) => row[i] ?? 0));
  const mean = Array.from({ length: zDim }, (_, j) => codes.reduce((a, c) => a + (c[j] ?? 0), 0) / codes.length);

  const examples = Array.from({ length: exampleCount }, (_, i) => ({
    label: split.labels[i] ?? 0,
    z: codeOf(i),
    image: base64(Uint8Array.from(split.images.subarray(i * xDim, (i + 1) * xDim), (v) => Math.round(v * 255))),
  }));
  const layers = denseWeights(m, 'decoder').map((layer) => quantiseLayer(layer, bits, options.groupRows ?? 25));
  const data: ExplorerData = {
    zDim,
    numClasses,
    side,
    layers,
    mean,
    directions,
    sd: variances.slice(0, p).map((v) => Math.sqrt(v)),
    explained: variances.slice(0, p).map((v) => v / total),
    examples,
    quantisation: { maxAbsError: 0, meanAbsError: 0 },
  };
  data.quantisation = quantisationError(m, data);
  return data;
}

/** π(y, z) from the exact decoder, [side²] per (z, y) pair. */
export function exactPixels(m: M2, pairs: { z: number[]; y: number }[]): Float32Array[] {
  const { zDim } = m.config;
  const out = tf.tidy(() =>
    decodeMeans(
      m,
      tf.tensor2d(
        pairs.flatMap((p) => p.z),
        [pairs.length, zDim],
      ),
      pairs.map((p) => p.y),
    ),
  );
  const values = out.dataSync() as Float32Array;
  out.dispose();
  const size = values.length / pairs.length;
  return pairs.map((_, i) => values.slice(i * size, (i + 1) * size));
}

/** The quantised decoder (the page's own code, run here) against the exact one, over every example written as every digit. */
function quantisationError(m: M2, data: ExplorerData): { maxAbsError: number; meanAbsError: number } {
  const decodeQuantised = quantisedDecoder(data);
  const pairs = data.examples.flatMap((e) => Array.from({ length: data.numClasses }, (_, y) => ({ z: e.z, y })));
  const exact = exactPixels(m, pairs);
  let max = 0;
  let sum = 0;
  let count = 0;
  pairs.forEach((pair, i) => {
    const approx = decodeQuantised(pair.z, pair.y);
    exact[i]?.forEach((v, j) => {
      const d = Math.abs(v - (approx[j] ?? 0));
      max = Math.max(max, d);
      sum += d;
      count++;
    });
  });
  return { maxAbsError: max, meanAbsError: count ? sum / count : 0 };
}

/**
 * The page's decoder, for Node: the runtime's own decode function without its controls, so the
 * error measured here is the error of the code the reader runs.
 */
export function quantisedDecoder(data: ExplorerData): (z: number[], y: number) => Float32Array {
  const noPage = {} as HTMLElement; // never touched without controls
  return explorerRuntime(noPage, data, { controls: false }).decode;
}

/** The explorer as HTML: controls, canvases and the script that runs them, all inline. */
export function explorerHtml(data: ExplorerData, options: { id: string; caption: string }): string {
  const id = options.id.replace(/[^A-Za-z0-9_-]/g, '-');
  const pixel = 6; // each of the 28 × 28 pixels drawn as 6 × 6 screen pixels
  const big = `width="${data.side}" height="${data.side}" style="width:${data.side * pixel}px;height:${data.side * pixel}px;image-rendering:pixelated;border:1px solid #ccc"`;
  const small = `width="${data.side}" height="${data.side}" style="width:${data.side * 2}px;height:${data.side * 2}px;image-rendering:pixelated;border:1px solid #ddd"`;
  const digitButtons = Array.from(
    { length: data.numClasses },
    (_, y) =>
      `<label style="margin-right:6px"><input type="radio" name="${id}-digit" data-role="digit" value="${y}"${y === 0 ? ' checked' : ''}> ${y}</label>`,
  ).join('');
  const sliders = data.directions
    .map(
      (_, i) =>
        `<label for="${id}-direction-${i}">direction ${i + 1} (${(100 * (data.explained[i] ?? 0)).toFixed(1)}% of the variance)</label><input id="${id}-direction-${i}" type="range" data-role="direction" data-index="${i}" min="-3" max="3" step="0.1" value="0" style="width:220px"><span data-role="direction-value" data-index="${i}"></span>`,
    )
    .join('');
  const examples = data.examples.map((e, i) => `<option value="${i}">test image ${i + 1} (a ${e.label})</option>`).join('');
  const strip = Array.from(
    { length: data.numClasses },
    (_, y) =>
      `<span style="display:inline-block;text-align:center;margin-right:2px"><canvas data-role="analogy-${y}" ${small}></canvas><br>${y}</span>`,
  ).join('');
  const q = data.quantisation;
  const caption = `${options.caption} Decoder weights quantised to ${data.layers[0]?.bits ?? 8} bits per weight: pixel probabilities differ from the exact decoder's by at most ${q.maxAbsError.toFixed(4)} (mean ${q.meanAbsError.toFixed(5)}).`;
  // The data goes in a JSON script element (never executed), the runtime in a script that reads it.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<figure id="${escapeHtml(id)}" class="ssvae-figure ssvae-explorer">
<div style="display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start">
<div><div data-role="digits">Digit y: ${digitButtons}</div>
<div style="margin-top:8px">Style z, along its principal directions (in standard deviations of the test images' codes):</div>
<div style="display:grid;grid-template-columns:max-content max-content max-content;gap:2px 8px;align-items:center">${sliders}</div>
<button type="button" data-role="reset" style="margin-top:6px">z back to the mean</button></div>
<div><canvas data-role="live" ${big}></canvas></div>
</div>
<div style="margin-top:12px">One writer, every digit: <select data-role="example">${examples}</select></div>
<div style="margin-top:6px;display:flex;gap:12px;align-items:flex-end"><span style="text-align:center"><canvas data-role="example-image" ${small}></canvas><br>real</span><span>${strip}</span></div>
<figcaption>${escapeHtml(caption)}</figcaption>
<script type="application/json" data-role="explorer-data">${json}</script>
<script>(function () {
  const root = document.getElementById(${JSON.stringify(id)});
  const data = JSON.parse(root.querySelector('script[data-role="explorer-data"]').textContent);
  const explorerRuntime = ${explorerRuntime.toString()};
  (window.ssvaeExplorers = window.ssvaeExplorers || {})[${JSON.stringify(id)}] = explorerRuntime(root, data, { controls: true });
})();</script>
</figure>`;
}
