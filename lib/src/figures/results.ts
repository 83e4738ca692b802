/**
 * Figures of the results notebooks: the t-SNE scatter of latent codes coloured by digit, and
 * PNG images as inline <img> markup (so that figureHtml can wrap them like an SVG chart).
 */
import { escapeHtml } from '../core/html';
import { VEGA_LITE_SCHEMA, type TopLevelSpec } from './vega';

export interface ScatterOptions {
  title?: string;
  /** Subtitle line under the title, e.g. the method and its settings. */
  subtitle?: string;
  width?: number;
  height?: number;
  /** Name of the colour legend (default "Digit"). */
  legendTitle?: string;
  /** The class q(y|x) predicts for each point, named in its tooltip beside the true digit. */
  predicted?: ArrayLike<number>;
}

/**
 * A scatter plot of a 2-d embedding (N × 2, row-major) with one colour per label and a legend;
 * resting the pointer on a point shows its digit (and predicted class). t-SNE axes have no units
 * and no meaning of their own, so their ticks are hidden.
 */
export function embeddingScatterSpec(
  embedding: Float32Array | Float64Array,
  labels: ArrayLike<number>,
  options: ScatterOptions = {},
): TopLevelSpec {
  const n = embedding.length / 2;
  if (labels.length !== n) throw new Error(`embeddingScatterSpec: ${labels.length} labels for ${n} points`);
  const predicted = options.predicted;
  if (predicted && predicted.length !== n) throw new Error(`embeddingScatterSpec: ${predicted.length} predictions for ${n} points`);
  // `about` is each point's tooltip: the true digit and, if given, the predicted class.
  const values = Array.from({ length: n }, (_, i) => ({
    x: Math.round((embedding[2 * i] ?? NaN) * 1000) / 1000,
    y: Math.round((embedding[2 * i + 1] ?? NaN) * 1000) / 1000,
    digit: String(labels[i]),
    about: `digit ${labels[i]}${predicted ? `, predicted ${predicted[i]}` : ''} (point ${i + 1})`,
  }));
  const digits = [...new Set(values.map((v) => v.digit))].sort((a, b) => Number(a) - Number(b));
  const axis = { ticks: false, labels: false, grid: false };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: options.title ?? 't-SNE of the latent codes', ...(options.subtitle ? { subtitle: options.subtitle } : {}) },
    width: options.width ?? 420,
    height: options.height ?? 420,
    data: { values },
    mark: { type: 'circle', size: 14, opacity: 0.75 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 't-SNE dimension 1', axis, scale: { zero: false, nice: false } },
      y: { field: 'y', type: 'quantitative', title: 't-SNE dimension 2', axis, scale: { zero: false, nice: false } },
      color: { field: 'digit', type: 'nominal', title: options.legendTitle ?? 'Digit', scale: { domain: digits, scheme: 'tableau10' } },
      description: { field: 'about' },
    },
    usermeta: { tooltips: true },
  };
}

/** An <img> of PNG bytes as a data URL, for a figure that must show without any file or network. */
export function pngImgHtml(png: Uint8Array, alt: string): string {
  return `<img src="data:image/png;base64,${Buffer.from(png).toString('base64')}" alt="${escapeHtml(alt)}">`;
}
