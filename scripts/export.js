#!/usr/bin/env node
// Executes the notebooks and writes them as self-contained HTML handouts.
//
//   node scripts/export.js                 every notebooks/*.ipynb, in file-name order
//   node scripts/export.js 00-setup 02     only those (by name, with or without .ipynb, or by a
//                                          unique prefix); the other handouts already in the
//                                          output directory are kept
//   node scripts/export.js --jobs 2        two notebooks at a time (default 1); each one's
//                                          output is printed when it is done
//   node scripts/export.js --rerun         after Run All, run every code cell once more in the
//                                          same kernel, last first, and fail on the first error
//                                          (the handouts keep the outputs of Run All)
//
// Each notebook runs from a fresh tslab kernel through `jupyter nbconvert --execute`, in the
// notebooks/ directory, with this process's environment (so e.g. SSVAE_PROFILE reaches the
// code in the notebook). The handouts and an index.html listing them are written to a
// temporary directory first and swapped in only when every notebook ran: a failed export
// leaves the previous handouts as they were.
//
// The TeX in the Markdown cells is typeset here with KaTeX (scripts/handout-math.js), and KaTeX's
// style sheet and fonts go into the page, so a handout shows its formulas with no network and
// no script. For that, nbconvert converts a copy of the notebook in which each formula is a
// placeholder: the hidden file notebooks/.<name>.export-<pid>.ipynb, next to the original so
// that relative paths in the notebook mean the same, removed when the notebook is done.
//
// Each notebook's last line gives its wall time and the CPU seconds that nbconvert and the
// kernel used (it does not grow when other work shares the cores). With --rerun, the second pass
// is scripts/execute_twice.py, an nbconvert preprocessor; its line gives the CPU seconds of Run
// All alone (what CI budgets).
//
// Environment:
//   SSVAE_HANDOUT_DIR     output directory (default build/handouts)
//   SSVAE_CELL_TIMEOUT    seconds one cell may run before the export fails (default 3600;
//                         -1 for no limit)
'use strict';

const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { setupPython, SetupError } = require('./setup-python');
const { protectMath, putFormulas, addKatexStyle, MathError } = require('./handout-math');
// The library's own escaping (compiled by `npm run build`, which installing runs).
const { escapeHtml } = require('../lib/dist/core/html');

const ROOT = path.resolve(__dirname, '..');
const NOTEBOOK_DIR = path.join(ROOT, 'notebooks');
const TEMPLATE = path.join(__dirname, 'templates', 'handout.html.j2');

class ExportError extends Error {}

function log(message) {
  console.log(`[export] ${message}`);
}

/** All notebooks, in the order the handouts are read: by file name. */
function listNotebooks() {
  return fs
    .readdirSync(NOTEBOOK_DIR)
    .filter((name) => name.endsWith('.ipynb') && !name.startsWith('.'))
    .sort()
    .map((name) => path.join(NOTEBOOK_DIR, name));
}

/** Picks the notebooks named on the command line (exact name, or a unique prefix). */
function selectNotebooks(all, requested) {
  if (requested.length === 0) return all;
  const chosen = new Set();
  for (const arg of requested) {
    const wanted = path.basename(arg).replace(/\.ipynb$/, '');
    const stems = all.map((file) => path.basename(file, '.ipynb'));
    const exact = stems.indexOf(wanted);
    const matches = exact >= 0 ? [exact] : stems.flatMap((stem, i) => (stem.startsWith(wanted) ? [i] : []));
    if (matches.length !== 1) {
      const why = matches.length === 0 ? 'no such notebook' : `ambiguous: ${matches.map((i) => stems[i]).join(', ')}`;
      throw new ExportError(`${arg}: ${why} in ${path.relative(ROOT, NOTEBOOK_DIR)}/ (have: ${stems.join(', ') || 'none'})`);
    }
    chosen.add(all[matches[0]]);
  }
  return all.filter((file) => chosen.has(file));
}

