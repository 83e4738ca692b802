import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  accuracySpec,
  activeUnitsSpec,
  klProfileSpec,
  runLatentUsage,
  vaeLatentUsage,
  confusionMatrix,
  confusionSpec,
  createM2,
  disposeM2,
  disposeVae,
  gradientCosineSpec,
  gradientFlowSpec,
  gradientSnrByModelSpec,
  gradientSnrSpec,
  lossTermsSpec,
  measureGradientVariance,
  digitCountsSpec,
  dimensionSpreadSpec,
  renderSvg,
  runsComparisonSpec,
  stepCostSpec,
  sweepSpec,
  train,
  trainVae,
  semiSupervisedSplits,
  vaeCurveSpec,
  type TopLevelSpec,
} from 'ssvae';
import { tinyTraining } from './helpers';

const { dataDir, dataset, small: tiny } = tinyTraining('plots-data');
const small = { ...tiny, epochs: 2 };

/** Renders the spec and checks that its title is in the SVG (Vega writes text escaped, so compare the escaped form). */
async function rendersWithTitle(spec: TopLevelSpec): Promise<string> {
  const svg = await renderSvg(spec);
  assert.match(svg, /^<svg[\s>]/);
  const title = String(spec.title).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  assert.ok(svg.includes(title), `no title "${title}" in the SVG`);
  return svg;
}

test('loss-term and accuracy charts of v3 and baseline runs render, with legends', async () => {
  for (const variant of ['v3', 'baseline'] as const) {
    const { record } = await train({ ...small, variant }, { dataset });
    const losses = await rendersWithTitle(lossTermsSpec(record));
    assert.ok(losses.includes('>labelled</text>'), 'no legend entry for labelled batches');
    if (variant === 'v3') {
      assert.ok(losses.includes('>unlabelled</text>'));
      assert.ok(losses.includes('KL(q(z|x,y) ‖ p(z))'), 'no panel for the KL term');
    }
    const acc = await rendersWithTitle(accuracySpec(record, { title: `Accuracy of ${variant}` }));
    assert.ok(acc.includes('>validation</text>') && acc.includes('>test</text>'));
  }
});

test('run comparison and sweep charts render with one legend entry per run', async () => {
  const runs = [];
  for (const alpha of [1, 46]) runs.push({ value: alpha, record: (await train({ ...small, variant: 'v3', alpha }, { dataset })).record });
  const comparison = await rendersWithTitle(
    runsComparisonSpec(
      runs.map((r) => ({ label: `α′ = ${r.value}`, record: r.record })),
      { legendTitle: 'α′' },
    ),
  );
  assert.ok(comparison.includes('>α′ = 1</text>') && comparison.includes('>α′ = 46</text>'));
  await rendersWithTitle(
    runsComparisonSpec(
      runs.map((r) => ({ label: String(r.value), record: r.record })),
      { metric: 'testAccuracy', title: 'Test accuracy of the sweep' },
    ),
  );
  const sweep = await rendersWithTitle(sweepSpec(runs, { parameterTitle: 'α′' }));
  assert.ok(sweep.includes('>validation, best epoch</text>') && sweep.includes('>test, at that epoch</text>'));
});

