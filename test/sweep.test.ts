import assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  expandPlans,
  groupName,
  parseAnyPlan,
  parsePlan,
  parseShard,
  readPlanFile,
  readRunRecord,
  selectRuns,
  shardOf,
  type RunRecord,
} from 'ssvae';
import { flags, tempDir, tinyModelFlags, writeTinyDataset } from './helpers';

const root = path.resolve(__dirname, '..');
const cliJs = path.join(root, 'lib', 'dist', 'tools', 'cli.js');
const dataDir = tempDir('sweep-data');
writeTinyDataset(dataDir, 30, 5); // 4×4 images: 250 training images after 50 for validation

/** A tiny plan: 2 variants × 2 seeds at N = 50, small networks, 2 epochs each. */
const tinyPlan = [...flags({ variants: 'v3,baseline', labels: 50, seeds: '0-1', epochs: 2 }), ...tinyModelFlags(dataDir)];

function cli(args: string[]) {
  return cp.spawnSync(process.execPath, [cliJs, ...args], { cwd: root, encoding: 'utf8' });
}

/** What a run computed: every epoch's losses and accuracies (not its timings or environment). */
function numerics(record: RunRecord) {
  return {
    config: record.config,
    epochs: record.epochs.map((e) => [e.epoch, e.losses, e.validationAccuracy, e.testAccuracy]),
    result: record.result,
  };
}

const RUNS = ['v3-50-s0', 'v3-50-s1', 'baseline-50-s0', 'baseline-50-s1'];

function recordsUnder(dir: string) {
  const group = fs.readdirSync(dir).filter((d) => !d.startsWith('.'));
  assert.equal(group.length, 1, `one group folder in ${dir}: ${group.join(', ')}`);
  return Object.fromEntries(RUNS.map((r) => [r, numerics(readRunRecord(path.join(dir, group[0]!, r)))]));
}

let reference: Record<string, ReturnType<typeof numerics>> | undefined;

