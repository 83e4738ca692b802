/**
 * The HTML handouts as a student opens them: every notebook is exported (with
 * SSVAE_PROFILE=smoke, so training notebooks stay short) into a temporary directory, and each
 * page is opened from disk in headless Chromium with every network request refused. A page
 * passes when its figures (img and svg) have a size, its formulas were typeset (no TeX left
 * in the text of its Markdown cells) and it logged no error. A full-page screenshot of each
 * goes to test-artifacts/handouts/.
 *
 * The first tests check the formula finder of the export (scripts/handout-math.js) on its own.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { smokeExport } from './smoke-export';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { artifactPath, browserTestsSkipped, launchChromium, openOffline } from './browser';
import { formulaCount, networkReferences } from './handouts';
import { quantisedDecoder, type ExplorerData, type ExplorerHandle } from 'ssvae';

interface Formula {
  tex: string;
  display: boolean;
}
const { findMath, protectMath, putFormulas, katexStyle } = require('../scripts/handout-math') as {
  findMath(markdown: string): Formula[];
  protectMath(notebook: unknown): {
    notebook: { cells: { source: string }[] };
    formulas: (Formula & { placeholder: string; html: string })[];
  };
  putFormulas(html: string, formulas: unknown[]): string;
  katexStyle(): string;
};
const { listNotebooks } = require('../scripts/export') as { listNotebooks(): string[] };

const formulas = (markdown: string) => findMath(markdown).map(({ tex, display }) => [tex, display]);

describe('finding the TeX in Markdown', () => {
  test('inline and display delimiters, as JupyterLab reads them', () => {
    assert.deepEqual(formulas('a $x_1$ and \\\\(y^2\\\\), then\n$$\n\\sum_i z_i\n$$\nand \\\\[w\\\\]'), [
      ['x_1', false],
      ['y^2', false],
      ['\n\\sum_i z_i\n', true],
      ['w', true],
    ]);
    assert.deepEqual(formulas('\\begin{align} a &= b \\\\ c &= d \\end{align}'), [
      ['\\begin{align} a &= b \\\\ c &= d \\end{align}', true],
    ]);
  });

  test('code, escaped dollars and lone dollars are not formulas', () => {
    assert.deepEqual(formulas('costs \\$5, or \\$6'), []);
    assert.deepEqual(formulas('`$x$` and ``a`$y$`` are code'), []);
    assert.deepEqual(formulas('```ts\nconst s = `${a} $b$`;\n```\nbut $c$ is math'), [['c', false]]);
    assert.deepEqual(formulas('$5 in one paragraph\n\nand $6 in the next'), []);
    assert.deepEqual(formulas('an empty $$ pair'), []);
    assert.deepEqual(formulas('a \\$ inside $\\$x$ math'), [['\\$x', false]]);
  });

  test('placeholders go through and come back as KaTeX markup, as text in attributes', () => {
    const notebook = {
      cells: [
        { cell_type: 'markdown', source: '## The case $k=1$\n\n$$\\frac{a}{b}$$' },
        { cell_type: 'code', source: 'const $x$ = 1;' },
      ],
    };
    const { notebook: copy, formulas: found } = protectMath(notebook);
    assert.equal(found.length, 2);
    assert.ok(!copy.cells[0]!.source.includes('$'), copy.cells[0]!.source);
    assert.equal(copy.cells[1]!.source, 'const $x$ = 1;');
    const [inline, display] = found as [(typeof found)[number], (typeof found)[number]];
    const html = `<h2 id="The-case-${inline.placeholder}">The case ${inline.placeholder}</h2><p>${display.placeholder}</p>`;
    const out = putFormulas(html, found);
    assert.match(out, /^<h2 id="The-case-k=1">The case <span class="katex">/);
    assert.match(out, /<p><span class="katex-display">/);
    assert.throws(() => putFormulas('<p>nothing</p>', found), /dropped 2 formula/);
  });

  test('bad TeX fails with the cell it is in', () => {
    assert.throws(
      () =>
        protectMath({
          cells: [
            { cell_type: 'markdown', source: 'fine' },
            { cell_type: 'markdown', source: 'broken $\\frac{1}{$' },
          ],
        }),
      /Markdown cell 2: KaTeX cannot typeset \$\\frac\{1\}\{\$/,
    );
  });

  test("KaTeX's style sheet carries its fonts", () => {
    const style = katexStyle();
    assert.ok(!/url\((?!data:)/.test(style), 'a url() that is not a data: URL');
    assert.ok((style.match(/url\(data:font\/woff2;base64,/g) ?? []).length >= 15);
  });
});

const notebooks = listNotebooks();
const stems = notebooks.map((file) => path.basename(file, '.ipynb'));

/** Resources a page would fetch from the network, by what the page says. */
interface PageReport {
  graphics: { tag: string; where: string; width: number; height: number; loaded: boolean }[];
  figures: { id: string; shown: number }[];
  rawTex: string[];
  katex: number;
  katexErrors: number;
  placeholders: number;
  fonts: { family: string; status: string }[];
}

