/**
 * The test log-likelihood table: −ELBO, its terms and the −IWAE_m bounds of every scored run,
 * mean ± standard deviation over seeds, beside the CS236 homework's published numbers. The
 * numbers come from analysis/likelihood.ts; lower is better in every column.
 */
import * as path from 'node:path';
import { likelihoodRows, loadLikelihoodRecords, type LikelihoodRow, type OverSeeds } from '../analysis/likelihood';
import { CS236_HW2_LIKELIHOOD, CS236_LIKELIHOOD, type MeanSd } from '../analysis/references';
import { projectDataDir } from '../core/paths';
import { htmlTable, markdownTable } from './comparison';
import { VEGA_LITE_SCHEMA, WIDE_LEGEND, type ChartOptions, type TopLevelSpec } from './vega';

/** The default home of scored runs: data/study/likelihood. */
export function defaultLikelihoodDir(): string {
  return path.join(projectDataDir(), 'study', 'likelihood');
}

const MODEL_NAMES: Record<string, string> = { vae: 'VAE', gmvae: 'GMVAE' };

/** 'vae' → 'VAE', 'gmvae' → 'GMVAE', an M2 row's 'v3, N = 100' → 'M2 v3, N = 100'. */
function displayName(model: string): string {
  return MODEL_NAMES[model] ?? model.replace(/^v(\d)/, 'M2 v$1');
}

function cell(value: OverSeeds | MeanSd | undefined): string {
  if (value === undefined) return '—';
  const [m, sd] = Array.isArray(value) ? value : [value.mean, value.sd];
  return Number.isFinite(sd) ? `${m.toFixed(2)} ± ${sd.toFixed(2)}` : m.toFixed(2);
}

interface LikelihoodTable {
  head: string[];
  rows: string[][];
}

/** Our rows (by model) and then the course's, with a column per m scored anywhere. */
export function likelihoodTable(rows: LikelihoodRow[]): LikelihoodTable {
  const counts = [...new Set([...rows.flatMap((r) => [...r.negativeIwae.keys()]), 1, 10, 100, 1000])].sort((a, b) => a - b);
  const head = ['Model', 'Source', 'Seeds', 'Test images', '−ELBO', 'KL', '−log p(x|z)', ...counts.map((m) => `−IWAE, m = ${m}`)];
  const ours = rows.map((r) => [
    displayName(r.model),
    'ours',
    String(r.seeds.length),
    String(r.images),
    cell(r.negativeElbo),
    cell(r.kl),
    cell(r.reconstruction),
    ...counts.map((m) => cell(r.negativeIwae.get(m))),
  ]);
  const published = CS236_LIKELIHOOD.map((p) => [
    displayName(p.model),
    CS236_HW2_LIKELIHOOD.short,
    '100 runs',
    '100',
    cell(p.negativeElbo),
    cell(p.kl),
    cell(p.reconstruction),
    ...counts.map((m) => cell(p.negativeIwae[m])),
  ]);
  return { head, rows: [...ours, ...published] };
}

export function likelihoodTableHtml(table: LikelihoodTable): string {
  return htmlTable('ssvae-likelihood', table.head, table.rows, { rightAligned: table.head.map((_, i) => i).slice(2) });
}

export function likelihoodTableMarkdown(table: LikelihoodTable): string {
  return markdownTable(table.head, table.rows);
}

/** The README's likelihood block: the table of every scored run under `root`, with where it comes from. */
export function likelihoodMarkdown(root: string = defaultLikelihoodDir()): string {
  const records = loadLikelihoodRecords(root);
  const where = path.relative(projectDataDir(), root) === path.join('study', 'likelihood') ? 'data/study/likelihood' : root;
  return [
    [
      'Negative log-likelihood bounds on binarised MNIST test images in nats (lower is better), mean ± standard deviation',
      `over seeds, from the ${records.size} likelihood records under \`${where}/\`, beside the official solutions of`,
      "Stanford CS236's homework 2 (Fall 2021; mean ± standard deviation over 100 runs, on 100 test images).",
      'Regenerate with `npm run ssvae -- results --write README.md`.',
    ].join(' '),
    '',
    likelihoodTableMarkdown(likelihoodTable(likelihoodRows(records.values()))),
  ].join('\n');
}

/**
 * −IWAE_m against m (log scale) for each model: colour for the model, line style for the source
 * (ours solid, the course's dashed), so the bound's fall with m reads across models and sources.
 */
export function iwaeCurveSpec(rows: LikelihoodRow[], options: ChartOptions & { published?: boolean } = {}): TopLevelSpec {
  const ours = rows.flatMap((r) =>
    [...r.negativeIwae].map(([m, v]) => ({ model: displayName(r.model), source: 'ours', m, value: v.mean })),
  );
  const published =
    options.published === false
      ? []
      : CS236_LIKELIHOOD.flatMap((p) =>
          Object.entries(p.negativeIwae).map(([m, [value]]) => ({
            model: displayName(p.model),
            source: CS236_HW2_LIKELIHOOD.short,
            m: Number(m),
            value,
          })),
        );
  const sources = ['ours', CS236_HW2_LIKELIHOOD.short];
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? 'The importance-weighted bound tightens as m grows',
    width: options.width ?? 420,
    height: options.height ?? 260,
    data: { values: [...ours, ...published] },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'm', type: 'quantitative', title: 'Samples per image m (log scale)', scale: { type: 'log' } },
      y: { field: 'value', type: 'quantitative', title: '−IWAE_m (nats per image)', scale: { zero: false } },
      color: { field: 'model', type: 'nominal', title: 'Model', legend: WIDE_LEGEND },
      strokeDash: { field: 'source', type: 'nominal', title: 'Source', sort: sources },
      detail: { field: 'source' },
      tooltip: [
        { field: 'model', title: 'Model' },
        { field: 'source', title: 'Source' },
        { field: 'm', title: 'm' },
        { field: 'value', title: '−IWAE_m', format: '.2f' },
      ],
    },
  };
}
