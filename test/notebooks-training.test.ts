/**
 * Notebooks 01–06 (the VAE, the M2 model, the three variants, the relaxed and control-variate
 * estimators of 04b, and the baseline) executed from a
 * fresh tslab kernel under SSVAE_PROFILE=smoke through scripts/export.js, as CI runs them: each
 * handout must show every figure its notebook promises (by id, with an SVG chart or a PNG
 * image inside), print a line per training epoch, and hold no error or stderr output.
 *
 * Runs found in data/cache/ are reused (smoke runs are cached under their own key, a subset of
 * MNIST, so they never stand in for real runs). Set SSVAE_SKIP_NOTEBOOK_TESTS=1 to skip.
 */
import { strict as assert } from 'node:assert';
import { rerunLines, smokeExport } from './smoke-export';
import { before, describe, test } from 'node:test';
import { figureMarkup } from './handouts';

type Kind = 'svg' | 'png' | 'table';

/** What each notebook's handout must show: figure id → SVG chart, PNG image or HTML table. */
const NOTEBOOKS: Record<string, { figures: Record<string, Kind>; trains: boolean }> = {
  '01-vae-elbo': { figures: { 'vae-elbo-curve': 'svg', 'vae-reconstructions': 'png', 'vae-samples': 'png' }, trains: true },
  '02-m2-model': { figures: { 'm2-gradient-flow': 'svg' }, trains: false },
  '03-variant1-sampled': {
    figures: {
      'v1-loss-terms': 'svg',
      'v1-accuracy': 'svg',
      'v1-predicted-classes': 'svg',
      'v1-gradient-snr': 'svg',
      'v1-gradient-cosine': 'svg',
    },
    trains: true,
  },
  // The comparison figures read the runs of the notebooks before, which the export runs first.
  '04-variant2-summed': {
    figures: { 'v2-loss-terms': 'svg', 'v2-accuracy': 'svg', 'v2-confusion': 'svg', 'v1-v2-accuracy': 'svg' },
    trains: true,
  },
  '04b-relaxed-y': {
    figures: {
      'relaxed-gradient-snr': 'svg',
      'relaxed-accuracy': 'svg',
      'relaxed-snr-trained': 'svg',
      'relaxed-cost': 'svg',
      'active-units': 'svg',
      'kl-profile': 'svg',
    },
    trains: true,
  },
  '05-variant3-aux': {
    figures: {
      'v3-loss-terms': 'svg',
      'v3-accuracy': 'svg',
      'v3-confusion': 'svg',
      'v2-v3-accuracy': 'svg',
      'alpha-sweep-curves': 'svg',
      'alpha-sweep': 'svg',
      'scarce-curves': 'svg',
      'scarce-table': 'table',
      'alpha-per-image': 'table',
    },
    trains: true,
  },
  '06-baseline': {
    figures: {
      'baseline-loss': 'svg',
      'baseline-accuracy': 'svg',
      'baseline-confusion': 'svg',
      'baseline-by-labels': 'svg',
      'baseline-vs-m2': 'svg',
    },
    trains: true,
  },
};

describe(
  'exporting notebooks 01–06 under the smoke profile',
  { skip: process.env.SSVAE_SKIP_NOTEBOOK_TESTS === '1' ? 'SSVAE_SKIP_NOTEBOOK_TESTS=1' : false },
  () => {
    let log = '';
    const html: Record<string, string> = {};

    before(() => {
      const handouts = smokeExport();
      log = handouts.log;
      for (const name of Object.keys(NOTEBOOKS)) html[name] = handouts.html(name);
    });

    // The budget is on the CPU seconds of Run All (nbconvert and its kernel, from the line of the
    // export's second pass), not on the wall time, which grows with whatever else shares the
    // machine's cores.
    test('each notebook stays within the smoke budget of two minutes of CPU', () => {
      const lines = rerunLines(log);
      for (const name of Object.keys(NOTEBOOKS)) {
        const line = lines.find((l) => l.notebook === `notebooks/${name}.ipynb`);
        assert.ok(line, `no timing line for ${name}`);
        assert.ok(line.runAllCpuSeconds < 120, `${name} used ${line.runAllCpuSeconds} s of CPU`);
      }
    });

    for (const [name, { figures, trains }] of Object.entries(NOTEBOOKS)) {
      test(`${name}: every figure is there, with its chart or image inside`, () => {
        for (const [id, kind] of Object.entries(figures)) {
          const markup = figureMarkup(html[name] as string, id);
          assert.ok(markup, `${name}: no <figure id="${id}">`);
          assert.match(markup, /<figcaption>[^<]+<\/figcaption>/, `${name}: figure ${id} has no caption`);
          if (kind === 'table') {
            assert.match(markup, /<table[\s>][\s\S]*<td[\s>]/, `${name}: figure ${id} holds no table with cells`);
          } else if (kind === 'svg') {
            assert.match(markup, /<svg[\s>][\s\S]*<\/svg>/, `${name}: figure ${id} holds no SVG chart`);
            // A chart with marks, not an empty frame: at least one drawn path or symbol.
            assert.match(markup, /role="graphics-symbol"/, `${name}: figure ${id} draws no marks`);
          } else {
            const png = markup.match(/<img[^>]*src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/);
            assert.ok(png, `${name}: figure ${id} holds no PNG image`);
            const bytes = Buffer.from(png[1] as string, 'base64');
            assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${name}: figure ${id} is not a PNG`);
          }
        }
      });

      test(`${name}: no error or stderr output${trains ? ', and a line per training epoch' : ''}`, () => {
        const page = html[name] as string;
        assert.ok(
          !page.includes('data-mime-type="application/vnd.jupyter.stderr"'),
          `${name}: the handout contains error or stderr output`,
        );
        assert.ok(!/class="[^"]*\b(output_error|traceback)\b/.test(page), `${name}: the handout contains an error output`);
        if (trains) assert.match(page, /epoch 1\/\d+ /, `${name}: no per-epoch progress line`);
      });
    }

    test('log-scale bar charts draw bars of non-zero height', () => {
      for (const [name, id] of [
        ['02-m2-model', 'm2-gradient-flow'],
        ['03-variant1-sampled', 'v1-gradient-snr'],
      ] as const) {
        const bars = [
          ...(figureMarkup(html[name] as string, id) ?? '').matchAll(
            /aria-roledescription="bar" d="M[\d.e-]+,[\d.e-]+h[\d.e-]+v([\d.e-]+)/g,
          ),
        ];
        assert.ok(bars.length > 0, `${name}: no bars in ${id}`);
        assert.ok(
          bars.some((m) => Number(m[1]) > 1),
          `${name}: every bar of ${id} is flat`,
        );
      }
    });

    test('the handouts load nothing from the network', () => {
      for (const [name, page] of Object.entries(html)) {
        const external = page.match(/<(?:script|link|img)\b[^>]*\b(?:src|href)="(?:https?:)?\/\/[^"]*"/g) ?? [];
        assert.deepEqual(external, [], name);
      }
    });
  },
);
