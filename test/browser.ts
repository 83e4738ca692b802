/**
 * Shared by the browser tests: the system's Chromium driven by playwright-core (no browser is ever
 * downloaded), and where the screenshots go.
 *
 * The code that runs in the page is typed with the DOM library, hence the reference below.
 */
/// <reference lib="dom" />
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { DEBIAN_CHROMIUM, resolveChromium } from '../scripts/setup-system';

export const ROOT = path.resolve(__dirname, '..');
/** Screenshots and other things to look at after a run (git ignores the directory). */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
/**
 * The browser, found as scripts/setup-system.js finds it (which `npm test` and .ci/run run first):
 * SSVAE_CHROMIUM (an error if that file does not exist), else /usr/bin/chromium, else a Chromium
 * or Chrome on PATH; Debian's /usr/bin/chromium when there is none.
 */
export function chromiumPath(): string {
  return resolveChromium() ?? DEBIAN_CHROMIUM;
}

/**
 * Why the browser tests are skipped, or false. They need Python (the .venv with Jupyter, like the
 * notebook tests) and Chromium; a missing Chromium is a failure, not a skip, unless
 * SSVAE_SKIP_BROWSER_TESTS=1 says so.
 */
export function browserTestsSkipped(): string | false {
  if (process.env.SSVAE_SKIP_NOTEBOOK_TESTS === '1') return 'SSVAE_SKIP_NOTEBOOK_TESTS=1';
  if (process.env.SSVAE_SKIP_BROWSER_TESTS === '1') return 'SSVAE_SKIP_BROWSER_TESTS=1';
  return false;
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!fs.existsSync(executablePath)) {
    throw new Error(
      `${executablePath} does not exist: run \`node scripts/setup-system.js\` (it installs Chromium or says how), point SSVAE_CHROMIUM at a Chromium, or set SSVAE_SKIP_BROWSER_TESTS=1`,
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    // Playwright gives each launch a fresh temporary profile (--user-data-dir) and removes it.
    args: [
      '--headless',
      '--no-sandbox', // as root in a container there is no user namespace for the sandbox
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
}

/** A path under test-artifacts/ for a screenshot, with its directory made. */
export function artifactPath(...parts: string[]): string {
  const file = path.join(ARTIFACTS, ...parts);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return file;
}

/** A page (a file) in a fresh offline context that refuses every request outside the file and notes what went wrong. */
export async function openOffline(browser: Browser, file: string, viewport = { width: 1100, height: 900 }) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, offline: true });
  const requested: string[] = [];
  await context.route(/^(?!file:|data:|blob:|about:)/i, (route) => {
    requested.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url().slice(0, 120)} (${request.failure()?.errorText})`));
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  } catch (err) {
    await context.close();
    throw err;
  }
  return { context, page, requested, problems };
}
