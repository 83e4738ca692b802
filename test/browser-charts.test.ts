/**
 * The charts' two interactions, in Chromium: hovering a t-SNE point shows its tooltip (an SVG
 * <title>, no script), and clicking a run in the legend of a training-curve chart highlights it.
 */
/// <reference lib="dom" />
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { embeddingScatterSpec, figureHtml, renderSvg, runsComparisonSpec, type RunRecord } from 'ssvae';
import { artifactPath, browserTestsSkipped, launchChromium, openOffline } from './browser';
import { tempDir } from './helpers';

/** A run record with the given validation accuracies, enough for the comparison chart. */
function recordOf(accuracies: number[]): RunRecord {
  return {
    epochs: accuracies.map((a, i) => ({ epoch: i + 1, seconds: 1, losses: {}, validationAccuracy: a, testAccuracy: a })),
  } as unknown as RunRecord;
}

describe('interactive charts in Chromium', { skip: browserTestsSkipped() }, () => {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('clicking a run in the legend fades the other runs; a second click brings them back; t-SNE points carry tooltips', async () => {
    assert.ok(browser);
    const curves = await renderSvg(
      runsComparisonSpec([
        { label: 'v2', record: recordOf([0.5, 0.6, 0.7]) },
        { label: 'v3', record: recordOf([0.6, 0.8, 0.9]) },
      ]),
    );
    const scatter = await renderSvg(embeddingScatterSpec(Float32Array.from([0, 0, 1, 1, 2, 0]), [3, 5, 3], { predicted: [3, 6, 3] }));
    const file = path.join(tempDir('charts-page'), 'charts.html');
    fs.writeFileSync(
      file,
      `<!doctype html><html><head><meta charset="utf-8"></head><body>${figureHtml('curves', 'Two runs.', curves)}${figureHtml('points', 'Three points.', scatter)}</body></html>`,
    );
    const { context, page, requested, problems } = await openOffline(browser, file);
    try {
      const opacities = () =>
        page.evaluate(() =>
          Array.from(document.querySelectorAll('#curves [aria-roledescription="line mark"]')).map((line) => [
            line.getAttribute('aria-label'),
            getComputedStyle(line).opacity,
          ]),
        );
      assert.deepEqual(await opacities(), [
        ['v2', '1'],
        ['v3', '1'],
      ]);
      const entry = page.locator('#curves .role-legend-entry .role-scope > g', { hasText: 'v3' });
      await entry.click();
      assert.deepEqual(await opacities(), [
        ['v2', '0.12'],
        ['v3', '1'],
      ]);
      await page.screenshot({ path: artifactPath('charts', 'legend-selected.png') });
      await entry.click();
      assert.deepEqual(await opacities(), [
        ['v2', '1'],
        ['v3', '1'],
      ]);
      // The tooltip is the point's <title>, which the browser shows on hover.
      const titles = await page.evaluate(() => Array.from(document.querySelectorAll('#points path > title')).map((t) => t.textContent));
      assert.deepEqual(titles, ['digit 3, predicted 3 (point 1)', 'digit 5, predicted 6 (point 2)', 'digit 3, predicted 3 (point 3)']);
      assert.deepEqual(problems, []);
      assert.deepEqual(requested, []);
    } finally {
      await context.close();
    }
  });
});
