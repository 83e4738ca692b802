/**
 * Table 1: the runs that the table's plans train, one row per method even where its settings
 * differ by N, with those settings listed under the table; the README's block with both tables.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  comparisonTable,
  formatCell,
  loadComparison,
  oneRowPerMethod,
  pairedDifferences,
  pairedDifferencesHtml,
  pairedMarkdown,
  PlanError,
  resultsMarkdown,
  rowSettings,
  rowSettingsHtml,
  rowSettingsLines,
  tableOneSummary,
  tablePairs,
  TABLE_PLANS,
  plansDir,
  type TrainSettings,
} from 'ssvae';
import { fakeRecord, tempDir, writeRecord } from './helpers';

/** Writes `plans` as a plan file in a fresh folder and returns its path. */
function planFile(name: string, plans: unknown): string {
  const file = path.join(tempDir('table-plans'), name);
  fs.writeFileSync(file, JSON.stringify(plans));
  return file;
}

/** A finished record at ROOT/<group>/<variant>-<N>-s<seed>, where the sweep would put it. */
function writeRun(
  root: string,
  group: string,
  settings: TrainSettings & { variant: string; labels: number; seed: number },
  accuracy: number,
): void {
  const { variant, labels, seed } = settings;
  writeRecord(root, `${group}/${variant}-${labels}-s${seed}`, fakeRecord(settings as TrainSettings, accuracy, '2026-12-02T10:00:00Z'));
}

