/**
 * The comparison of methods × label counts as a reader sees it: the table as HTML and Markdown,
 * the README's results block, the chart of accuracy against the number of labels, and the
 * provenance and source lists. The numbers come from analysis/comparison.ts.
 */
import { escapeHtml } from '../core/html';
import {
  comparisonTable,
  provenance,
  rowSettings,
  VARIANT_NAMES,
  type ComparisonSummary,
  type ComparisonRow,
  type ComparisonTable,
  type PairedComparison,
  type PairedDifference,
  type PublishedDifference,
  type TableCell,
} from '../analysis/comparison';
import type { ReferencePoint, Source } from '../analysis/references';
import type { BoundPoint } from '../analysis/restarts';
import type { AveragingGroup } from '../analysis/averaging';
import { projectDataDir } from '../core/paths';
import * as path from 'node:path';
import { VEGA_LITE_SCHEMA, type ChartOptions, type TopLevelSpec } from './vega';

/** "93.19 ± 0.60" (accuracy in %), with the number of seeds for our runs. */
export function formatCell(cell: TableCell | undefined, digits = 2): string {
  if (!cell) return '—';
  let text = (100 * cell.accuracy).toFixed(digits);
  if (cell.spread !== undefined && Number.isFinite(cell.spread)) text += ` ± ${(100 * cell.spread).toFixed(digits)}`;
  if (cell.n !== undefined) text += ` (${cell.n} seed${cell.n === 1 ? '' : 's'})`;
  return text;
}

/**
 * An HTML table of text cells (escaped here): `className` on the table, a header row, one row per
 * entry; columns listed in `rightAligned` are right-aligned, and `rowClasses[i]` classes row i.
 */
