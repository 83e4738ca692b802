/** Reading exported handouts and their notebooks, shared by the tests that check them. */
import * as fs from 'node:fs';

const { findMath } = require('../scripts/handout-math') as { findMath(markdown: string): unknown[] };

/**
 * The markup of the <figure> with this id, or undefined. nbconvert re-serialises HTML outputs
 * (attributes come out sorted), so the id is looked for anywhere in the start tag.
 */
export function figureMarkup(html: string, id: string): string | undefined {
  const start = html.search(new RegExp(`<figure\\b[^>]*\\bid="${id}"`));
  if (start < 0) return undefined;
  const end = html.indexOf('</figure>', start);
  return end < 0 ? undefined : html.slice(start, end);
}

/** How many formulas the Markdown cells of a notebook have. */
export function formulaCount(file: string): number {
  const notebook = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
  return notebook.cells
    .filter((cell) => cell.cell_type === 'markdown')
    .reduce((sum, cell) => sum + findMath(Array.isArray(cell.source) ? cell.source.join('') : cell.source).length, 0);
}

/** Resources a page would fetch from the network, by what the page says. */
export function networkReferences(html: string): string[] {
  const patterns = [
    /<(?:script|link|img|image|use|iframe|source|video|audio|embed|object)\b[^>]*\b(?:src|href|xlink:href|data)\s*=\s*["']?(?:https?:)?\/\/[^"'\s>]*/gi,
    /url\(\s*["']?(?:https?:)?\/\/[^)]*\)/gi,
    /@import\s+(?:url\()?\s*["']?(?:https?:)?\/\//gi,
  ];
  return patterns.flatMap((pattern) => html.match(pattern) ?? []);
}