function sourceText(cell) {
  return Array.isArray(cell.source) ? cell.source.join('') : String(cell.source ?? '');
}

/** The first markdown heading of a notebook, as plain text (the file name if it has none). */
function notebookTitle(file) {
  const notebook = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const cell of notebook.cells ?? []) {
    if (cell.cell_type !== 'markdown') continue;
    const heading = sourceText(cell).match(/^#{1,6}[ \t]+(.+?)[ \t#]*$/m);
    if (heading) {
      return heading[1]
        .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // links: keep the text
        .replace(/[`*_]/g, '')
        .trim();
    }
  }
  return path.basename(file, '.ipynb');
}

function indexHtml(entries) {
  const items = entries
    .map(({ html, title }) => `      <li><a href="${escapeHtml(encodeURI(html))}">${escapeHtml(title)}</a></li>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>SS-VAE handouts</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; }
    li { margin: 0.3rem 0; }
  </style>
</head>
<body>
  <h1>Semi-supervised VAE (M2) on MNIST: handouts</h1>
  <ol>
${items}
  </ol>
</body>
</html>
`;
}

/**
 * Runs a command (argv[2:]) from the project's Python and writes to argv[1] the CPU seconds, user
 * and system, that it and every process it waited for used: nbconvert and the kernel it started.
 * Unlike the wall time, that does not grow when other work shares the cores. An interrupt from
 * the terminal reaches the command too; the wrapper waits for it to finish, and ends as it ended.
 */
const CPU_ACCOUNTING = `
import os, resource, signal, subprocess, sys
try:
    child = subprocess.Popen(sys.argv[2:])
except OSError as error:
    sys.exit(f"could not run {sys.argv[2]}: {error.strerror}")
while True:
    try:
        status = child.wait()
        break
    except KeyboardInterrupt:
        pass
used = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    out.write(str(used.ru_utime + used.ru_stime))
if status < 0:
    signal.signal(-status, signal.SIG_DFL)
    os.kill(os.getpid(), -status)
sys.exit(status)
`;

/**
 * nbconvert's flags for running a notebook in kernel `kernelName`: its own ExecutePreprocessor,
 * or with `rerun` its subclass in scripts/execute_twice.py, which then runs each code cell again
 * and names the notebook `label` in its log lines (the ExecutePreprocessor options apply to both).
 */
function executionArgs({ kernelName, timeout, rerun, label }) {
  return [
    ...(rerun ? ['--HTMLExporter.preprocessors=["execute_twice.RerunPreprocessor"]', `--RerunPreprocessor.label=${label}`] : ['--execute']),
    `--ExecutePreprocessor.kernel_name=${kernelName}`,
    `--ExecutePreprocessor.timeout=${timeout}`,
  ];
}

/** The environment nbconvert runs in: this process's, with the two settings below. */
function nbconvertEnv() {
  return {
    ...process.env,
    // Use the kernels registered in .venv even if the user has their own tslab kernelspec.
    JUPYTER_PREFER_ENV_PATH: '1',
    // Where nbconvert finds execute_twice.py (--rerun).
    PYTHONPATH: [__dirname, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
  };
}

/**
 * Runs one notebook through nbconvert into `outDir`, with its formulas typeset by KaTeX; throws
 * an ExportError naming it on failure.
 */
async function exportNotebook({ jupyter, python }, kernelName, file, outDir, { quiet, rerun }) {
  const relative = path.relative(ROOT, file);
  const stem = path.basename(file, '.ipynb');
  const timeout = process.env.SSVAE_CELL_TIMEOUT ?? '3600';

  let prepared;
  try {
    const notebook = JSON.parse(fs.readFileSync(file, 'utf8'));
    prepared = protectMath(notebook);
    // The copy's file name would otherwise be the page's title.
    prepared.notebook.metadata = { ...prepared.notebook.metadata, title: notebookTitle(file) };
  } catch (error) {
    if (error instanceof MathError || error instanceof SyntaxError) throw new ExportError(`${relative}: ${error.message}`);
    throw error;
  }
  const copy = path.join(path.dirname(file), `.${stem}.export-${process.pid}.ipynb`);
  const cpuFile = path.join(os.tmpdir(), `ssvae-export-${process.pid}-${stem}.cpu`);

  const args = [
    'nbconvert',
    '--to',
    'html',
    ...executionArgs({ kernelName, timeout, rerun, label: relative }),
    '--template',
    'lab',
    `--template-file=${TEMPLATE}`,
    '--no-prompt',
    '--embed-images',
    '--output-dir',
    outDir,
    `--output=${stem}`,
    copy,
  ];
  const formulas = prepared.formulas.length;
  log(`${relative}: executing${formulas > 0 ? ` (${formulas} formula(s) typeset with KaTeX)` : ''}`);
  const started = Date.now();
  const env = nbconvertEnv();
  let result;
  try {
    fs.writeFileSync(copy, `${JSON.stringify(prepared.notebook, null, 1)}\n`);
    result = await run(python, ['-c', CPU_ACCOUNTING, cpuFile, jupyter, ...args], { cwd: ROOT, env }, quiet);
  } finally {
    fs.rmSync(copy, { force: true });
  }
  let cpu = '';
  try {
    cpu = `, ${Number(fs.readFileSync(cpuFile, 'utf8')).toFixed(1)} s of CPU`;
  } catch {
    // nbconvert could not be started: the error below says so.
  } finally {
    fs.rmSync(cpuFile, { force: true });
  }
  if (quiet && result.output) process.stdout.write(result.output.replace(/^(?=.)/gm, `[${stem}] `));
  if (result.error) throw new ExportError(`${relative}: could not run ${python}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new ExportError(
      `${relative} failed to execute (nbconvert exited with ${result.status ?? result.signal}; see the cell and error above)`,
    );
  }
  const html = path.join(outDir, `${stem}.html`);
  if (!fs.existsSync(html)) throw new ExportError(`${relative}: nbconvert reported success but wrote no ${path.relative(ROOT, html)}`);
  if (formulas > 0) {
    try {
      fs.writeFileSync(html, addKatexStyle(putFormulas(fs.readFileSync(html, 'utf8'), prepared.formulas)));
    } catch (error) {
      if (error instanceof MathError) throw new ExportError(`${relative}: ${error.message}`);
      throw error;
    }
  }
  log(`${relative}: done in ${((Date.now() - started) / 1000).toFixed(1)} s${cpu}`);
}

/**
 * Runs a command to its end: with the terminal as its output, or, when `quiet`, with its output
 * collected and handed back (so that notebooks exported side by side do not interleave theirs).
 */
function run(command, args, options, quiet) {
  return new Promise((resolve) => {
    const child = cp.spawn(command, args, { ...options, stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (quiet) {
      child.stdout.on('data', (chunk) => (output += chunk.toString('utf8')));
      child.stderr.on('data', (chunk) => (output += chunk.toString('utf8')));
    }
    child.on('error', (error) => resolve({ error, output }));
    child.on('close', (status, signal) => resolve({ status, signal, output }));
  });
}

/**
 * Calls `work` on every item, at most `jobs` at a time, in order of the items. After the first
 * failure nothing new starts; the ones under way finish, and the first error is thrown.
 */
async function eachAtMost(items, jobs, work) {
  let next = 0;
  let failure;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  if (failure) throw failure.error;
}

/** Replaces directory `target` by `staged` with two renames; the old copy is removed after. */
function swapIn(staged, target) {
  const old = `${target}.old-${process.pid}`;
  const hadOld = fs.existsSync(target);
  if (hadOld) fs.renameSync(target, old);
  try {
    fs.renameSync(staged, target);
  } catch (error) {
    if (hadOld) fs.renameSync(old, target);
    throw error;
  }
  if (hadOld) fs.rmSync(old, { recursive: true, force: true });
}

/** Removes the notebook copies (see exportNotebook) that an export which was killed left behind. */
function removeStaleCopies() {
  for (const name of fs.readdirSync(NOTEBOOK_DIR)) {
    const match = /^\..+\.export-(\d+)\.ipynb$/.exec(name);
    if (!match) continue;
    try {
      process.kill(Number(match[1]), 0);
      continue; // that export is still running
    } catch (error) {
      if (error.code === 'EPERM') continue;
    }
    fs.rmSync(path.join(NOTEBOOK_DIR, name), { force: true });
  }
}

/** The command line: notebook names, --jobs N and --rerun. */
function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = util.parseArgs({
      args: argv,
      options: { jobs: { type: 'string' }, rerun: { type: 'boolean' } },
      allowPositionals: true,
    });
  } catch (error) {
    // parseArgs's first sentence names the option; its advice about '--' does not apply here.
    throw new ExportError(`${error.message.split('. ')[0]} (usage: export.js [--jobs N] [--rerun] [NOTEBOOK …])`);
  }
  const jobs = parsed.values.jobs === undefined ? 1 : Number(parsed.values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new ExportError(`--jobs: expected a whole number ≥ 1, got ${JSON.stringify(parsed.values.jobs)}`);
  return { jobs, rerun: parsed.values.rerun === true, names: parsed.positionals };
}

async function main(argv) {
  const { jobs, rerun, names } = parseCommandLine(argv);
  removeStaleCopies();
  const outDir = path.resolve(ROOT, process.env.SSVAE_HANDOUT_DIR || path.join('build', 'handouts'));
  const all = listNotebooks();
  if (all.length === 0) throw new ExportError(`no notebooks in ${path.relative(ROOT, NOTEBOOK_DIR)}/`);
  const selected = selectNotebooks(all, names);

  const { jupyter, python, kernelName } = setupPython();

  fs.mkdirSync(path.dirname(outDir), { recursive: true });
  const staged = fs.mkdtempSync(path.join(path.dirname(outDir), `.${path.basename(outDir)}-tmp-`));
  fs.chmodSync(staged, 0o755); // mkdtemp makes it private; the handouts are for reading
  try {
    // A partial export keeps the handouts of the notebooks it does not run (if they still exist).
    if (selected.length < all.length && fs.existsSync(outDir)) {
      for (const file of all) {
        if (selected.includes(file)) continue;
        const html = `${path.basename(file, '.ipynb')}.html`;
        if (fs.existsSync(path.join(outDir, html))) fs.copyFileSync(path.join(outDir, html), path.join(staged, html));
      }
    }
    await eachAtMost(selected, jobs, (file) => exportNotebook({ jupyter, python }, kernelName, file, staged, { quiet: jobs > 1, rerun }));

    const entries = all
      .map((file) => ({ html: `${path.basename(file, '.ipynb')}.html`, title: notebookTitle(file) }))
      .filter(({ html }) => fs.existsSync(path.join(staged, html)));
    fs.writeFileSync(path.join(staged, 'index.html'), indexHtml(entries));
    swapIn(staged, outDir);
  } catch (error) {
    fs.rmSync(staged, { recursive: true, force: true });
    throw error;
  }
  log(`wrote ${selected.length} handout(s) and index.html to ${path.relative(ROOT, outDir) || outDir}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    const known = error instanceof ExportError || error instanceof SetupError;
    console.error(`[export] error: ${known ? error.message : error.stack}`);
    if (known && !(error instanceof SetupError)) console.error('[export] the handouts in the output directory were left unchanged');
    process.exit(1);
  });
}

module.exports = { listNotebooks, notebookTitle, executionArgs, nbconvertEnv };