export function htmlTable(
  className: string,
  head: string[],
  rows: string[][],
  options: { rightAligned?: number[]; rowClasses?: string[] } = {},
): string {
  const right = new Set(options.rightAligned ?? []);
  const headRow = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((cells, r) => {
    const tds = cells.map((c, i) => `<td${right.has(i) ? ' style="text-align:right"' : ''}>${escapeHtml(c)}</td>`).join('');
    const rowClass = options.rowClasses?.[r];
    return `<tr${rowClass === undefined ? '' : ` class="${escapeHtml(rowClass)}"`}>${tds}</tr>`;
  });
  return `<table class="${escapeHtml(className)}">\n<thead><tr>${headRow}</tr></thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
}

/**
 * The runs that averaged their weights, one row per variant, N and decay: mean best validation
 * accuracy, test accuracy at the best validation epoch (mean ± 95% half-width over seeds) and
 * the mean spread of the test accuracy over the last epochs, with the trained weights and with
 * their average, in %.
 */
export function averagingTableHtml(groups: readonly AveragingGroup[]): string {
  const pct = (x: number) => (100 * x).toFixed(2);
  const interval = (m: AveragingGroup['test']['averaged']) => formatCell({ accuracy: m.mean, spread: m.halfWidth });
  const head = [
    'Variant',
    'N',
    'Decay',
    'Seeds',
    'Validation, trained',
    'Validation, averaged',
    'Test, trained',
    'Test, averaged',
    'Late spread, trained',
    'Late spread, averaged',
  ];
  const rows = groups.map((g) => [
    VARIANT_NAMES[g.variant],
    String(g.labels),
    String(g.decay),
    String(g.seeds.length),
    pct(g.validation.unaveraged),
    pct(g.validation.averaged),
    interval(g.test.unaveraged),
    interval(g.test.averaged),
    pct(g.lateSpread.unaveraged),
    pct(g.lateSpread.averaged),
  ]);
  return htmlTable('ssvae-averaging', head, rows, { rightAligned: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
}

/** The table as HTML: one row per method, one column per N, test accuracy in %. */
export function comparisonTableHtml(table: ComparisonTable): string {
  const head = ['Method', 'Source', ...table.labelCounts.map((n) => `N = ${n}`)];
  const rows = table.rows.map((row) => [row.method, row.source, ...table.labelCounts.map((n) => formatCell(row.cells[n]))]);
  const rightAligned = table.labelCounts.map((_, i) => i + 2);
  return htmlTable('ssvae-comparison', head, rows, { rightAligned, rowClasses: table.rows.map((row) => row.kind) });
}

/**
 * A GitHub pipe table of text cells (| escaped): a header row, then one row per entry; the first
 * two columns are left-aligned, the rest right-aligned.
 */
export function markdownTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The table as Markdown (GitHub's pipe tables): the same rows and cells as the HTML table. */
export function comparisonTableMarkdown(table: ComparisonTable): string {
  const head = ['Method', 'Source', ...table.labelCounts.map((n) => `N = ${n}`)];
  return markdownTable(
    head,
    table.rows.map((row) => [row.method, row.source, ...table.labelCounts.map((n) => formatCell(row.cells[n]))]),
  );
}

/**
 * The notes under a table of one row per method (oneRowPerMethod): each row whose settings are
 * not the defaults everywhere, with its settings by N, e.g.
 * "M1+M2: …: N = 100: epochs 100, hidden 300; N = 600, 1000, 3000: m1.klWarmup 20".
 */
export function rowSettingsLines(summary: ComparisonSummary): string[] {
  return rowSettings(summary).map(
    (row) =>
      `${row.method}: ${row.byLabels
        .map((b) => `N = ${b.labels.join(', ')}: ${b.settings.length === 0 ? 'the defaults' : b.settings.join(', ')}`)
        .join('; ')}`,
  );
}

/** The heading of rowSettingsLines' list, in the README and in notebook 07. */
const ROW_SETTINGS_HEADING = 'Settings other than the defaults, by N:';

/** rowSettingsLines as an HTML paragraph and list (empty if every row uses the defaults). */
export function rowSettingsHtml(summary: ComparisonSummary): string {
  const lines = rowSettingsLines(summary);
  if (lines.length === 0) return '';
  return `<p>${escapeHtml(ROW_SETTINGS_HEADING)}</p><ul>${lines.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`;
}

/**
 * The README's results block: Table 1 (`tableOne`, one row per method, beside the published
 * numbers, from the runs of the plan files `tablePlans`) with the settings of its rows, the
 * `paired` differences of its rows where any pair shares a subset, then every group of runs in
 * `all` (ours only), as Markdown. Depends only on the records (no date), so a test can check the
 * README against them.
 */
export function resultsMarkdown(
  tableOne: ComparisonSummary,
  tablePlans: readonly string[],
  all: ComparisonSummary,
  paired: PairedComparison[] = [],
): string {
  const where = path.relative(projectDataDir(), all.root) === 'runs' ? 'data/runs' : all.root;
  const notes = rowSettingsLines(tableOne);
  const table = comparisonTable(tableOne);
  const pairs = paired.filter((p) => p.byLabels.length > 0);
  return [
    [
      '**Table 1.** Test accuracy (%) at the best validation epoch, mean ± 95% Student-t interval over seeds,',
      `of the ${tableOne.runCount} finished runs${tableOne.plannedCount === undefined ? '' : ` (of ${tableOne.plannedCount} planned)`}`,
      `that the table's plans train (${tablePlans.map((f) => `\`${f}\``).join(', ')}),`,
      'one row per method; published numbers as printed by their sources.',
    ].join(' '),
    '',
    comparisonTableMarkdown(table),
    '',
    ...(notes.length === 0 ? [] : [ROW_SETTINGS_HEADING, '', ...notes.map((line) => `- ${line}`), '']),
    ...(pairs.length === 0 ? [] : [pairedMarkdown(pairs, table.labelCounts), '']),
    [
      `**Every group of runs:** the ${all.runCount} finished run records under \`${where}/\` (${all.skipped.length} unfinished or skipped),`,
      'studies and restarts included; runs that differ in any setting but the seed are separate rows.',
      'Regenerate every table of this block with `npm run ssvae -- results --write README.md`.',
    ].join(' '),
    '',
    comparisonTableMarkdown(comparisonTable(all, { published: [] })),
  ].join('\n');
}