describe('Table 1', () => {
  test('a method whose settings differ by N is one row, its settings by N listed under the table; other runs stay out', () => {
    const root = tempDir('table-one');
    const m1m2Long: TrainSettings = { schedule: 'alternating', hidden: [300] };
    // What two plans train: v3 with the defaults, M1+M2 with other settings at N = 100.
    const plans = planFile('table.json', [
      { variants: ['v3'], labels: [100, 3000], seeds: [0, 1], epochs: 3 },
      { variants: ['m1m2'], labels: [100], seeds: [0, 1], epochs: 4, settings: m1m2Long },
      { variants: ['m1m2'], labels: [3000], seeds: [0, 1], epochs: 3 },
    ]);
    for (const seed of [0, 1]) {
      writeRun(root, 'default', { variant: 'v3', labels: 100, seed, epochs: 3 }, 0.9 + seed / 100);
      writeRun(root, 'default', { variant: 'v3', labels: 3000, seed, epochs: 3 }, 0.96);
      writeRun(root, 'default_hidden-300_schedule-alternating', { variant: 'm1m2', labels: 100, seed, epochs: 4, ...m1m2Long }, 0.95);
      writeRun(root, 'default', { variant: 'm1m2', labels: 3000, seed, epochs: 3 }, 0.97);
    }
    // Not planned: another learning rate, and a restart of a planned subset.
    writeRun(root, 'default_lr-0.001', { variant: 'v3', labels: 100, seed: 0, epochs: 3, lr: 1e-3 }, 0.5);
    writeRun(root, 'default_restart-1', { variant: 'v3', labels: 100, seed: 0, epochs: 3, restart: 1 }, 0.4);

    // Every group of runs keeps the two M1+M2 settings apart and shows the unplanned runs.
    const all = loadComparison(root);
    assert.equal(comparisonTable(all, { published: [] }).rows.length, 5);

    const summary = tableOneSummary(root, [plans]);
    assert.deepEqual([summary.runCount, summary.plannedCount], [8, 8]);
    // A planned run that has not finished is counted as planned, not summarised.
    assert.deepEqual(
      (({ runCount, plannedCount }) => [runCount, plannedCount])(
        tableOneSummary(root, [plans, planFile('more.json', { variants: ['v3'], labels: [600], seeds: [0], epochs: 3 })]),
      ),
      [8, 9],
    );
    const table = comparisonTable(summary, { published: [] });
    assert.deepEqual(
      table.rows.map((r) => [r.method, r.settings, formatCell(r.cells[100]), formatCell(r.cells[3000])]),
      [
        ['M2, summed out + classification term (variant 3)', '', '90.50 ± 6.35 (2 seeds)', '96.00 ± 0.00 (2 seeds)'],
        ["M1+M2: variant 3 on M1's features", '', '95.00 ± 0.00 (2 seeds)', '97.00 ± 0.00 (2 seeds)'],
      ],
    );
    // The v3 row's settings (epochs 3, as the plan says) are the same at both N; M1+M2's are not.
    assert.deepEqual(rowSettings(summary), [
      { method: 'M2, summed out + classification term (variant 3)', byLabels: [{ labels: [100, 3000], settings: ['epochs 3'] }] },
      {
        method: "M1+M2: variant 3 on M1's features",
        byLabels: [
          { labels: [100], settings: ['epochs 4', 'hidden 300', 'schedule alternating'] },
          { labels: [3000], settings: ['epochs 3'] },
        ],
      },
    ]);
    assert.deepEqual(rowSettingsLines(summary), [
      'M2, summed out + classification term (variant 3): N = 100, 3000: epochs 3',
      "M1+M2: variant 3 on M1's features: N = 100: epochs 4, hidden 300, schedule alternating; N = 3000: epochs 3",
    ]);
    assert.equal(
      rowSettingsHtml(summary),
      '<p>Settings other than the defaults, by N:</p><ul><li>M2, summed out + classification term (variant 3): N = 100, 3000: epochs 3</li>' +
        "<li>M1+M2: variant 3 on M1's features: N = 100: epochs 4, hidden 300, schedule alternating; N = 3000: epochs 3</li></ul>",
    );
  });

  test('a preset stays in the row name; two settings of one method at one N are refused', () => {
    const root = tempDir('table-one-preset');
    writeRun(root, 'default', { variant: 'v3', labels: 3000, seed: 0, epochs: 3 }, 0.96);
    writeRun(root, 'pyro-script', { variant: 'v3', labels: 3000, seed: 0, epochs: 3, preset: 'pyro-script' }, 0.95);
    const both = planFile('presets.json', [
      { variants: ['v3'], labels: [3000], seeds: [0], epochs: 3 },
      { variants: ['v3'], labels: [3000], seeds: [0], epochs: 3, settings: { preset: 'pyro-script' } },
    ]);
    const rows = comparisonTable(tableOneSummary(root, [both]), { published: [] }).rows;
    assert.deepEqual(
      rows.map((r) => [r.method, r.settings]),
      [
        ['M2, summed out + classification term (variant 3)', ''],
        ['M2, summed out + classification term (variant 3); preset pyro-script', 'preset pyro-script'],
      ],
    );

    writeRun(root, 'default_lr-0.001', { variant: 'v3', labels: 3000, seed: 0, epochs: 3, lr: 1e-3 }, 0.9);
    const clash = planFile('clash.json', [
      { variants: ['v3'], labels: [3000], seeds: [0], epochs: 3 },
      { variants: ['v3'], labels: [3000], seeds: [0], epochs: 3, settings: { lr: 1e-3 } },
    ]);
    assert.throws(
      () => tableOneSummary(root, [clash]),
      /"M2, summed out \+ classification term \(variant 3\)" has two settings at N = 3000 \("epochs 3" and "epochs 3, lr 0\.001"\)/,
    );
    // The same check on a summary built any other way.
    assert.throws(() => oneRowPerMethod(loadComparison(root)), /has two settings at N = 3000/);
  });

  test("a plan of unsupervised models, or a missing plan file, is refused with the file's name", () => {
    const vae = planFile('vae.json', { models: ['vae'], seeds: [0], preset: 'cs236' });
    assert.throws(
      () => tableOneSummary(tempDir('t1'), [vae]),
      (err: Error) => err instanceof PlanError && /vae\.json: plans\[0\] lists unsupervised models/.test(err.message),
    );
    assert.throws(() => tableOneSummary(tempDir('t1'), [path.join(tempDir('t1'), 'none.json')]), /none\.json/);
  });

  test('two rows are compared on the subsets both have, seed by seed; a missing row is named', () => {
    const root = tempDir('table-one-paired');
    const plans = planFile('paired.json', [{ variants: ['v3', 'm1m2', 'baseline'], labels: [100, 600], seeds: [0, 1, 2, 3], epochs: 3 }]);
    // v3 at N = 100 on seeds 0–2, M1+M2 on seeds 1–3: pairs on seeds 1 and 2 only. At N = 600
    // M1+M2 has no run, so there is no pair there.
    const v3 = [0.9, 0.91, 0.92];
    v3.forEach((acc, seed) => writeRun(root, 'default', { variant: 'v3', labels: 100, seed, epochs: 3 }, acc));
    writeRun(root, 'default', { variant: 'v3', labels: 600, seed: 0, epochs: 3 }, 0.95);
    [0.95, 0.92, 0.97].forEach((acc, i) => writeRun(root, 'default', { variant: 'm1m2', labels: 100, seed: i + 1, epochs: 3 }, acc));
    const summary = tableOneSummary(root, [plans]);

    const paired = pairedDifferences(summary, 'm1m2|', 'v3|');
    assert.equal(paired.a, "M1+M2: variant 3 on M1's features");
    assert.equal(paired.b, 'M2, summed out + classification term (variant 3)');
    assert.equal(paired.byLabels.length, 1, 'no pair at N = 600');
    const [at100] = paired.byLabels;
    assert.ok(at100);
    assert.deepEqual(at100.seeds, [1, 2]);
    at100.differences.forEach((d, i) => assert.ok(Math.abs(d - [0.95 - 0.91, 0.92 - 0.92][i]!) < 1e-12));
    assert.deepEqual([at100.above, at100.level, at100.below], [1, 1, 0]);
    // Two pairs: the interval is the mean ± t(0.975, 1) · s / √2, with t(0.975, 1) = 12.706.
    const s = Math.abs(at100.differences[0]! - at100.differences[1]!) / Math.SQRT2;
    assert.ok(Math.abs(at100.interval.mean - 0.02) < 1e-12);
    assert.ok(Math.abs(at100.interval.halfWidth - (12.7062 * s) / Math.SQRT2) < 1e-5);

    // The other way round the signs flip; a key that names no row is an error listing the rows.
    const reversed = pairedDifferences(summary, 'v3|', 'm1m2|').byLabels[0];
    assert.deepEqual([reversed?.above, reversed?.level, reversed?.below], [0, 1, 1]);
    assert.throws(() => pairedDifferences(summary, 'gumbel|', 'v3|'), /no row "gumbel\|" in the summary \(rows: "v3\|", "m1m2\|"\)/);

    // The README's pairs are those of TABLE_PAIRS whose two rows are in the table: here only M1+M2 − v3.
    const pairs = tablePairs(summary);
    assert.deepEqual(
      pairs.map((p) => [p.a, p.b]),
      [[paired.a, paired.b]],
    );
    const text = pairedMarkdown(pairs, [100, 600]);
    assert.ok(text.includes(`| ${paired.a} | ${paired.b} | +2.00 ± 25.41 (1 above, 1 level) | — |`), text);
    assert.ok(text.includes(`- ${paired.a} minus ${paired.b}: N = 100: +4.00, 0.00 (seeds 1, 2)`), text);
    assert.ok(
      pairedDifferencesHtml(pairs, [100, 600]).includes(
        '<td style="text-align:right">+2.00 ± 25.41 (1 above, 1 level)</td><td style="text-align:right">—</td></tr>',
      ),
      'the HTML table has the same cells, N columns right-aligned',
    );
    const block = resultsMarkdown(summary, ['plans/paired.json'], loadComparison(root), pairs);
    assert.ok(block.indexOf('**Paired differences.**') > block.indexOf('**Table 1.**'));
    assert.ok(block.indexOf('**Paired differences.**') < block.indexOf('**Every group of runs:**'));
    assert.ok(!resultsMarkdown(summary, ['plans/paired.json'], loadComparison(root)).includes('Paired differences'));
  });

  test("the project's table plans exist and name M2 variants; the README block holds both tables", () => {
    for (const file of TABLE_PLANS) assert.ok(fs.existsSync(path.join(plansDir(), file)), `plans/${file} is missing`);
    const root = tempDir('table-one-readme');
    writeRun(root, 'default', { variant: 'baseline', labels: 100, seed: 0 }, 0.76);
    writeRun(root, 'default_lr-0.001', { variant: 'baseline', labels: 100, seed: 0, lr: 1e-3 }, 0.7);
    const text = resultsMarkdown(tableOneSummary(root), ['plans/a.json', 'plans/b.json'], loadComparison(root));
    const [tableOne = '', everyGroup = ''] = text.split('**Every group of runs:**');
    assert.ok(tableOne.startsWith('**Table 1.**') && tableOne.includes('(`plans/a.json`, `plans/b.json`)'));
    assert.match(tableOne, /of the 1 finished runs \(of \d+ planned\)/);
    assert.ok(tableOne.includes('| Classifier on labels only | This project | 76.00 (1 seed) |'));
    assert.ok(tableOne.includes('| Classifier on labels only | Pyro SS-VAE tutorial | 77.12 ± 1.59 |'), 'published rows beside Table 1');
    assert.ok(!tableOne.includes('lr 0.001') && !tableOne.includes('Settings other than the defaults'));
    assert.equal(rowSettingsHtml(tableOneSummary(root)), '', 'no notes when every row uses the defaults');
    assert.ok(everyGroup.includes('the 2 finished run records'));
    assert.ok(everyGroup.includes('| Classifier on labels only; lr 0.001 | This project | 70.00 (1 seed) |'));
    assert.ok(!everyGroup.includes('Pyro SS-VAE tutorial'), 'the published rows are not repeated');
  });
});
