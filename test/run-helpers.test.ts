import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { disposeM2, epochLine, findCachedRun, firstEpochs, loadDataset, resultLine, train, trainCached } from 'ssvae';
import { tempDir, writeTinyDataset } from './helpers';

const dataDir = tempDir('helpers-data');
writeTinyDataset(dataDir, 30, 5);
const dataset = loadDataset({ dataDir, validationSize: 100 });
const small = { labels: 50, batchSize: 20, hidden: [8], zDim: 2, xDim: 16, dataset: dataDir, variant: 'v3' as const, seed: 2 };

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
