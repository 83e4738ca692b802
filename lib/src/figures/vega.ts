/**
 * Vega-Lite charts compiled and rendered to SVG in Node, so that a chart is plain markup in a
 * notebook's output and in exported HTML, with no script and no network needed to show it.
 */
import { escapeHtml } from '../core/html';

/**
 * A Vega-Lite specification. Typed loosely here: vega-lite's own TopLevelSpec type cannot be
 * named from a CommonJS module; vegaLite.compile checks the spec when it renders.
 */
export type TopLevelSpec = Record<string, unknown>;

/** The Vega-Lite version every chart of the library is written for. */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

// vega and vega-lite are ESM-only (with top-level await). This file compiles to CommonJS, and
// TypeScript keeps `import()` as a real dynamic import under module "node16", so they load here.
async function loadVega() {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  return { vega, vegaLite };
}

/**
 * Renders a Vega-Lite specification to an SVG string. A spec with `usermeta: { tooltips: true }`
 * gets a hover tooltip on every mark (see svgTooltips); with `usermeta: { legendSelect: true }`,
 * clicking a legend entry highlights its series (see withLegendSelect).
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, vegaLite } = await loadVega();
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const meta = (spec.usermeta ?? {}) as { tooltips?: boolean; legendSelect?: boolean };
    const withTips = meta.tooltips ? svgTooltips(svg) : svg;
    return meta.legendSelect ? withLegendSelect(withTips) : withTips;
  } finally {
    view.finalize();
  }
}

/**
 * Gives every mark of a Vega SVG that carries an aria-label (Vega writes one per mark, from the
 * `description` channel when there is one) a <title> child with the same text: browsers show it
 * when the pointer rests on the mark. Static markup, so it works in a handout and in a notebook
 * with no script, and prints as before.
 */
export function svgTooltips(svg: string): string {
  return svg.replace(
    /<(path|rect|circle|line|text)((?:\s[^>]*?)?\saria-label="([^"]*)"[^>]*?\srole="graphics-symbol"[^>]*?)\/>/g,
    (_, tag: string, attributes: string, label: string) => `<${tag}${attributes}><title>${label}</title></${tag}>`,
  );
}

/**
 * Wraps an SVG chart in a <figure> with an id and a caption, so that a handout (and a test)
 * can find each figure by name.
 */
export function figureHtml(id: string, caption: string, svg: string): string {
  return `<figure id="${escapeHtml(id)}" class="ssvae-figure">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** Size and title of a chart; every builder has defaults. */
export interface ChartOptions {
  title?: string;
  width?: number;
  height?: number;
}

/** Legend labels are cut at 160 px by default; ours are short sentences. */
export const WIDE_LEGEND = { labelLimit: 320 } as const;

/** A dashed horizontal line at `y` (a threshold, a reference value), as a layer of a layered chart. */
export function horizontalRuleLayer(y: number): TopLevelSpec {
  return { data: { values: [{ y }] }, mark: { type: 'rule', strokeDash: [4, 3] }, encoding: { y: { field: 'y', type: 'quantitative' } } };
}

/**
 * In the page, clicking an entry of the chart's legend highlights that series: marks whose
 * aria-label (set by the spec's `description` channel to the series' name) is not selected fade,
 * and a second click deselects it. A small script inside the SVG does it; where scripts do not
 * run (an untrusted notebook, print) the chart stays as drawn.
 */
export function withLegendSelect(svg: string): string {
  const script = `(function () {
  var svg = document.currentScript && document.currentScript.closest('svg');
  if (!svg) return;
  var chosen = [];
  var entries = Array.prototype.slice.call(svg.querySelectorAll('.role-legend-entry .role-scope > g'));
  var labelOf = function (entry) { var t = entry.querySelector('.role-legend-label text'); return t ? t.textContent : ''; };
  var paint = function () {
    svg.querySelectorAll('[role="graphics-symbol"][aria-label]').forEach(function (mark) {
      if (mark.getAttribute('aria-roledescription') === 'legend' || mark.getAttribute('aria-roledescription') === 'axis') return;
      mark.style.opacity = chosen.length === 0 || chosen.indexOf(mark.getAttribute('aria-label')) >= 0 ? '' : '0.12';
    });
    entries.forEach(function (entry) { entry.style.opacity = chosen.length === 0 || chosen.indexOf(labelOf(entry)) >= 0 ? '' : '0.4'; });
  };
  entries.forEach(function (entry) {
    entry.style.cursor = 'pointer';
    entry.querySelectorAll('path.background').forEach(function (p) { p.setAttribute('pointer-events', 'all'); });
    entry.addEventListener('click', function () {
      var label = labelOf(entry);
      var at = chosen.indexOf(label);
      if (at >= 0) chosen.splice(at, 1); else chosen.push(label);
      paint();
    });
  });
})();`;
  return svg.replace(/<\/svg>\s*$/, `<script>${script}</script></svg>`);
}
