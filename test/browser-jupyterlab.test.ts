/**
 * 00-setup as a student runs it: JupyterLab from the project's .venv, opened in headless
 * Chromium, Run > Run All Cells from the menu, then a look at what the cells showed.
 *
 * The server listens on 127.0.0.1 only, on a free port, with a random token, and serves a copy
 * of notebooks/ in build/jlab-test/ (inside the project, so `import ... from 'ssvae'` in the
 * notebook still finds node_modules/); whatever JupyterLab saves goes into the copy, never into
 * the stored notebook. Its configuration, settings, workspaces and runtime files are in a
 * temporary directory too, so the user's own JupyterLab setup plays no part. The server and its
 * kernels are stopped after the test, also when it fails. The server's log and the screenshots
 * go to test-artifacts/jupyterlab/.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { artifactPath, browserTestsSkipped, launchChromium, ROOT } from './browser';
import { formulaCount } from './handouts';

const NOTEBOOK = '00-setup.ipynb';
const NOTEBOOK_DIR = path.join(ROOT, 'notebooks');
const { setupPython } = require('../scripts/setup-python') as { setupPython(): { jupyter: string } };

/** A port on 127.0.0.1 that nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The processes below `pid` (children, grandchildren, ...), from /proc; [] where there is no /proc. */
function descendants(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const parentOf = new Map<number, number>();
  for (const entry of entries) {
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next = [...parentOf].filter(([, parent]) => frontier.includes(parent)).map(([child]) => child);
    found.push(...next);
    frontier = next;
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to the process group `pgid`, ignoring a group that is gone. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

class JupyterLab {
  readonly token = crypto.randomBytes(24).toString('hex');
  readonly home: string;
  readonly root: string;
  port = 0;
  private child: ChildProcess | undefined;
  private exited = false;
  private kernels = new Set<number>();

  constructor(readonly log: string) {
    const scratch = path.join(ROOT, 'build', 'jlab-test');
    fs.mkdirSync(scratch, { recursive: true });
    this.root = fs.mkdtempSync(path.join(scratch, 'notebooks-'));
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), 'ssvae-jlab-'));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    for (const name of fs.readdirSync(NOTEBOOK_DIR)) {
      if (name.endsWith('.ipynb') && !name.startsWith('.')) fs.copyFileSync(path.join(NOTEBOOK_DIR, name), path.join(this.root, name));
    }
    // No news feed, no update check: nothing but this server, and no pop-up over the notebook.
    const settings = path.join(this.home, 'settings', '@jupyterlab', 'apputils-extension');
    fs.mkdirSync(settings, { recursive: true });
    fs.writeFileSync(
      path.join(settings, 'notification.jupyterlab-settings'),
      JSON.stringify({ fetchNews: 'false', checkForUpdates: false }),
    );

    const { jupyter } = setupPython();
    this.port = await freePort();
    const args = [
      'lab',
      '--no-browser',
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.port=${this.port}`,
      '--ServerApp.port_retries=0',
      `--IdentityProvider.token=${this.token}`,
      `--ServerApp.root_dir=${this.root}`,
      '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
      '--LabApp.news_url=None',
    ];
    if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--allow-root');
    const env = {
      ...process.env,
      JUPYTER_PREFER_ENV_PATH: '1', // the tslab kernel registered in .venv
      JUPYTER_CONFIG_DIR: path.join(this.home, 'config'),
      JUPYTER_DATA_DIR: path.join(this.home, 'data'),
      JUPYTER_RUNTIME_DIR: path.join(this.home, 'runtime'),
      JUPYTERLAB_SETTINGS_DIR: path.join(this.home, 'settings'),
      JUPYTERLAB_WORKSPACES_DIR: path.join(this.home, 'workspaces'),
    };
    const logStream = fs.openSync(this.log, 'w');
    // Its own process group (detached), so that stopping it reaches whatever it started there.
    this.child = spawn(jupyter, args, { cwd: this.root, env, detached: true, stdio: ['ignore', logStream, logStream] });
    fs.closeSync(logStream);
    this.child.on('exit', () => {
      this.exited = true;
    });
    await waitFor(
      `JupyterLab to answer on ${this.url} (log: ${path.relative(ROOT, this.log)})`,
      async () => {
        if (this.exited) throw new Error(`JupyterLab exited on start:\n${fs.readFileSync(this.log, 'utf8').slice(-3000)}`);
        try {
          const response = await fetch(`${this.url}/api/status`, { headers: { Authorization: `token ${this.token}` } });
          return response.ok;
        } catch {
          return false;
        }
      },
      120_000,
    );
  }

  /** Notes the server's kernels (they run in sessions of their own), to stop them if need be. */
  rememberKernels(): void {
    if (this.child?.pid && !this.exited) for (const pid of descendants(this.child.pid)) this.kernels.add(pid);
  }

  /**
   * Stops the server: asks it to shut down (which stops its kernels), then SIGTERM and SIGKILL to
   * its process group if it does not, and the same to any kernel process still running.
   */
  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid && !this.exited) {
      this.rememberKernels();
      try {
        await fetch(`${this.url}/api/shutdown`, {
          method: 'POST',
          headers: { Authorization: `token ${this.token}` },
          signal: AbortSignal.timeout(5_000),
        });
      } catch {
        // no answer: the signals below
      }
      const exited = () => this.exited;
      try {
        await waitFor('JupyterLab to shut down', exited, 20_000);
      } catch {
        signalGroup(child.pid, 'SIGTERM');
        try {
          await waitFor('JupyterLab to stop on SIGTERM', exited, 10_000);
        } catch {
          signalGroup(child.pid, 'SIGKILL');
        }
      }
      signalGroup(child.pid, 'SIGKILL'); // anything left in its group
    }
    for (const pid of this.kernels) {
      if (!alive(pid)) continue;
      signalGroup(pid, 'SIGTERM');
      try {
        await waitFor(`kernel process ${pid} to stop`, () => !alive(pid), 5_000);
      } catch {
        signalGroup(pid, 'SIGKILL');
      }
    }
    fs.rmSync(this.root, { recursive: true, force: true });
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}

describe('00-setup in JupyterLab', { skip: browserTestsSkipped() }, () => {
  let lab: JupyterLab | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  const stored = path.join(NOTEBOOK_DIR, NOTEBOOK);
  const storedHash = sha256(stored);
  const external: string[] = [];
  const consoleErrors: string[] = [];

  before(async () => {
    lab = new JupyterLab(artifactPath('jupyterlab', 'server.log'));
    await lab.start();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 960 }, deviceScaleFactor: 1 });
    const origin = lab.url;
    // The page may talk to this server only; anything else is refused and noted.
    await context.route(
      (url) => url.origin !== origin && !['data:', 'blob:', 'about:'].includes(url.protocol),
      (route) => {
        external.push(route.request().url());
        return route.abort();
      },
    );
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
  });

  after(async () => {
    if (consoleErrors.length > 0)
      console.log(`# browser console errors (not failures):\n${consoleErrors.map((e) => `#   ${e.slice(0, 300)}`).join('\n')}`);
    try {
      await browser?.close();
    } finally {
      await lab?.stop();
    }
  });

  test('Run All Cells shows the digit grid and the chart, with no error output', async () => {
    assert.ok(lab && page);
    try {
      await runAndCheck(lab, page);
    } catch (error) {
      await page.screenshot({ path: artifactPath('jupyterlab', '00-setup-failure.png') }).catch(() => undefined);
      throw error;
    }
  });

  /** Opens `name` from the server's copy of notebooks/, waits for its kernel, and runs all cells from the Run menu. */
  async function openAndRunAll(lab: JupyterLab, page: Page, name: string, minCells: number) {
    const started = Date.now();
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    // ?reset: a fresh workspace, so that no notebook opened before comes back beside this one.
    await page.goto(`${lab.url}/lab/tree/${name}?reset&token=${lab.token}`, { waitUntil: 'domcontentloaded' });

    const notebook = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden)');
    await notebook.locator('.jp-Notebook .jp-Cell').first().waitFor({ timeout: 120_000 });
    // The kernel (tslab, from the notebook's metadata) starts with the notebook. It is ready when
    // the status bar shows its name and Idle: before that, Run All would ask which kernel to use.
    await page.locator('.jp-StatusBar-TextItem', { hasText: /^TypeScript \| Idle$/ }).waitFor({ timeout: 120_000 });
    await notebook.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').waitFor({ timeout: 30_000 });
    lab.rememberKernels();
    console.log(`# ${name} open, kernel idle after ${elapsed()}`);

    // Run All acts on the notebook that has the focus.
    await notebook.locator('.jp-Cell .jp-InputArea-prompt').first().click();
    await page.getByRole('menuitem', { name: 'Run', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Run All Cells', exact: true }).click();

    // Done when every code cell has an execution count and the kernel is idle again; a dialog
    // (e.g. a kernel choice or an error) ends the wait at once.
    const codeCells = notebook.locator('.jp-CodeCell');
    const cellCount = await codeCells.count();
    assert.ok(cellCount >= minCells, `only ${cellCount} code cells`);
    const outcome = await page.waitForFunction(
      () => {
        const dialog = document.querySelector('.jp-Dialog');
        if (dialog) return `a dialog opened: ${(dialog as HTMLElement).innerText.replace(/\s+/g, ' ').slice(0, 200)}`;
        const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
        if (!panel) return false;
        const prompts = Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')).map((p) => p.textContent ?? '');
        const idle = panel.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status') === 'idle';
        return idle && prompts.length > 0 && prompts.every((p) => /\[\d+\]/.test(p)) ? 'done' : false;
      },
      undefined,
      { timeout: 10 * 60_000, polling: 250 },
    );
    assert.equal(await outcome.jsonValue(), 'done');
    lab.rememberKernels();
    console.log(`# all ${cellCount} code cells of ${name} ran after ${elapsed()}`);
    return notebook;
  }

  /** The stderr outputs of a notebook panel (errors included). */
  function errorOutputs(notebook: ReturnType<Page['locator']>): Promise<string[]> {
    return notebook
      .locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]',
      )
      .allInnerTexts();
  }

  async function runAndCheck(lab: JupyterLab, page: Page): Promise<void> {
    const notebook = await openAndRunAll(lab, page, NOTEBOOK, 5);
    const outputs = notebook.locator('.jp-OutputArea-output');
    const grid = outputs.locator('#digit-grid img');
    const chart = outputs.locator('#label-counts svg');
    await grid.waitFor({ timeout: 30_000 });
    await chart.first().waitFor({ timeout: 30_000 });

    // Screenshots of what the student sees: the top of the notebook, the grid, the chart.
    await notebook.locator('.jp-Cell').first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('jupyterlab', '00-setup-top.png') });
    await grid.scrollIntoViewIfNeeded();
    await page.waitForFunction((img) => (img as HTMLImageElement).complete, await grid.elementHandle(), { timeout: 30_000 });
    await page.screenshot({ path: artifactPath('jupyterlab', '00-setup-digits.png') });
    await chart.first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('jupyterlab', '00-setup-chart.png') });

    const image = await grid.evaluate((img: HTMLImageElement) => ({
      width: img.naturalWidth,
      height: img.naturalHeight,
      shown: img.getBoundingClientRect().width,
    }));
    assert.ok(
      image.width >= 448 && image.height >= 448 && image.shown > 100,
      `digit grid ${image.width}×${image.height}, shown ${image.shown} px wide`,
    );
    const drawing = await chart.first().evaluate((svg: SVGSVGElement) => {
      const box = svg.getBoundingClientRect();
      return { width: box.width, height: box.height, bars: svg.querySelectorAll('path, rect').length };
    });
    assert.ok(drawing.width > 100 && drawing.height > 100 && drawing.bars > 10, `chart ${JSON.stringify(drawing)}`);

    assert.deepEqual(await errorOutputs(notebook), [], 'error or stderr output in the notebook');

    // The Markdown's TeX is typeset by JupyterLab's own MathJax (bundled, not fetched).
    const formulas = formulaCount(stored);
    if (formulas > 0) {
      await page.waitForFunction((count) => document.querySelectorAll('.jp-MarkdownCell mjx-container').length >= count, formulas, {
        timeout: 60_000,
      });
      await notebook
        .locator('.jp-MarkdownCell', { has: page.locator('mjx-container') })
        .first()
        .scrollIntoViewIfNeeded();
      await page.screenshot({ path: artifactPath('jupyterlab', '00-setup-math.png') });
    }
    const rawTex = await notebook
      .locator('.jp-MarkdownCell .jp-RenderedMarkdown')
      .evaluateAll((cells) => cells.map((cell) => (cell as HTMLElement).innerText).filter((text) => /\$\$|\$\\|\\\(|\\\[/.test(text)));
    assert.deepEqual(rawTex, [], 'TeX left as text in the Markdown cells');
    assert.deepEqual(external, [], 'JupyterLab asked for something outside this server');
  }

  test('the explorer of notebook 09 runs in a live notebook: tslab shows HTML whose script JupyterLab executes', async () => {
    assert.ok(lab && page);
    // A notebook of its own (written into the server's copy only): an untrained M2 is enough to
    // show that the page's script runs and its controls drive it.
    const source = [
      "import * as ssvae from 'ssvae';\nimport * as tslab from 'tslab';\nawait ssvae.initBackend();",
      "const m2 = ssvae.createM2(ssvae.resolveConfig({ variant: 'v3' }), 0);\nconst images = ssvae.subsetDataset(ssvae.loadDataset(), { train: 10, validation: 10, test: 300 });",
      "tslab.display.html(ssvae.explorerHtml(ssvae.explorerData(m2, images.test, { codes: 200, examples: 2 }), { id: 'explorer', caption: 'Live.' }));",
    ];
    const cells = source.map((text, i) => ({
      cell_type: 'code',
      execution_count: null,
      id: `c${i}`,
      metadata: {},
      outputs: [],
      source: text,
    }));
    const kernelspec = { display_name: 'TypeScript', language: 'typescript', name: 'tslab' };
    fs.writeFileSync(
      path.join(lab.root, 'explorer-live.ipynb'),
      JSON.stringify({ cells, metadata: { kernelspec }, nbformat: 4, nbformat_minor: 5 }),
    );
    try {
      const notebook = await openAndRunAll(lab, page, 'explorer-live.ipynb', 3);
      assert.deepEqual(await errorOutputs(notebook), [], 'error or stderr output in the notebook');
      const explorer = notebook.locator('.jp-OutputArea-output #explorer');
      await explorer.waitFor({ timeout: 30_000 });
      // The script ran if it registered the explorer and drew the live canvas.
      await page.waitForFunction(
        () => (window as unknown as { ssvaeExplorers?: Record<string, unknown> }).ssvaeExplorers?.['explorer'] !== undefined,
        undefined,
        {
          timeout: 30_000,
        },
      );
      await explorer.locator('input[data-role="digit"][value="6"]').check();
      await explorer.locator('input[data-role="direction"][data-index="1"]').fill('-1.5');
      const state = await page.evaluate(() => {
        const handle = (
          window as unknown as { ssvaeExplorers: Record<string, { state: { y: number; sliders: number[] }; lastUpdateMs: number }> }
        ).ssvaeExplorers['explorer']!;
        const canvas = document.querySelector('#explorer canvas[data-role="live"]') as HTMLCanvasElement;
        const rgba = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        const inked = Array.from({ length: rgba.length / 4 }, (_, i) => rgba[4 * i]!).filter((v) => v < 255).length;
        return { y: handle.state.y, slider: handle.state.sliders[1], ms: handle.lastUpdateMs, inked };
      });
      assert.equal(state.y, 6);
      assert.equal(state.slider, -1.5);
      assert.ok(state.inked > 0, 'the live canvas is blank');
      console.log(`# explorer in JupyterLab: update after a slider move ${state.ms.toFixed(1)} ms`);
      await explorer.scrollIntoViewIfNeeded();
      await page.screenshot({ path: artifactPath('jupyterlab', 'explorer-live.png') });
    } catch (error) {
      await page.screenshot({ path: artifactPath('jupyterlab', 'explorer-failure.png') }).catch(() => undefined);
      throw error;
    }
  });

  test('the stored notebook is left as it was', () => {
    assert.equal(sha256(stored), storedHash, `${path.relative(ROOT, stored)} changed on disk`);
  });
});