/** A difference of accuracies in points, signed: "+0.32", "−0.13", "0.00". */
export function formatSignedPoints(difference: number, digits = 2): string {
  const text = Math.abs(100 * difference).toFixed(digits);
  if (Number(text) === 0) return text;
  return `${difference > 0 ? '+' : '−'}${text}`;
}

/** "+0.32 ± 0.19 (3 above, 1 level)": the mean paired difference and how the pairs fall. */
function pairedCell(cell: PairedDifference | undefined): string {
  if (!cell) return '—';
  const { mean, halfWidth } = cell.interval;
  const spread = Number.isFinite(halfWidth) ? ` ± ${(100 * halfWidth).toFixed(2)}` : '';
  const counts = [
    [cell.above, 'above'],
    [cell.level, 'level'],
    [cell.below, 'below'],
  ].filter(([count]) => count !== 0);
  return `${formatSignedPoints(mean)}${spread} (${counts.map(([count, word]) => `${count} ${word}`).join(', ')})`;
}

/** The cells of the paired-differences table: row a, row b, then one cell per N. */
function pairedRows(paired: PairedComparison[], labelCounts: number[]): { head: string[]; rows: string[][] } {
  return {
    head: ['Method', 'minus', ...labelCounts.map((n) => `N = ${n}`)],
    rows: paired.map((p) => [p.a, p.b, ...labelCounts.map((n) => pairedCell(p.byLabels.find((d) => d.labels === n)))]),
  };
}

/** The paired-differences table as HTML (the same cells as pairedMarkdown's table). */
export function pairedDifferencesHtml(paired: PairedComparison[], labelCounts: number[]): string {
  const { head, rows } = pairedRows(paired, labelCounts);
  return htmlTable('ssvae-paired', head, rows, { rightAligned: labelCounts.map((_, i) => i + 2) });
}

/**
 * Rows of Table 1 compared on the labelled subsets they share (pairedDifferences): a table of the
 * mean differences by N, then every pair's difference, so that a sentence about them can cite it.
 */
export function pairedMarkdown(paired: PairedComparison[], labelCounts: number[]): string {
  const { head, rows } = pairedRows(paired, labelCounts);
  const lines = paired.map(
    (p) =>
      `- ${p.a} minus ${p.b}: ${p.byLabels
        .map(
          (d) =>
            `N = ${d.labels}: ${d.differences.map((x) => formatSignedPoints(x)).join(', ')} (seed${d.seeds.length === 1 ? '' : 's'} ${d.seeds.join(', ')})`,
        )
        .join('; ')}`,
  );
  return [
    [
      '**Paired differences.** Test accuracy of one row of Table 1 minus another, in points, on the labelled subsets',
      'where both have a finished run (the same seed and N is the same subset): mean ± 95% Student-t interval over',
      'those subsets, and on how many the first row is above, level with or below the second.',
      "Pairing takes out the part of each row's spread over subsets that the two rows share; where one row does well on the subsets that are hard for the other, it widens the interval instead (notebook 07).",
    ].join(' '),
    '',
    markdownTable(head, rows),
    '',
    'Each pair, in seed order:',
    '',
    ...lines,
  ].join('\n');
}

export interface ComparisonChartOptions extends ChartOptions {
  /** Row keys to leave out of the chart (they stay in the table). */
  exclude?: string[];
}

/** The family of a row: its variant's, Kingma et al.'s NN counted as a labelled-only classifier. */
function familyOf(row: ComparisonRow): string {
  if (row.variant) return VARIANT_NAMES[row.variant];
  if (row.key === 'kingma-nn') return VARIANT_NAMES.baseline;
  return row.method;
}

/** The line style's key: who measured it, and with which settings if they are not the defaults. */
function sourceOf(row: ComparisonRow): string {
  if (row.kind === 'published') return row.source;
  return row.settings ? `This project (${row.settings})` : 'This project';
}

/**
 * Test accuracy against N on a log axis: colour is the kind of method (variant 1, 2, 3, the
 * labelled-only classifier, M1+M2, …), line style says who measured it (this project with its
 * settings, Pyro's tutorial, Kingma et al.); 95% intervals as error bars where there are any.
 */
