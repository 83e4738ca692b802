/**
 * Vega-Lite charts compiled and rendered to SVG in Node, so that a chart is plain markup in a
 * notebook's output and in exported HTML, with no script and no network needed to show it.
 */
/**
 * A Vega-Lite specification. Typed loosely here: vega-lite's own TopLevelSpec type cannot be
 * named from a CommonJS module; vegaLite.compile checks the spec when it renders.
 */
export type TopLevelSpec = Record<string, unknown>;

// vega and vega-lite are ESM-only (with top-level await). This file compiles to CommonJS, and
// TypeScript keeps `import()` as a real dynamic import under module "node16", so they load here.
async function loadVega() {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  return { vega, vegaLite };
}

/** Renders a Vega-Lite specification to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, vegaLite } = await loadVega();
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Wraps an SVG chart in a <figure> with an id and a caption, so that a handout (and a test)
 * can find each figure by name.
 */
export function figureHtml(id: string, caption: string, svg: string): string {
  return `<figure id="${escapeHtml(id)}" class="ssvae-figure">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A grouped bar chart of how many images of each class each split holds. */
export function classCountSpec(title: string, countsBySplit: Record<string, number[]>): TopLevelSpec {
  const groups = countsBySplit;
  const values = Object.entries(groups).flatMap(([name, c]) => c.map((count, digit) => ({ digit: String(digit), count, split: name })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 360,
    height: 200,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'digit', type: 'nominal', title: 'Digit', axis: { labelAngle: 0 } },
      xOffset: { field: 'split' },
      y: { field: 'count', type: 'quantitative', title: 'Number of images' },
      color: { field: 'split', type: 'nominal', title: 'Split' },
    },
  };
}