test('sweep trains every run of the plan, names each from its settings, and ends with a summary per method × N', () => {
  const out = tempDir('sweep-whole');
  const r = cli(['sweep', ...tinyPlan, '--out', out]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const group = groupName({ batchSize: 20, hidden: [8], zDim: 2, dataset: dataDir });
  assert.equal(group, `default_batchSize-20_dataset-${path.basename(dataDir)}_hidden-8_zDim-2`);
  for (const run of RUNS) assert.ok(readRunRecord(path.join(out, group, run)).result.finished, run);
  assert.equal(r.stdout.split('\n').filter((l) => /^\[\d\/4\] /.test(l)).length, 4, r.stdout);
  assert.match(r.stdout, /accuracy at the best validation epoch, mean over seeds/);
  assert.match(r.stdout, /N = 50\s+validation \d+\.\d\d %\s+test \d+\.\d\d ± \d+\.\d\d %\s+2 seeds/);
  assert.match(r.stdout, /sweep: 4 trained, 0 already finished, 0 failed/);
  reference = recordsUnder(out);
  // Run again: nothing to do.
  const again = cli(['sweep', ...tinyPlan, '--out', out]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /sweep: 0 trained, 4 already finished, 0 failed/);
  // --status reads the same records: every run finished, with the accuracy its record holds.
  const status = cli(['sweep', ...tinyPlan, '--out', out, '--status']);
  assert.equal(status.status, 0, status.stderr);
  const lines = status.stdout.trim().split('\n');
  assert.equal(lines.at(-1), '4 runs planned: 4 finished, 0 started, 0 not started; 0 epochs left');
  for (const run of RUNS) {
    const test = readRunRecord(path.join(out, group, run)).result.testAccuracyAtBest;
    const line = lines.find((l) => l.startsWith(`${group}/${run} `));
    assert.ok(line?.includes(`finished: `) && line.includes(`test accuracy there ${(100 * test).toFixed(2)}%`), `${run}: ${line}`);
  }
  // A longer plan continues a finished run from its checkpoint; without the checkpoint, the status
  // says the run is finished at its own length and will be trained again from the start.
  fs.rmSync(path.join(out, group, 'v3-50-s1', 'checkpoint'), { recursive: true });
  const longer = cli(['sweep', ...tinyPlan, '--epochs', '3', '--out', out, '--status']);
  assert.equal(longer.status, 0, longer.stderr);
  const longerLines = longer.stdout.trim().split('\n');
  for (const run of RUNS) {
    const line = longerLines.find((l) => l.startsWith(`${group}/${run} `));
    const expected =
      run === 'v3-50-s1'
        ? '  finished at 2 epochs; the plan asks 3 and the checkpoint is gone, so it trains again from the start'
        : '  at epoch 2 of 3';
    assert.ok(line?.endsWith(expected), `${run}: ${line}`);
  }
  assert.equal(longerLines.at(-1), '4 runs planned: 0 finished, 3 started, 1 not started; 6 epochs left');
});

test('sweep killed with SIGKILL and restarted loses nothing and redoes no finished run', async () => {
  assert.ok(reference, 'needs the uninterrupted sweep of the test above');
  const out = tempDir('sweep-killed');
  const child = cp.spawn(process.execPath, [cliJs, 'sweep', ...tinyPlan, '--out', out], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  // Kill the sweep as soon as its first run has finished, while the second is training.
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/^\[1\/4\] /m.test(stdout)) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve());
  });
  assert.equal(child.signalCode, 'SIGKILL', `the sweep ended before it could be killed:\n${stdout}`);
  const group = fs.readdirSync(out)[0]!;
  const firstDone = RUNS.filter((r) => {
    try {
      return readRunRecord(path.join(out, group, r)).result.finished;
    } catch {
      return false;
    }
  });
  assert.ok(firstDone.length >= 1 && firstDone.length < 4, `finished before the kill: ${firstDone.join(', ')}`);
  const finishedBytes = Object.fromEntries(firstDone.map((r) => [r, fs.readFileSync(path.join(out, group, r, 'run.json'))]));
  // --status after the kill: the finished runs say so, the others are at an epoch or not started.
  // (A killed sweep's worker may still finish the run it is in, so a run can move on meanwhile.)
  const status = cli(['sweep', ...tinyPlan, '--out', out, '--status']);
  assert.equal(status.status, 0, status.stderr);
  const lines = status.stdout.trim().split('\n');
  const states = RUNS.map((r) => {
    const line = lines.find((l) => l.startsWith(`${group}/${r} `)) ?? '';
    const state = / {2}(finished): | {2}(at epoch) 1 of 2$| {2}(not started) \(2 epochs\)$/.exec(line)?.slice(1).find(Boolean);
    assert.ok(state && (state === 'finished' || !firstDone.includes(r)), `${r}: ${line}`);
    return state;
  });
  const count = (state: string) => states.filter((s) => s === state).length;
  assert.equal(
    lines.at(-1),
    `4 runs planned: ${count('finished')} finished, ${count('at epoch')} started, ${count('not started')} not started; ` +
      `${2 * count('not started') + count('at epoch')} epochs left`,
  );
  // Restart at once. The killed sweep's workers stop at their next step, or finish the
  // evaluation or checkpoint they are in first (then the restarted worker waits for the lock).
  const restart = cli(['sweep', ...tinyPlan, '--out', out]);
  assert.equal(restart.status, 0, restart.stderr + restart.stdout);
  const skipped = Number(/(\d+) already finished, \d+ to train/.exec(restart.stdout)?.[1]);
  assert.ok(skipped >= firstDone.length, restart.stdout);
  for (const r of firstDone) {
    assert.ok(fs.readFileSync(path.join(out, group, r, 'run.json')).equals(finishedBytes[r]!), `${r} was trained again`);
    const log = fs.readFileSync(path.join(out, group, r, 'train.log'), 'utf8');
    assert.equal(log.split('\n').filter((l) => l.startsWith('epoch 2/2')).length, 1, `${r}: ${log}`);
  }
  assert.deepEqual(recordsUnder(out), reference);
});

test('sweep --list run through GNU parallel gives the same records as sweep', () => {
  assert.ok(reference, 'needs the uninterrupted sweep of the first test');
  const out = tempDir('sweep-parallel');
  const list = cli(['sweep', ...tinyPlan, '--out', out, '--list']);
  assert.equal(list.status, 0, list.stderr);
  const lines = list.stdout.trim().split('\n');
  assert.equal(lines.length, 4);
  assert.ok(
    lines.every((l) => l.startsWith('node ') && l.includes(' train ') && l.endsWith(' --continue')),
    list.stdout,
  );
  assert.deepEqual(fs.readdirSync(out), [], '--list trains nothing');
  const par = cp.spawnSync('parallel', ['-j1', '--halt', 'now,fail=1'], { input: list.stdout, cwd: root, encoding: 'utf8' });
  assert.equal(par.status, 0, par.stderr);
  assert.deepEqual(recordsUnder(out), reference);
});