export function accuracyVsLabelsSpec(table: ComparisonTable, options: ComparisonChartOptions = {}): TopLevelSpec {
  const exclude = new Set(options.exclude ?? []);
  const values = table.rows
    .filter((row) => !exclude.has(row.key))
    .flatMap((row) =>
      table.labelCounts.flatMap((labels) => {
        const cell = row.cells[labels];
        if (!cell) return [];
        const spread =
          cell.spreadKind === '95% interval' && cell.spread !== undefined && Number.isFinite(cell.spread) ? cell.spread : undefined;
        return [
          {
            family: familyOf(row),
            source: sourceOf(row),
            series: `${sourceOf(row)}: ${row.method}`,
            labels,
            accuracy: cell.accuracy,
            ...(spread === undefined ? {} : { low: cell.accuracy - spread, high: cell.accuracy + spread }),
          },
        ];
      }),
    );
  // Legends in table order: our rows first, then the published ones.
  const families = [...new Set(values.map((v) => v.family))];
  const sources = [...new Set(values.map((v) => v.source))];
  const dashes = [
    [1, 0],
    [6, 3],
    [2, 2],
    [8, 2, 2, 2],
    [12, 4],
    [1, 3],
    [4, 4, 1, 4],
  ];
  const x = {
    field: 'labels',
    type: 'quantitative',
    title: 'Labelled training images N (log scale)',
    scale: { type: 'log', domain: [Math.min(...table.labelCounts) * 0.8, Math.max(...table.labelCounts) * 1.25] },
    axis: { values: table.labelCounts, format: 'd' },
  };
  const color = {
    field: 'family',
    type: 'nominal',
    title: 'Method',
    scale: { domain: families, scheme: 'tableau10' },
    legend: { orient: 'right', labelLimit: 640, symbolType: 'circle' },
  };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? 'Test accuracy against the number of labelled images',
    width: options.width ?? 420,
    height: options.height ?? 300,
    data: { values },
    layer: [
      {
        transform: [{ filter: 'isValid(datum.low)' }],
        mark: { type: 'errorbar', ticks: true },
        encoding: {
          x,
          y: { field: 'low', type: 'quantitative', title: 'Test accuracy' },
          y2: { field: 'high' },
          color,
          detail: { field: 'series' },
        },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'accuracy', type: 'quantitative', title: 'Test accuracy', scale: { zero: false }, axis: { format: '.0%' } },
          color,
          detail: { field: 'series' },
          strokeDash: {
            field: 'source',
            type: 'nominal',
            title: 'Numbers from',
            scale: { domain: sources, range: sources.map((_, i) => dashes[i % dashes.length]) },
            legend: {
              symbolType: 'stroke',
              symbolStrokeWidth: 2,
              symbolSize: 400,
              labelLimit: 640,
              encode: { symbols: { update: { stroke: { value: '#444' } } } },
            },
          },
          tooltip: [{ field: 'source' }, { field: 'family', title: 'method' }, { field: 'labels' }, { field: 'accuracy', format: '.4f' }],
        },
      },
    ],
  };
}

/**
 * Each run's final bound on the unlabelled images (x, as −U(x) in nats per image: left is the
 * better fit) against its test accuracy (y), one panel per method with its own x range (bounds
 * compare only between runs of one model on the same data); a circle is a subset's first start
 * (restart 0), a diamond another start of the same subset, and the colour is the seed, so the
 * starts of one subset share a colour.
 */
