/**
 * The results notebooks (07 comparison, 08 latent space, 09 generation), 10 (M1+M2) and 11 (likelihood) execute under
 * SSVAE_PROFILE=smoke from fresh tslab kernels through scripts/export.js, and each handout shows
 * the figures that notebook must produce, by id, with no error output.
 *
 * They run in one export, in order, so 09 loads the small M2 that 08 trained into data/cache/.
 * Takes a minute or two; SSVAE_SKIP_NOTEBOOK_TESTS=1 skips it where Python is unavailable.
 */
import { strict as assert } from 'node:assert';
import { smokeExport } from './smoke-export';
import { before, describe, test } from 'node:test';
import { figureMarkup } from './handouts';

const NOTEBOOKS = ['07-comparison', '08-latent-space', '09-generation', '10-m1-m2', '11-likelihood'];

/** The PNG inside a figure: its bytes, width and height. */
function figurePng(markup: string): { bytes: Buffer; width: number; height: number } {
  const match = markup.match(/<img[^>]*src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/);
  assert.ok(match, 'the figure holds no data:image/png image');
  const bytes = Buffer.from(match[1] as string, 'base64');
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG');
  return { bytes, width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function assertNoErrors(html: string, name: string): void {
  assert.ok(!html.includes('data-mime-type="application/vnd.jupyter.stderr"'), `${name}: the handout contains error or stderr output`);
  assert.ok(!/class="[^"]*\b(output_error|traceback)\b/.test(html), `${name}: the handout contains an error output`);
}

describe(
  'exporting the results notebooks (smoke profile)',
  { skip: process.env.SSVAE_SKIP_NOTEBOOK_TESTS === '1' ? 'SSVAE_SKIP_NOTEBOOK_TESTS=1' : false },
  () => {
    const html: Record<string, string> = {};

    before(() => {
      const handouts = smokeExport();
      for (const name of NOTEBOOKS) html[name] = handouts.html(name);
    });

    test('07: the comparison table holds the published numbers for every N', () => {
      const table = figureMarkup(html['07-comparison'] as string, 'comparison-table');
      assert.ok(table, 'no <figure id="comparison-table">');
      for (const n of [100, 600, 1000, 3000]) assert.ok(table.includes(`N = ${n}`), `no column N = ${n}`);
      // Pyro's variant 3 at N = 100 (0.9319 ± 0.0060) and Kingma et al.'s M2 at N = 100 (11.97% error).
      assert.ok(table.includes('93.19 ± 0.60'), 'Pyro variant 3 at N = 100 missing');
      assert.ok(table.includes('88.03 ± 1.71'), 'Kingma M2 at N = 100 missing');
      assert.ok(figureMarkup(html['07-comparison'] as string, 'other-references'), 'no <figure id="other-references">');
    });

    test('07: Table 1 holds the planned runs, one row per method; every group, round 1 included, is listed after it', () => {
      const page = html['07-comparison'] as string;
      const table = figureMarkup(page, 'comparison-table') as string;
      const every = figureMarkup(page, 'all-groups') ?? '';
      assert.ok(every.includes('<table class="ssvae-comparison">'), 'no <figure id="all-groups"> with a table');
      // The committed records include round 1's runs: a group of their own, not a row of Table 1.
      assert.ok(every.includes('preset round-1') && !table.includes('preset round-1'));
      assert.ok(!every.includes('Pyro SS-VAE tutorial'), 'the published rows are shown once, in Table 1');
      // M1+M2's settings differ by N in its plan, so the notes list them.
      assert.match(
        page,
        /<li>M1\+M2: variant 3 on M1's features: N = 100: epochs 100, hidden 300, schedule alternating, m1\.klWarmup 20; N = [^<]*<\/li>/,
      );
    });

    test('07: the accuracy chart is an inline SVG with axis titles and a legend', () => {
      const chart = figureMarkup(html['07-comparison'] as string, 'accuracy-vs-labels');
      assert.ok(chart, 'no <figure id="accuracy-vs-labels">');
      assert.match(chart, /<svg[\s>]/);
      for (const text of [
        'Test accuracy',
        'Labelled training images N',
        'Method',
        'Pyro SS-VAE tutorial: M2, summed out + aux loss (variant 3)',
      ]) {
        assert.ok(chart.includes(text), `chart lacks "${text}"`);
      }
    });

    test('07: the bound against accuracy is a chart of the N = 100 runs, with the pairs it orders counted; restarts and averaging are tables', () => {
      const page = html['07-comparison'] as string;
      const chart = figureMarkup(page, 'bound-vs-accuracy');
      // The committed records hold five seeds of variant 3 at N = 100.
      assert.ok(chart, 'no <figure id="bound-vs-accuracy">');
      assert.match(chart, /<svg[\s>][\s\S]*role="graphics-symbol"/);
      assert.ok(chart.includes('nats per image'), 'the chart has no x-axis title');
      assert.match(page, /N = 100, M2, summed out \+ classification term \(variant 3\): \d+ of \d+ pairs of runs ordered alike/);
      const choices = figureMarkup(page, 'restart-choices');
      assert.ok(
        page.includes('No subset has been trained from more than one start yet.') || choices?.includes('<table class="ssvae-restarts">'),
        'no table of restart choices',
      );
      const averaged = figureMarkup(page, 'averaging');
      assert.ok(
        page.includes('No run has averaged its weights yet.') || averaged?.includes('<table class="ssvae-averaging">'),
        'no table of the runs with averaged weights',
      );
    });

    test('07: the ELBO-surgery split adds up on its made-up batch, and the class-balance runs are a table', () => {
      const page = html['07-comparison'] as string;
      const prior = /mean KL\(q\(y\|x\) ‖ p\(y\)\) = ([\d.]+)/.exec(page);
      const parts = /mean KL\(q\(y\|x\) ‖ q̄\(y\)\) \+ KL\(q̄\(y\) ‖ p\(y\)\) = ([\d.]+) \+ ([\d.]+) = ([\d.]+)/.exec(page);
      assert.ok(prior && parts, 'the split is not printed');
      const [toMean, balance, sum] = parts.slice(1).map(Number) as [number, number, number];
      assert.ok(balance > 0 && toMean > balance, `both parts are positive, the image's the larger: ${toMean} and ${balance}`);
      assert.ok(Math.abs(sum - Number(prior[1])) <= 2e-5, `${prior[1]} against ${sum}`);
      const table = figureMarkup(page, 'class-balance');
      assert.ok(
        page.includes('No labelled subset at N = 100 has been trained with the penalty yet.') ||
          table?.includes('<table class="ssvae-balance">'),
        'no table of the class-balance runs',
      );
    });

    test('07: the t quantiles and the comparison with Pyro are HTML tables, not console text', () => {
      const page = html['07-comparison'] as string;
      const quantiles = figureMarkup(page, 't-quantiles');
      assert.ok(quantiles?.includes('<table') && quantiles.includes('2.7764'), 'no t-quantile table with t(0.975, 4) = 2.7764');
      const differences = figureMarkup(page, 'published-differences');
      assert.ok(
        page.includes('No runs to compare yet.') || differences?.includes('<table class="ssvae-differences">'),
        'no table of differences',
      );
    });

    test('07: rows of Table 1 compared on their shared subsets, with the numeric check of mean and spread', () => {
      const page = html['07-comparison'] as string;
      const paired = figureMarkup(page, 'paired-differences');
      // The committed records hold five seeds of variant 3 and of the classifier on labels only at every N.
      assert.ok(paired?.includes('<table class="ssvae-paired">'), 'no <figure id="paired-differences"> with a table');
      assert.match(
        paired ?? '',
        /M2, summed out \+ classification term \(variant 3\)<\/td><td>Classifier on labels only<\/td>(<td[^>]*>[^<]*\(5 above\)<\/td>){4}/,
      );
      assert.ok(page.includes('<table class="ssvae-paired-check">'), 'no table of the numeric check');
    });

    test('07: every seed of each group with three or more is a row of an HTML table', () => {
      const page = html['07-comparison'] as string;
      const seeds = figureMarkup(page, 'seeds');
      assert.ok(page.includes('No group has three seeds yet.') || seeds?.includes('<table class="ssvae-seeds">'), 'no table of seeds');
      if (seeds) assert.ok((seeds.match(/<tr>/g) ?? []).length >= 4, 'a header and at least three seeds');
    });

    test('07: without runs the notebook says so plainly; with runs it shows their provenance', () => {
      const page = html['07-comparison'] as string;
      assert.ok(
        page.includes('No finished runs yet') || figureMarkup(page, 'run-provenance'),
        'neither the no-runs note nor the provenance table',
      );
    });

    test('08: both t-SNE scatter plots, coloured by digit with a legend', () => {
      for (const id of ['tsne-vae', 'tsne-m2']) {
        const chart = figureMarkup(html['08-latent-space'] as string, id);
        assert.ok(chart, `no <figure id="${id}">`);
        assert.match(chart, /<svg[\s>]/);
        assert.ok(chart.includes('t-SNE dimension 1') && chart.includes('t-SNE dimension 2'), `${id}: axis titles missing`);
        assert.ok(chart.includes('>Digit</text>'), `${id}: no "Digit" legend`);
        for (let d = 0; d <= 9; d++) assert.ok(chart.includes(`>${d}</text>`), `${id}: no legend entry for ${d}`);
        // The smoke profile embeds 300 points; one circle (path) each, plus the legend's.
        assert.ok((chart.match(/<path/g) ?? []).length >= 300, `${id}: too few points`);
        // Each point's tooltip names its digit and the class q(y|x) predicts.
        assert.ok(
          (chart.match(/<title>digit \d, predicted \d \(point \d+\)<\/title>/g) ?? []).length >= 300,
          `${id}: points without a tooltip`,
        );
      }
    });

    test('09: conditional samples, analogies and interpolation as PNG grids of the right size', () => {
      const page = html['09-generation'] as string;
      // Grid cells are 28 px digits plus 2 px lines, at scale 2: (28 + 2) · 2 = 60 px per cell.
      const expected: Record<string, [columns: number, rows: number]> = {
        'conditional-samples': [10, 10],
        analogies: [11, 8],
        interpolation: [10, 10],
        'interpolation-ends': [2, 1],
        'prior-samples': [10, 4],
      };
      for (const [id, [columns, rows]] of Object.entries(expected)) {
        const markup = figureMarkup(page, id);
        assert.ok(markup, `no <figure id="${id}">`);
        const png = figurePng(markup);
        assert.equal(png.width, columns * 60 + 4, `${id}: width`);
        assert.equal(png.height, rows * 60 + 4, `${id}: height`);
      }
    });

    test('11: the likelihood tables with falling bounds beside CS236, the bound-vs-m chart, samples from both priors', () => {
      const page = html['11-likelihood'] as string;
      const table = figureMarkup(page, 'likelihood-table');
      assert.ok(table, 'no <figure id="likelihood-table">');
      // Our VAE and GMVAE rows: −IWAE for m = 1, 10, 100 (the smoke profile's counts) never rise with m.
      for (const model of ['VAE', 'GMVAE']) {
        const row = new RegExp(`<tr><td>${model}</td><td>ours</td>(.*?)</tr>`).exec(table);
        assert.ok(row, `no row of our ${model}`);
        const numbers = [...(row[1] as string).matchAll(/<td[^>]*>(\d+\.\d\d)<\/td>/g)].map((m) => Number(m[1]));
        // −ELBO, KL, −log p(x|z), then −IWAE at m = 1, 10, 100.
        assert.equal(numbers.length, 6, `${model}: ${numbers}`);
        const [nelbo, kl, rec, m1, m10, m100] = numbers as [number, number, number, number, number, number];
        assert.ok(Math.abs(nelbo - kl - rec) < 0.02, `${model}: −ELBO ${nelbo} ≠ KL ${kl} + reconstruction ${rec}`);
        assert.ok(m1 >= m10 && m10 >= m100, `${model}: −IWAE ${m1}, ${m10}, ${m100} should not rise with m`);
      }
      assert.ok(table.includes('95.62 ± 0.42'), "CS236's VAE at m = 1000 missing");
      const chart = figureMarkup(page, 'iwae-curve');
      assert.ok(chart && /<svg[\s>]/.test(chart), 'no bound-vs-m chart');
      for (const id of ['samples-vae', 'samples-gmvae']) {
        const grid = figureMarkup(page, id);
        assert.ok(grid, `no <figure id="${id}">`);
        assert.deepEqual([figurePng(grid).width, figurePng(grid).height], [12 * 60 + 4, 4 * 60 + 4], `${id}: 12 × 4 digits`);
      }
      const m2 = figureMarkup(page, 'm2-likelihood-table');
      assert.ok(m2 && m2.includes('M2 v2, N = 100') && m2.includes('M2 v3, N = 100'), 'no M2 rows');
      assert.ok(figureMarkup(page, 'recorded-likelihood'), 'no <figure id="recorded-likelihood">');
    });

    test("10: M1 curve and dimensions, 5-NN on pixels and on M1's code, the four-method comparison, the labels' weight by schedule, three t-SNE plots and digits drawn through both decoders", () => {
      const page = html['10-m1-m2'] as string;
      for (const id of ['m1-elbo', 'm1-dimensions', 'm1m2-accuracy', 'm1m2-schedules', 'tsne-m1', 'tsne-m1m2', 'tsne-m2']) {
        const chart = figureMarkup(page, id);
        assert.ok(chart, `no <figure id="${id}">`);
        assert.match(chart, /<svg[\s>]/, `${id}: no chart`);
      }
      // The smoke profile's 2,000 training images leave N = 100 and 600: mixed gives α′ = 0.1·n/N itself.
      const weights = figureMarkup(page, 'label-weight');
      assert.ok(weights, 'no <figure id="label-weight">');
      assert.match(weights, /<td[^>]*>100<\/td>\s*<td[^>]*>2\.000<\/td>/, 'label-weight: mixed at N = 100 should weigh 0.1 · 2000 / 100');
      // spread: α′ · N / (9 unlabelled batches of 200) = 2 · 100 / 1800.
      assert.match(
        weights,
        /<td[^>]*>100<\/td>(\s*<td[^>]*>[\d.]+<\/td>){2}\s*<td[^>]*>0\.111<\/td>/,
        'label-weight: spread at N = 100 should weigh 2 · 100 / 1800',
      );
      const knn = figureMarkup(page, 'm1-knn');
      assert.ok(knn, 'no <figure id="m1-knn">');
      // Pixels and M1's code, each with its number of dimensions and an accuracy in percent.
      assert.match(knn, /<td[^>]*>pixels<\/td>\s*<td[^>]*>784<\/td>\s*<td[^>]*>\d{1,3}\.\d\d<\/td>/, 'm1-knn: no row for the pixels');
      assert.match(
        knn,
        /<td[^>]*>M1(’|'|&#39;|&#x27;)s code, kept dimensions<\/td>\s*<td[^>]*>\d+<\/td>\s*<td[^>]*>\d{1,3}\.\d\d<\/td>/,
        "m1-knn: no row for M1's code",
      );
      const table = figureMarkup(page, 'm1m2-table');
      assert.ok(table, 'no <figure id="m1m2-table">');
      // Four methods, each with a validation and a test accuracy in percent.
      assert.equal((table.match(/<td[^>]*>\d{1,3}\.\d\d<\/td>/g) ?? []).length, 8, 'm1m2-table: 4 × 2 accuracies');
      const grid = figureMarkup(page, 'm1m2-conditional');
      assert.ok(grid, 'no <figure id="m1m2-conditional">');
      const png = figurePng(grid);
      assert.deepEqual([png.width, png.height], [10 * 60 + 4, 10 * 60 + 4], 'm1m2-conditional: a 10 × 10 grid of 28-px digits');
      const check = /log p\(z₁ \| y = \d, z₂\) over \d+ features: (-?[\d.]+) by hand, (-?[\d.]+) by the library/.exec(page);
      assert.ok(check, 'no numeric check of the Gaussian log density');
      assert.ok(Math.abs(Number(check[1]) - Number(check[2])) < 1e-2, `by hand ${check[1]}, by the library ${check[2]}`);
    });

    test('the handouts have no error or stderr output', () => {
      for (const name of NOTEBOOKS) assertNoErrors(html[name] as string, name);
    });
  },
);