test('--shard slices are disjoint and cover the plan', () => {
  const plan = parsePlan({ variants: ['v1', 'v2', 'v3', 'baseline'], labels: [100, 600, 1000, 3000], seeds: [0, 1, 2, 3, 4], epochs: 50 });
  const runs = expandPlans([plan]).map((r) => r.name);
  assert.equal(runs.length, 80);
  for (const count of [1, 3, 7]) {
    const slices = Array.from({ length: count }, (_, index) => shardOf(runs, parseShard(`${index}/${count}`)));
    assert.deepEqual(slices.flat().sort(), [...runs].sort());
    assert.equal(new Set(slices.flat()).size, runs.length);
    assert.ok(Math.max(...slices.map((s) => s.length)) - Math.min(...slices.map((s) => s.length)) <= 1);
  }
  assert.throws(() => parseShard('4/4'), /--shard expects I\/N with 0 ≤ I < N/);
});

test('a grid crosses settings into separate groups; presets name their group', () => {
  const plan = parsePlan({
    variants: ['v3'],
    labels: [100],
    seeds: [0],
    epochs: 5,
    settings: { preset: 'pyro-script' },
    grid: { lr: [0.00042, 0.0042], schedule: ['alternating', 'mixed'] },
  });
  const names = expandPlans([plan]).map((r) => r.name);
  assert.deepEqual(names, [
    'pyro-script_lr-0.00042_schedule-alternating/v3-100-s0',
    'pyro-script_lr-0.00042_schedule-mixed/v3-100-s0',
    'pyro-script_lr-0.0042_schedule-alternating/v3-100-s0',
    'pyro-script_lr-0.0042_schedule-mixed/v3-100-s0',
  ]);
  const configs = expandPlans([plan]).map((r) => r.config);
  assert.ok(configs.every((c) => c.preset === 'pyro-script' && c.init === 'pyro' && c.beta1 === 0.9));
});

