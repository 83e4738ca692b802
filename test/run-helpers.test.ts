import assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { disposeM2, epochLine, findCachedRun, firstEpochs, resultLine, train, trainCached } from 'ssvae';
import { tempDir, tinyTraining } from './helpers';

const { dataDir, dataset, small: tiny } = tinyTraining('helpers-data');
const small = { ...tiny, variant: 'v3' as const, seed: 2 };

test('firstEpochs of a 4-epoch run matches a 2-epoch run of the same configuration', async () => {
  const long = (await train({ ...small, epochs: 4 }, { dataset })).record;
  const short = (await train({ ...small, epochs: 2 }, { dataset })).record;
  const cut = firstEpochs(long, 2);
  const strip = (r: typeof long) => r.epochs.map(({ seconds: _s, ...rest }) => rest);
  assert.deepEqual(strip(cut), strip(short));
  assert.deepEqual(cut.result, short.result);
  assert.deepEqual(cut.config, short.config);
  assert.throws(() => firstEpochs(long, 5), /has 4 epochs, cannot take the first 5/);
});

test('findCachedRun finds a finished cached run by configuration and nothing else', async () => {
  const cacheRoot = tempDir('helpers-cache');
  assert.equal(findCachedRun({ ...small, epochs: 2 }, cacheRoot), undefined);
  const run = await trainCached({ ...small, epochs: 2 }, { dataset, cacheRoot, log: () => undefined });
  const found = findCachedRun({ ...small, epochs: 2 }, cacheRoot);
  assert.deepEqual(found?.epochs, run.record.epochs);
  assert.equal(findCachedRun({ ...small, epochs: 3 }, cacheRoot), undefined);
  assert.equal(findCachedRun({ ...small, epochs: 2, alpha: 1 }, cacheRoot), undefined);
});

test('trainCached: the same run again is the same model; other code or an unreadable entry trains again and says so', async () => {
  const cacheRoot = tempDir('helpers-cache-code');
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const config = { ...small, epochs: 1, seed: 4 };
  const a = await trainCached(config, { dataset, cacheRoot, log, code: 'aaaaaaaa' });
  assert.equal(a.fromCache, false);
  assert.deepEqual(lines, []);
  const again = await trainCached(config, { dataset, cacheRoot, log, code: 'aaaaaaaa' });
  assert.equal(again.model, a.model);
  assert.match(lines.pop() ?? '', /^loaded from cache: v3-n50-e1-s4 \(trained less than a minute ago, code aaaaaaaa\) in /);
  disposeM2(a.model);
  const reloaded = await trainCached(config, { dataset, cacheRoot, log, code: 'aaaaaaaa' });
  assert.equal(reloaded.fromCache, true);
  assert.notEqual(reloaded.model, a.model);
  lines.length = 0;
  const b = await trainCached(config, { dataset, cacheRoot, log, code: 'bbbbbbbb' });
  assert.equal(b.fromCache, false);
  assert.deepEqual(lines, ['the cache holds this run trained by other library code (code aaaaaaaa); training it again with code bbbbbbbb']);
  disposeM2(b.model);
  fs.rmSync(path.join(b.dir, 'best'), { recursive: true });
  lines.length = 0;
  const c = await trainCached(config, { dataset, cacheRoot, log, code: 'bbbbbbbb' });
  assert.equal(c.fromCache, false);
  assert.match(lines[0] ?? '', /^the cache entry .*-bbbbbbbb is unreadable \(.*no checkpoint there\); training it again$/);
  assert.deepEqual(
    c.record.epochs.map((e) => e.losses),
    b.record.epochs.map((e) => e.losses),
  );
  disposeM2(reloaded.model);
  disposeM2(c.model);
});

test('epochLine and resultLine say what a run did in one line each', async () => {
  const { record } = await train({ ...small, epochs: 2 }, { dataset });
  const line = epochLine(record.epochs[1]!, 2);
  assert.match(line, /^epoch 2\/2 {2}[\d.]+ s {2}validation [\d.]+% {2}test [\d.]+% {2}\| labelled\.classification /);
  assert.ok(!line.includes('\n'));
  // α′ follows Kingma's rule by default: 0.1 · 200 training images / 50 labels.
  assert.equal(record.derived?.alpha, 0.4);
  assert.match(
    resultLine(record),
    /^v3 \(α′ = 0\.4\), N = 50: best validation accuracy [\d.]+% at epoch [12] of 2, test accuracy there [\d.]+% \(last epoch [\d.]+%\); \d+ s of training$/,
  );
});

test('trainCached: a process asking for a run that another process is training waits for it, then loads it', async () => {
  const cacheRoot = tempDir('helpers-cache-lock');
  const config = { ...small, epochs: 3, seed: 6 };
  // The other process: trains the run, pausing 600 ms after each epoch so that the call below
  // arrives while it trains, and prints "epoch N" as each epoch ends and its losses at the end.
  const script = `
    const { loadDataset, trainCached } = require('ssvae');
    const [dataDir, cacheRoot, config] = process.argv.slice(1);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    (async () => {
      const dataset = loadDataset({ dataDir, validationSize: 100 });
      const run = await trainCached(JSON.parse(config), {
        dataset, cacheRoot, code: 'cccccccc', log: () => undefined,
        onEpoch: (e) => { console.log('epoch ' + e.epoch); Atomics.wait(pause, 0, 0, 600); },
      });
      console.log(JSON.stringify({ fromCache: run.fromCache, losses: run.record.epochs.map((e) => e.losses) }));
    })();
  `;
  const child = cp.spawn(process.execPath, ['-e', script, dataDir, cacheRoot, JSON.stringify(config)], {
    cwd: path.resolve(__dirname, '..'),
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('epoch 1\n')) resolve();
    });
    child.on('close', () => reject(new Error(`the other process ended before its first epoch:\n${out}\n${err}`)));
  });

  const lines: string[] = [];
  const run = await trainCached(config, { dataset, cacheRoot, code: 'cccccccc', log: (line) => lines.push(line) });
  assert.equal(await exited, 0, err);
  const other = JSON.parse(out.trim().split('\n').pop() ?? '') as { fromCache: boolean; losses: unknown[] };
  assert.equal(other.fromCache, false);
  assert.equal(run.fromCache, true);
  assert.match(
    lines[0] ?? '',
    /^the cache entry v3-n50-e3-s6-\w+-cccccccc is being trained by another process \(pid \d+\); waiting for it to finish$/,
  );
  assert.match(lines[1] ?? '', /^loaded from cache: v3-n50-e3-s6 /);
  assert.deepEqual(
    run.record.epochs.map((e) => e.losses),
    other.losses,
  );
  assert.ok(!fs.existsSync(`${run.dir}.lock`), 'the lock is released');
  disposeM2(run.model);
});