test('gradient-variance and VAE charts render', async () => {
  const m = createM2({ xDim: 16, numClasses: 10, hidden: [8], zDim: 2, init: 'glorot-normal', likelihood: 'bernoulli' }, 0);
  const result = measureGradientVariance(m, dataset.train.images.subarray(0, 10 * 16), { draws: 5, seed: 0, noise: 'y-and-z' });
  disposeM2(m);
  const snr = await rendersWithTitle(gradientSnrSpec(result));
  // Log-scale bars must not be stacked from 0 (log 0 = −∞ draws every bar flat).
  const heights = [...snr.matchAll(/aria-roledescription="bar" d="M[\d.e-]+,[\d.e-]+h[\d.e-]+v([\d.e-]+)/g)].map((m) => Number(m[1]));
  assert.equal(heights.length, 12);
  assert.ok(
    heights.every((h) => h > 0),
    `bar heights ${heights}`,
  );
  for (const e of ['score-function', 'score-function-baseline', 'summed-out'])
    assert.ok(snr.includes(`>${e}</text>`), `no legend entry ${e}`);
  await rendersWithTitle(gradientCosineSpec(result));
  // By model: the classifier's bars of each measurement, grouped under its label in the order given.
  const byModel = await rendersWithTitle(
    gradientSnrByModelSpec([
      { label: 'initial model', result },
      { label: 'trained model', result },
      // A saturated classifier: its true gradient is a rounding error, and so would its SNR be.
      { label: 'collapsed model', result: { ...result, referenceNorms: { ...result.referenceNorms, classifier: 1e-17 } } },
    ]),
  );
  const modelBars = [...byModel.matchAll(/aria-roledescription="bar" d="M[\d.e-]+,[\d.e-]+h[\d.e-]+v([\d.e-]+)/g)];
  assert.equal(modelBars.length, 2 * 3);
  const order = [
    '>initial model</text>',
    '>trained model</text>',
    '<tspan>collapsed model</tspan><tspan x="0" dy="12">(no gradient)</tspan>',
  ].map((t) => byModel.indexOf(t));
  assert.ok(order[0]! >= 0 && order[0]! < order[1]! && order[1]! < order[2]!, `axis labels at ${order}`);
  assert.ok(byModel.includes('>Model measured</text>') && byModel.includes('q(y|x) (classifier)'));
  const { record, vae } = await trainVae(
    { hidden: [8], zDim: 2, xDim: 16, epochs: 2, batchSize: 20, dataset: dataDir },
    { dataset, cache: false },
  );
  disposeVae(vae);
  const curve = await rendersWithTitle(vaeCurveSpec(record, { title: 'VAE bound' }));
  assert.ok(curve.includes('>validation</text>') && curve.includes('−ELBO'));
});

test('gradient-flow, confusion and prediction-count charts render', async () => {
  const flow = await rendersWithTitle(
    gradientFlowSpec([
      { objective: '−L(x,y)', network: 'classifier', norm: null },
      { objective: '−L(x,y)', network: 'encoder', norm: 800 },
      { objective: '−L(x,y)', network: 'decoder', norm: 200 },
      { objective: '−log q(y|x)', network: 'classifier', norm: 30 },
      { objective: '−log q(y|x)', network: 'encoder', norm: null },
      { objective: '−log q(y|x)', network: 'decoder', norm: null },
    ]),
  );
  assert.equal((flow.match(/aria-roledescription="bar"/g) ?? []).length, 3);
  assert.equal((flow.match(/>none<\/text>/g) ?? []).length, 3);
  const { model } = await train({ ...small, variant: 'baseline' }, { dataset, keepModel: true });
  const splits = semiSupervisedSplits(dataset, 50, 0);
  const matrix = confusionMatrix(model!, splits.validation, 10);
  disposeM2(model!);
  const confusion = await rendersWithTitle(confusionSpec(matrix, { title: 'Confusion of a tiny baseline' }));
  assert.equal((confusion.match(/aria-roledescription="rect mark"/g) ?? []).length, 100);
  const counts = await rendersWithTitle(
    digitCountsSpec(
      {
        'true digit': matrix.map((row) => row.reduce((a, b) => a + b, 0)),
        'predicted by q(y|x)': matrix.map((_, k) => matrix.reduce((n, row) => n + row[k]!, 0)),
      },
      { title: 'Predicted against true digits' },
    ),
  );
  assert.ok(counts.includes('>predicted by q(y|x)</text>') && counts.includes('>true digit</text>'));
});

test("M1's dimension-spread chart renders one bar per dimension, kept and dropped in the legend", async () => {
  const svg = await rendersWithTitle(dimensionSpreadSpec([0.9, 0.02, 1.4, 0.05, 0.3], 0.1, { title: 'Spread of z₁' }));
  assert.equal([...svg.matchAll(/aria-roledescription="bar"/g)].length, 5);
  for (const entry of ['kept', 'dropped']) assert.ok(svg.includes(`>${entry}</text>`), `no legend entry ${entry}`);
});

test('active-unit and KL-profile charts render from an M2 run and a VAE, and refuse records without per-dimension KL', async () => {
  const { record } = await train({ ...small, variant: 'v3', zDim: 4 }, { dataset });
  const vae = await trainVae({ hidden: [8], zDim: 3, xDim: 16, epochs: 2, batchSize: 20, dataset: dataDir }, { dataset, cache: false });
  disposeVae(vae.vae);
  const usage = [vaeLatentUsage('VAE', vae.record), runLatentUsage('M2', record)];
  assert.deepEqual(
    usage.map((u) => u.epochs.map((e) => e.klPerDimension.length)),
    [
      [3, 3],
      [4, 4],
    ],
  );
  const active = await rendersWithTitle(activeUnitsSpec(usage));
  for (const model of ['VAE', 'M2']) assert.ok(active.includes(`>${model}</text>`), `no legend entry ${model}`);
  // One point per model and epoch.
  assert.equal((activeUnitsSpec(usage).data as { values: unknown[] }).values.length, 4);
  await rendersWithTitle(klProfileSpec(usage, { title: 'KL per dimension' }));
  const old = { ...record, epochs: record.epochs.map(({ klPerDimension: _, ...e }) => e) };
  assert.throws(() => activeUnitsSpec([runLatentUsage('an old record', old)]), /no per-dimension KL recorded for an old record/);
});

test('step-cost chart: one bar per estimator and K, with heights on a log scale', async () => {
  const rows = [
    { estimator: 'summed out', classes: 10, msPerStep: 160 },
    { estimator: 'Gumbel-softmax', classes: 10, msPerStep: 80 },
    { estimator: 'summed out', classes: 100, msPerStep: 1600 },
    { estimator: 'Gumbel-softmax', classes: 100, msPerStep: 90 },
  ];
  const svg = await rendersWithTitle(stepCostSpec(rows, { title: 'Cost per step' }));
  const heights = [...svg.matchAll(/aria-roledescription="bar" d="M[\d.e-]+,[\d.e-]+h[\d.e-]+v([\d.e-]+)/g)].map((m) => Number(m[1]));
  assert.equal(heights.length, 4);
  assert.ok(
    heights.every((h) => h > 0),
    `bar heights ${heights}`,
  );
  for (const label of ['K = 10', 'K = 100', 'summed out', 'Gumbel-softmax'])
    assert.ok(svg.includes(`>${label}</text>`), `no label ${label}`);
});