test('restarts of a subset: each start its own group and train command; the summary adds the best of the starts', () => {
  const out = tempDir('sweep-restarts');
  const plan = [...flags({ variants: 'v3', labels: 50, seeds: 0, epochs: 2 }), ...tinyModelFlags(dataDir), '--grid', 'restart=0,1'];
  const listed = cli(['sweep', ...plan, '--out', out, '--list']);
  assert.equal(listed.status, 0, listed.stderr);
  const commands = listed.stdout.trim().split('\n');
  assert.equal(commands.length, 2);
  assert.match(commands[0] ?? '', /--restart 0 .*_restart-0_.*\/v3-50-s0 --continue$/);
  assert.match(commands[1] ?? '', /--restart 1 .*_restart-1_.*\/v3-50-s0 --continue$/);
  const r = cli(['sweep', ...plan, '--out', out]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const groups = fs.readdirSync(out).sort();
  assert.equal(groups.length, 2);
  const records = groups.map((g) => readRunRecord(path.join(out, g, 'v3-50-s0')));
  assert.deepEqual(
    records.map((rec) => rec.config.restart),
    [0, 1],
  );
  // Same subset, other start: the first epoch's losses differ.
  assert.notDeepEqual(records[0]?.epochs[0]?.losses, records[1]?.epochs[0]?.losses);
  assert.match(r.stdout, /best of 2 starts by the bound/);
});

test('a run that two plans share is planned once, to the larger number of epochs', () => {
  const short = parsePlan({ variants: ['v3'], labels: [100, 3000], seeds: [0], epochs: 6, settings: { lr: 0.0042 } });
  const long = parsePlan({ variants: ['v3'], labels: [100], seeds: [0], epochs: 10, settings: { lr: 0.0042 } });
  const runs = expandPlans([short, long]);
  assert.deepEqual(
    runs.map((r) => [r.name, r.config.epochs]),
    [
      ['default_lr-0.0042/v3-100-s0', 10],
      ['default_lr-0.0042/v3-3000-s0', 6],
    ],
  );
});

test('--plan with --variants, --labels or --seeds keeps only those runs of each plan; keeping nothing is an error naming the file', () => {
  const a = parsePlan({ variants: ['m1'], labels: [100, 3000], seeds: [0, 1, 2, 3, 4], epochs: 50 });
  const b = parsePlan({ variants: ['m1m2'], labels: [100], seeds: [0, 3], epochs: 100 });
  assert.deepEqual(
    expandPlans(selectRuns([a, b], { seeds: [1, 2] }, 'p.json')).map((r) => r.name),
    ['default/m1-100-s1', 'default/m1-3000-s1', 'default/m1-100-s2', 'default/m1-3000-s2'],
  );
  assert.deepEqual(
    selectRuns([a, b], { seeds: [3] }, 'p.json').map((p) => [p.seeds, p.epochs]),
    [
      [[3], 50],
      [[3], 100],
    ],
  );
  // Every field narrows: N = 100 of seed 3 is one run of each plan, and m1m2 alone the second plan's.
  assert.deepEqual(
    expandPlans(selectRuns([a, b], { labels: [100], seeds: [3] }, 'p.json')).map((r) => [r.name, r.config.epochs]),
    [
      ['default/m1-100-s3', 50],
      ['default/m1m2-100-s3', 100],
    ],
  );
  assert.deepEqual(
    expandPlans(selectRuns([a, b], { variants: ['m1m2'], labels: [100], seeds: [3] }, 'p.json')).map((r) => r.name),
    ['default/m1m2-100-s3'],
  );
  assert.throws(() => selectRuns([a, b], { seeds: [7, 8] }, 'p.json'), /p\.json has no runs with seeds 7, 8 \(its seeds: 0, 1, 2, 3, 4\)/);
  assert.throws(
    () => selectRuns([a, b], { variants: ['m1m2'], labels: [600] }, 'p.json'),
    /p\.json has no runs with variants m1m2 and labels 600 \(its variants: m1, m1m2; its labels: 100, 3000\)/,
  );
  // A plan of unsupervised models has no label counts: selecting by N drops it.
  const vae = parseAnyPlan({ models: ['vae'], seeds: [0, 1], preset: 'cs236' });
  assert.deepEqual(
    selectRuns([vae, b], { seeds: [0] }, 'p.json').map((p) => p.seeds),
    [[0], [0]],
  );
  assert.equal(selectRuns([vae, b], { labels: [100] }, 'p.json').length, 1);
  // From the command line: the plan's runs of seed 1 only, and the other plan fields still refused.
  const dir = tempDir('sweep-seeds');
  const file = path.join(dir, 'plan.json');
  fs.writeFileSync(file, JSON.stringify({ variants: ['v3', 'baseline'], labels: [100, 3000], seeds: [0, 1, 2], epochs: 5 }));
  const listed = cli([
    'sweep',
    '--plan',
    file,
    '--seeds',
    '1',
    '--labels',
    '3000',
    '--variants',
    'v3',
    '--out',
    path.join(dir, 'runs'),
    '--list',
  ]);
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual(
    listed.stdout
      .trim()
      .split('\n')
      .map((line) => [/ --variant (\S+) /.exec(line)?.[1], / --labels (\d+) /.exec(line)?.[1], / --seed (\d+) /.exec(line)?.[1]]),
    [['v3', '3000', '1']],
  );
  const clash = cli(['sweep', '--plan', file, '--seeds', '1', '--epochs', '3', '--out', path.join(dir, 'runs'), '--list']);
  assert.equal(clash.status, 2);
  assert.match(clash.stderr, /--plan gives the whole plan; drop --epochs/);
  const both = cli(['sweep', '--plan', file, '--out', path.join(dir, 'runs'), '--list', '--status']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--list and --status each print instead of training; give one/);
  const none = cli(['sweep', '--plan', file, '--labels', '600', '--out', path.join(dir, 'runs'), '--list']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /plan\.json has no runs with labels 600 \(its labels: 100, 3000\)/);
});

test('a bad plan file gets one clear error naming the file and the field', () => {
  const dir = tempDir('sweep-plans');
  const good = { variants: ['v3'], labels: [100], seeds: [0], epochs: 5 };
  const cases: [unknown, RegExp][] = [
    [
      { ...good, variants: ['v4'] },
      /plan\.json\.variants must be a non-empty list of v1, v1-loo, v2, v3, baseline, m1, m1m2, gumbel, got \["v4"\]/,
    ],
    [{ ...good, labels: [100, -3] }, /plan\.json\.labels must be a non-empty list of positive integers/],
    [{ ...good, seeds: 'all' }, /plan\.json\.seeds must be a non-empty list of non-negative integers/],
    [{ ...good, epochs: 0 }, /plan\.json\.epochs must be a positive integer, got 0/],
    [{ ...good, colour: 'red' }, /plan\.json: unknown field "colour"/],
    [{ ...good, settings: { seed: 3 } }, /plan\.json\.settings\.seed: set it with the plan's own field/],
    [
      { ...good, settings: { schedule: 'sometimes' } },
      /plan\.json: field schedule must be one of alternating, mixed, spread, got "sometimes" \(variant v3, N = 100\)/,
    ],
    [{ ...good, grid: { lr: [] } }, /plan\.json\.grid\.lr must be a non-empty list of values/],
    [[good, { ...good, labels: 'x' }], /plan\.json: plans\[1\]\.labels must be/],
    ['{ not json', /plan\.json: not valid JSON/],
  ];
  for (const [content, pattern] of cases) {
    const file = path.join(dir, 'plan.json');
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    const r = cli(['sweep', '--plan', file, '--out', path.join(dir, 'runs'), '--list']);
    assert.equal(r.status, 2, `${JSON.stringify(content)}: ${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('ssvae:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, pattern);
  }
  assert.equal(fs.existsSync(path.join(dir, 'runs')), false, 'nothing written');
});

test('train --continue refuses a directory that holds a run with other settings', () => {
  const out = tempDir('sweep-clash');
  const base = ['train', ...flags({ variant: 'baseline', labels: 50, epochs: 1 }), ...tinyModelFlags(dataDir), '--out', out];
  assert.equal(cli([...base, '--continue']).status, 0);
  const same = cli([...base, '--continue']);
  assert.equal(same.status, 0, same.stderr);
  assert.match(same.stdout, /already finished/);
  const other = cli([...base, '--lr', '0.01', '--continue']);
  assert.equal(other.status, 1, other.stderr);
  assert.match(other.stderr, /holds a run with other settings \(lr: recorded [0-9.e-]+, planned 0\.01\)/);
  // A record copied without its checkpoint cannot be continued: asked for more epochs, the run
  // starts over, and its first epoch comes out as before.
  const copy = tempDir('sweep-copied');
  fs.copyFileSync(path.join(out, 'run.json'), path.join(copy, 'run.json'));
  const longer = cli([...base.slice(0, -2), '--epochs', '2', '--out', copy, '--continue']);
  assert.equal(longer.status, 0, longer.stderr);
  const [before, after] = [readRunRecord(out), readRunRecord(copy)];
  assert.equal(after.epochs.length, 2);
  assert.deepEqual(numerics(after).epochs[0], numerics(before).epochs[0]);
});

test('every command answers --help and -h with its usage and exit 0', () => {
  for (const command of [[], ['info'], ['train'], ['eval'], ['sweep']]) {
    for (const flag of ['--help', '-h']) {
      const r = cli([...command, flag]);
      assert.equal(r.status, 0, `${command.join(' ')} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, /^Usage: npm run ssvae -- /);
      if (command[0]) assert.match(r.stdout, new RegExp(`ssvae -- ${command[0]}`));
    }
  }
});

test('a plan of models sweeps VAE runs: trains and scores each, redoes nothing, lists commands that give the same records', () => {
  const dir = tempDir('sweep-vae');
  const plan = {
    models: ['vae', 'gmvae'],
    seeds: [0],
    preset: 'none',
    epochs: 2,
    iwae: [1, 4],
    settings: { hidden: [8], zDim: 2, batchSize: 20, components: 3, dataset: dataDir },
  };
  const file = path.join(dir, 'plan.json');
  fs.writeFileSync(file, JSON.stringify(plan));
  const out = path.join(dir, 'runs');
  const r = cli(['sweep', '--plan', file, '--out', out, '--jobs', '1']);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /sweep: 2 runs planned, 0 already finished, 2 to train \(4 epochs\)/);
  const group = `none_batchSize-20_components-3_dataset-${path.basename(dataDir)}_hidden-8_zDim-2`;
  assert.deepEqual(fs.readdirSync(out), [group]);
  const bounds = (root: string, name: string) => {
    const record = JSON.parse(fs.readFileSync(path.join(root, name, 'likelihood.json'), 'utf8'));
    assert.deepEqual(record.iwae.sampleCounts, [1, 4]);
    return record.iwae.bounds as number[];
  };
  const scored = Object.fromEntries(['vae-s0', 'gmvae-s0'].map((n) => [n, bounds(path.join(out, group), n)]));
  assert.match(r.stdout, /^\[\d\/2\] [^ ]+\/gmvae-s0: −ELBO \d+\.\d\d, −IWAE\(m = 4\) \d+\.\d\d nats/m);
  assert.match(r.stdout, /Negative log-likelihood bounds .* from the 2 likelihood records/);
  assert.doesNotMatch(r.stdout, /no finished runs to summarise/);
  const again = cli(['sweep', '--plan', file, '--out', out]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /sweep: 0 trained, 2 already finished, 0 failed/);
  // Trained but not scored: the sweep scores it and trains nothing.
  fs.rmSync(path.join(out, group, 'vae-s0', 'likelihood.json'));
  const rescore = cli(['sweep', '--plan', file, '--out', out]);
  assert.equal(rescore.status, 0, rescore.stderr);
  assert.match(rescore.stdout, /2 runs planned, 1 already finished, 1 to train \(0 epochs\)/);
  assert.deepEqual(bounds(path.join(out, group), 'vae-s0'), scored['vae-s0']);
  // --list: one `vae` command per model and seed; run by GNU parallel they give the same bounds.
  const listed = path.join(dir, 'listed');
  const list = cli(['sweep', '--plan', file, '--out', listed, '--list']);
  assert.equal(list.status, 0, list.stderr);
  const lines = list.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, / vae --model vae --seeds 0 --preset none --epochs 2 .*--iwae 1,4 --out [^ ]+\/listed\/none_[^ ]+$/);
  const par = cp.spawnSync('parallel', ['-j1', '--halt', 'now,fail=1'], { input: list.stdout, cwd: root, encoding: 'utf8' });
  assert.equal(par.status, 0, par.stderr);
  for (const name of ['vae-s0', 'gmvae-s0']) assert.deepEqual(bounds(path.join(listed, group), name), scored[name]);
});

