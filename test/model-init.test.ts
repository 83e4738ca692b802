import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createM2, disposeM2, networkVariables, type Init } from 'ssvae';

/** Standard deviation and largest magnitude of a variable's values. */
function spread(values: Float32Array): { std: number; maxAbs: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { std, maxAbs: values.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
}

const shape = { xDim: 784, numClasses: 10, hidden: [500], zDim: 50, likelihood: 'bernoulli' as const };

test("init 'pyro': hidden layers N(0, 0.001²) in weights and biases, output layers PyTorch's U(±1/√fan_in)", () => {
  const m = createM2({ ...shape, init: 'pyro' }, 0);
  const [classifier = [], encoder = [], decoder = []] = networkVariables(m);
  for (const [name, vars, outFanIn] of [
    ['classifier', classifier, 500],
    ['encoder', encoder, 500],
    ['decoder', decoder, 500],
  ] as const) {
    const [hiddenKernel, hiddenBias, outKernel, outBias] = vars.map((v) => spread(v.dataSync() as Float32Array));
    assert.ok(Math.abs(hiddenKernel!.std - 0.001) < 0.00002, `${name} hidden kernel std ${hiddenKernel!.std}`);
    assert.ok(Math.abs(hiddenBias!.std - 0.001) < 0.0002, `${name} hidden bias std ${hiddenBias!.std}`);
    const bound = 1 / Math.sqrt(outFanIn);
    assert.ok(outKernel!.maxAbs <= bound && outKernel!.maxAbs > 0.95 * bound, `${name} output kernel max ${outKernel!.maxAbs} vs ${bound}`);
    assert.ok(Math.abs(outKernel!.std - bound / Math.sqrt(3)) < 0.02 * bound, `${name} output kernel std ${outKernel!.std}`);
    assert.ok(outBias!.maxAbs <= bound && outBias!.maxAbs > 0.3 * bound, `${name} output bias max ${outBias!.maxAbs} vs ${bound}`);
  }
  disposeM2(m);
});

test('each initialisation gives different weights, the same seed the same ones', () => {
  const first = (init: Init, seed: number) => {
    const m = createM2({ ...shape, hidden: [20], init }, seed);
    const values = Array.from(networkVariables(m)[0]![0]!.dataSync().slice(0, 50));
    disposeM2(m);
    return values;
  };
  assert.deepEqual(first('pyro', 3), first('pyro', 3));
  assert.notDeepEqual(first('pyro', 3), first('pyro', 4));
  assert.notDeepEqual(first('pyro', 3), first('glorot-normal', 3));
});