describe('the handouts in Chromium', { skip: browserTestsSkipped() }, () => {
  let outDir = '';
  let browser: Browser | undefined;

  before(async () => {
    const started = Date.now();
    const handouts = smokeExport();
    outDir = handouts.dir;
    console.log(
      `# ${handouts.ran ? 'exported' : 'reused the export of'} ${stems.length} notebook(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  test('there is a handout for every notebook, and the index links to each', () => {
    const written = fs
      .readdirSync(outDir)
      .filter((name) => name.endsWith('.html'))
      .sort();
    assert.deepEqual(written, [...stems.map((stem) => `${stem}.html`), 'index.html'].sort());
    const index = fs.readFileSync(path.join(outDir, 'index.html'), 'utf8');
    const links = [...index.matchAll(/<a href="([^"]+)"/g)].map((match) => decodeURI(match[1]!));
    assert.deepEqual(
      links,
      stems.map((stem) => `${stem}.html`),
    );
  });

  for (const name of [...stems, 'index']) {
    const file = () => path.join(outDir, `${name}.html`);
    const expected = name === 'index' ? 0 : formulaCount(notebooks[stems.indexOf(name)]!);

    test(`${name}.html refers to nothing on the network`, () => {
      assert.deepEqual(networkReferences(fs.readFileSync(file(), 'utf8')), []);
    });

    test(`${name}.html shows its figures and formulas in Chromium, offline and without errors`, async () => {
      assert.ok(browser, 'no browser (see the error of the export or launch above)');
      const { context, page, requested, problems } = await openOffline(browser, file());
      try {
        // Everything is inline, but decoding images and fonts still takes a moment.
        await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete), undefined, { timeout: 30_000 });
        await page.evaluate(async () => {
          await document.fonts.ready;
        });

        const report: PageReport = await page.evaluate(() => {
          const whereIs = (el: Element) => {
            const figure = el.closest('figure');
            const cell = el.closest('.jp-Cell');
            if (figure?.id) return `figure#${figure.id}`;
            const cells = Array.from(document.querySelectorAll('.jp-Cell'));
            return cell ? `cell ${cells.indexOf(cell) + 1}` : (el.parentElement?.tagName.toLowerCase() ?? '?');
          };
          // Outermost svg elements (an svg inside an svg is part of its parent's drawing) and images.
          const graphics = Array.from(document.querySelectorAll('img, svg'))
            .filter((el) => el.tagName.toLowerCase() === 'img' || !el.parentElement?.closest('svg'))
            .map((el) => {
              const box = el.getBoundingClientRect();
              const img = el instanceof HTMLImageElement ? el : undefined;
              return {
                tag: el.tagName.toLowerCase(),
                where: whereIs(el),
                width: box.width,
                height: box.height,
                loaded: img ? img.complete && img.naturalWidth > 0 && img.naturalHeight > 0 : true,
              };
            });
          const figures = Array.from(document.querySelectorAll('figure')).map((figure) => ({
            id: figure.id,
            // A figure shows a chart (svg), an image (img), a table of numbers (07-comparison) or
            // canvases drawn by its script (the explorer of 09-generation).
            shown: Array.from(figure.querySelectorAll('img, svg, table, canvas')).filter((el) => {
              const box = el.getBoundingClientRect();
              return box.width > 0 && box.height > 0;
            }).length,
          }));
          // Code cells may well contain dollar signs; the Markdown is where TeX must not be left.
          const rawTex = Array.from(document.querySelectorAll('.jp-MarkdownCell'))
            .map((cell) => (cell as HTMLElement).innerText)
            .filter((text) => /\$\$|\$\\|\\\(|\\\[|\\begin\{/.test(text))
            .map((text) => text.slice(0, 300));
          const fonts: { family: string; status: string }[] = [];
          document.fonts.forEach((face) => {
            if (face.family.replace(/["']/g, '').startsWith('KaTeX')) fonts.push({ family: face.family, status: face.status });
          });
          return {
            graphics,
            figures,
            rawTex,
            katex: document.querySelectorAll('.katex').length,
            katexErrors: document.querySelectorAll('.katex-error').length,
            placeholders: (document.documentElement.outerHTML.match(/ssvaemath[0-9a-f]{12}n\d+x/g) ?? []).length,
            fonts,
          };
        });

        await page.screenshot({ path: artifactPath('handouts', `${name}.png`), fullPage: true });

        assert.deepEqual(requested, [], 'the page asked for something outside the file');
        assert.deepEqual(problems, [], 'the page logged errors');
        const flat = report.graphics.filter((g) => !(g.width > 0 && g.height > 0 && g.loaded));
        assert.deepEqual(flat, [], 'images or svg drawings that did not render with a size');
        assert.deepEqual(
          report.figures.filter((f) => f.shown === 0),
          [],
          'figures with nothing shown in them',
        );
        if (name === '00-setup') {
          assert.ok(
            report.figures.some((f) => f.id === 'digit-grid' && f.shown > 0),
            'no digit grid',
          );
          assert.ok(
            report.figures.some((f) => f.id === 'label-counts' && f.shown > 0),
            'no label-count chart',
          );
        }
        assert.deepEqual(report.rawTex, [], 'TeX left as text in Markdown cells');
        assert.equal(report.placeholders, 0, 'formula placeholders left in the page');
        assert.equal(report.katexErrors, 0, 'KaTeX error markers in the page');
        assert.equal(report.katex, expected, `${expected} formula(s) in the notebook's Markdown, ${report.katex} typeset in the page`);
        assert.deepEqual(
          report.fonts.filter((f) => f.status === 'error'),
          [],
          'KaTeX fonts that failed to load',
        );
        if (expected > 0) {
          const loaded = report.fonts.filter((f) => f.status === 'loaded').map((f) => f.family);
          assert.ok(
            loaded.some((family) => family.includes('KaTeX_Main')) && loaded.some((family) => family.includes('KaTeX_Math')),
            `KaTeX fonts in use: ${loaded.join(', ') || 'none'}`,
          );
        }
      } finally {
        await context.close();
      }
    });
  }
  test('09-generation.html: the explorer follows a digit and a slider, drawing what its inlined decoder computes', async () => {
    assert.ok(browser, 'no browser (see the error of the export or launch above)');
    const file = path.join(outDir, '09-generation.html');
    const html = fs.readFileSync(file, 'utf8');
    const json = /<script[^>]*data-role="explorer-data"[^>]*>([\s\S]*?)<\/script>/.exec(html);
    assert.ok(json, 'no explorer data in the handout');
    const data = JSON.parse(json[1]!) as ExplorerData;
    assert.ok(html.length < 2_000_000, `the handout is ${html.length} bytes, over 2 MB`);
    const decode = quantisedDecoder(data);
    const { context, page, requested, problems } = await openOffline(browser, file);
    try {
      const pixels = () =>
        page.evaluate(() => {
          const canvas = document.querySelector('#explorer canvas[data-role="live"]') as HTMLCanvasElement;
          const rgba = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          return Array.from({ length: rgba.length / 4 }, (_, i) => rgba[4 * i]!);
        });
      const state = () =>
        page.evaluate(() => (window as unknown as { ssvaeExplorers: Record<string, ExplorerHandle> }).ssvaeExplorers['explorer']!.state);
      const atStart = await pixels();
      await page.check('#explorer input[data-role="digit"][value="3"]');
      await page.locator('#explorer input[data-role="direction"][data-index="0"]').fill('2');
      const moved = await pixels();
      const s = await state();
      assert.equal(s.y, 3);
      assert.equal(s.sliders[0], 2);
      assert.ok(
        moved.some((v, i) => v !== atStart[i]),
        'the live canvas did not change',
      );
      // The canvas is the inlined decoder's output for the state shown, to the rounding of a grey level.
      const expected = Array.from(decode(s.z, s.y), (p) => Math.round(255 * (1 - p)));
      const worst = Math.max(...moved.map((v, i) => Math.abs(v - expected[i]!)));
      assert.ok(worst <= 1, `canvas and decoder differ by ${worst} grey levels`);
      await page.locator('#explorer').screenshot({ path: artifactPath('handouts', '09-explorer.png') });
      assert.deepEqual(problems, []);
      assert.deepEqual(requested, []);
    } finally {
      await context.close();
    }
  });
});