test('a bad plan of models gets one clear error naming the field', () => {
  const dir = tempDir('sweep-vae-plans');
  const good = { models: ['gmvae'], seeds: [0] };
  const cases: [unknown, RegExp][] = [
    [{ ...good, models: ['vea'] }, /plan\.json\.models must be a non-empty list of vae, gmvae, got \["vea"\]/],
    [{ ...good, preset: 'cs237' }, /plan\.json\.preset must be "cs236" or "none"/],
    [{ ...good, epochs: 0 }, /plan\.json\.epochs must be a positive integer, got 0/],
    [{ ...good, labels: [100] }, /plan\.json: unknown field "labels" \(a plan of models has models, seeds/],
    [{ ...good, settings: { alpha: 1 } }, /plan\.json\.settings\.alpha: not a VAE setting a plan may give/],
    [{ ...good, settings: { dataset: 3 } }, /plan\.json\.settings\.dataset must be a directory path, got 3/],
    [{ ...good, settings: { components: 0 } }, /plan\.json: field components must be a positive integer, got 0 \(model gmvae\)/],
    [{ ...good, iwae: [3, 4] }, /plan\.json\.iwae: IWAE sample counts must each divide the largest \(4\); 3 do not/],
  ];
  for (const [content, pattern] of cases) {
    const file = path.join(dir, 'plan.json');
    fs.writeFileSync(file, JSON.stringify(content));
    const r = cli(['sweep', '--plan', file, '--out', path.join(dir, 'runs'), '--list']);
    assert.equal(r.status, 2, `${JSON.stringify(content)}: ${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('ssvae:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, pattern);
  }
  const cs236 = cli(['sweep', '--plan', path.join(root, 'plans', 'cs236.json'), '--list']);
  assert.equal(cs236.status, 0, cs236.stderr);
  assert.equal(cs236.stdout.trim().split('\n').length, 10);
  assert.match(cs236.stdout, / vae --model gmvae --seeds 4 --preset cs236 --epochs 40 --out [^ ]+\/data\/runs\/cs236$/m);
});

test('every plan under plans/ parses, and the priority plan trains a subset of Table 1 into the same folders', () => {
  const dir = path.join(root, 'plans');
  const names = (file: string) => expandPlans(readPlanFile(path.join(dir, file))).map((r) => r.name);
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) assert.ok(names(file).length > 0, file);
  const table1 = new Set(names('table1.json'));
  const priority = names('table1-priority.json');
  assert.equal(priority.length, 40);
  assert.deepEqual(
    priority.filter((name) => !table1.has(name)),
    [],
  );
  assert.deepEqual(priority.slice(0, 2), ['default/v3-100-s0', 'default/baseline-100-s0']);
});
