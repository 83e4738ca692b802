/// <reference lib="dom" />
/**
 * The part of the explorer that runs in the reader's browser: M2's decoder as a small
 * plain-JavaScript MLP on the inlined, quantised weights, and the controls that drive it.
 *
 * `explorerRuntime` is not called in Node. explorer.ts inlines its source text (Function.toString)
 * into the page, so it must be self-contained: no imports, no closures over module scope, only
 * what a browser offers.
 */
import type { ExplorerData } from './explorer';

/** What a page exposes per explorer, as window.ssvaeExplorers[id] (the browser test reads it). */
export interface ExplorerHandle {
  /** The digit and code the live canvas shows. */
  state: { y: number; z: number[]; sliders: number[] };
  /** Pixel probabilities π(y, z) from the quantised decoder, [side²]. */
  decode: (z: number[], y: number) => Float32Array;
  /** Milliseconds the last update of the live canvas took (decode and draw). */
  lastUpdateMs: number;
}

export function explorerRuntime(root: HTMLElement, data: ExplorerData, options: { controls: boolean }): ExplorerHandle {
  const fromBase64 = (text: string): Uint8Array => {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  };
  const floats = (text: string): Float32Array => {
    const bytes = fromBase64(text);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };
  // Dequantise once: w[r, c] = q[r, c] · scale[block of r, c] (row-major).
  const layers = data.layers.map((layer) => {
    const bytes = fromBase64(layer.weights);
    const q = layer.bits === 8 ? new Int8Array(bytes.buffer) : new Int16Array(bytes.buffer);
    const scales = floats(layer.scales);
    const w = new Float32Array(layer.rows * layer.cols);
    for (let r = 0; r < layer.rows; r++) {
      const block = Math.floor(r / layer.groupRows) * layer.cols;
      for (let c = 0; c < layer.cols; c++) w[r * layer.cols + c] = (q[r * layer.cols + c] ?? 0) * (scales[block + c] ?? 0);
    }
    return { rows: layer.rows, cols: layer.cols, w, b: floats(layer.bias) };
  });
  const softplus = (a: number) => (a > 20 ? a : Math.log1p(Math.exp(a)));
  // The first layer acts on [z; one-hot y]; zero inputs (all of y's but one) are skipped.
  const decode = (z: number[], y: number): Float32Array => {
    let h = new Float32Array(data.zDim + data.numClasses);
    h.set(z.slice(0, data.zDim));
    h[data.zDim + y] = 1;
    layers.forEach((layer, index) => {
      const out = Float32Array.from(layer.b);
      for (let r = 0; r < layer.rows; r++) {
        const v = h[r] ?? 0;
        if (v === 0) continue;
        const row = r * layer.cols;
        for (let c = 0; c < layer.cols; c++) out[c] = (out[c] ?? 0) + v * (layer.w[row + c] ?? 0);
      }
      const last = index === layers.length - 1;
      for (let c = 0; c < out.length; c++) out[c] = last ? 1 / (1 + Math.exp(-(out[c] ?? 0))) : softplus(out[c] ?? 0);
      h = out;
    });
    return h;
  };
  const handle: ExplorerHandle = { state: { y: 0, z: data.mean.slice(), sliders: [] }, decode, lastUpdateMs: 0 };
  if (!options.controls) return handle;
  // Dark ink on white paper, as the handouts' PNG grids draw digits.
  const draw = (canvas: HTMLCanvasElement, pixels: ArrayLike<number>) => {
    const context = canvas.getContext('2d');
    if (!context) return;
    const image = context.createImageData(data.side, data.side);
    for (let i = 0; i < data.side * data.side; i++) {
      const grey = Math.round(255 * (1 - (pixels[i] ?? 0)));
      image.data.set([grey, grey, grey, 255], 4 * i);
    }
    context.putImageData(image, 0, 0);
  };
  const canvasOf = (role: string) => root.querySelector(`canvas[data-role="${role}"]`) as HTMLCanvasElement;
  const sliders = Array.from(root.querySelectorAll('input[data-role="direction"]')) as HTMLInputElement[];
  const digits = Array.from(root.querySelectorAll('input[data-role="digit"]')) as HTMLInputElement[];
  const example = root.querySelector('select[data-role="example"]') as HTMLSelectElement;
  handle.state.sliders = sliders.map(() => 0);

  // z = mean + Σ_i s_i · sd_i · d_i: slider i moves z along principal direction i, in standard deviations.
  const update = () => {
    const started = performance.now();
    const z = data.mean.slice();
    sliders.forEach((slider, i) => {
      const s = Number(slider.value);
      handle.state.sliders[i] = s;
      const direction = data.directions[i] ?? [];
      for (let j = 0; j < z.length; j++) z[j] = (z[j] ?? 0) + s * (data.sd[i] ?? 0) * (direction[j] ?? 0);
      const label = root.querySelector(`[data-role="direction-value"][data-index="${i}"]`);
      if (label) label.textContent = `${s >= 0 ? '+' : '−'}${Math.abs(s).toFixed(1)} sd`;
    });
    handle.state.z = z;
    draw(canvasOf('live'), decode(z, handle.state.y));
    handle.lastUpdateMs = performance.now() - started;
  };
  const showExample = () => {
    const chosen = data.examples[Number(example.value)];
    if (!chosen) return;
    const scaled = Array.from(fromBase64(chosen.image), (v) => v / 255);
    draw(canvasOf('example-image'), scaled);
    for (let y = 0; y < data.numClasses; y++) draw(canvasOf(`analogy-${y}`), decode(chosen.z, y));
  };
  sliders.forEach((slider) => slider.addEventListener('input', update));
  digits.forEach((radio) =>
    radio.addEventListener('change', () => {
      if (radio.checked) handle.state.y = Number(radio.value);
      update();
    }),
  );
  example.addEventListener('change', showExample);
  const reset = root.querySelector('button[data-role="reset"]');
  reset?.addEventListener('click', () => {
    sliders.forEach((slider) => (slider.value = '0'));
    update();
  });
  update();
  showExample();
  return handle;
}