export function boundVersusAccuracySpec(points: BoundPoint[], options: ChartOptions = {}): TopLevelSpec {
  const values = points.map((p) => ({
    method: p.method,
    loss: p.unlabelledLoss,
    accuracy: p.testAccuracyAtBest,
    subset: `seed ${p.seed}`,
    start: p.restart === 0 ? 'first start' : 'another start',
    about: `seed ${p.seed}, restart ${p.restart}`,
  }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? 'Bound on the unlabelled images against test accuracy',
    data: { values },
    facet: { field: 'method', type: 'nominal', title: null, header: { labelLimit: 400, labelFontWeight: 'bold' } },
    columns: 2,
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: options.width ?? 260,
      height: options.height ?? 220,
      mark: { type: 'point', size: 80, filled: true, opacity: 0.85 },
      encoding: {
        x: {
          field: 'loss',
          type: 'quantitative',
          title: '−U(x), last epoch (nats per image)',
          scale: { zero: false, padding: 10 },
        },
        y: { field: 'accuracy', type: 'quantitative', title: 'Test accuracy', scale: { zero: false }, axis: { format: '.0%' } },
        color: { field: 'subset', type: 'nominal', title: 'Labelled subset', scale: { scheme: 'tableau10' } },
        shape: {
          field: 'start',
          type: 'nominal',
          title: 'Start',
          scale: { domain: ['first start', 'another start'], range: ['circle', 'diamond'] },
        },
        tooltip: [
          { field: 'method' },
          { field: 'about', title: 'run' },
          { field: 'loss', format: '.2f' },
          { field: 'accuracy', format: '.4f' },
        ],
      },
    },
  };
}

/** The provenance as an HTML table, one row per method and N. */
export function provenanceTableHtml(summary: ComparisonSummary): string {
  const head = [
    'Method',
    'N',
    'Seeds',
    'Epochs',
    'Schedule',
    'lr',
    'Backend',
    'Machine',
    'Commit',
    'Started (UTC)',
    'Mean wall time per run',
  ];
  const day = (iso: string) => iso.replace('T', ' ').slice(0, 16);
  const rows = provenance(summary).map((p) => [
    p.method,
    String(p.labels),
    p.seeds.join(', '),
    p.epochs.join(', '),
    p.schedule.join(', '),
    p.lr.join(', '),
    p.backends.join(', '),
    p.machines.join('; '),
    p.commits.join(', '),
    p.firstStarted === p.lastStarted ? day(p.firstStarted) : `${day(p.firstStarted)} – ${day(p.lastStarted)}`,
    `${(p.meanWallSeconds / 60).toFixed(1)} min`,
  ]);
  return htmlTable('ssvae-provenance', head, rows);
}

/** Sources (each once, in order of first mention) as an HTML list: citation, where, protocol. */
export function sourcesHtml(sources: Source[]): string {
  const seen = new Map<string, Source>();
  for (const src of sources) if (!seen.has(src.short)) seen.set(src.short, src);
  const items = [...seen.values()].map(
    (src) =>
      `<li><b>${escapeHtml(src.short)}</b>: ${escapeHtml(src.citation)} <i>${escapeHtml(src.where)}.</i> ${escapeHtml(src.protocol)}</li>`,
  );
  return `<ul class="ssvae-sources">\n${items.join('\n')}\n</ul>`;
}

/** Single published reference points (not series over N) as an HTML table. */
export function referencePointsHtml(points: ReferencePoint[]): string {
  const head = ['What', 'N', 'Accuracy (%)', 'Note', 'Source'];
  const rows = points.map((p) => [
    p.what,
    String(p.labels),
    formatCell({ accuracy: p.accuracy, ...(p.spread === undefined ? {} : { spread: p.spread }) }),
    p.note ?? '',
    p.source.short,
  ]);
  return htmlTable('ssvae-references', head, rows);
}

/** Our groups beside the published number of the same variant and N (differencesFromPublished) as an HTML table. */
export function publishedDifferencesHtml(differences: PublishedDifference[]): string {
  const head = ['Method', 'N', 'Seeds', 'This project (%)', 'Published (%)', 'Source', 'Difference (points)', 'Verdict'];
  const rows = differences.map((d) => [
    d.method,
    String(d.labels),
    String(d.ours.n),
    formatCell({ accuracy: d.ours.mean, spread: d.ours.halfWidth }),
    formatCell({ accuracy: d.published.accuracy, ...(d.published.spread === undefined ? {} : { spread: d.published.spread }) }),
    d.published.source,
    `${d.difference >= 0 ? '+' : '−'}${Math.abs(100 * d.difference).toFixed(2)}`,
    d.verdict,
  ]);
  return htmlTable('ssvae-differences', head, rows, { rightAligned: [2, 3, 4, 6] });
}
