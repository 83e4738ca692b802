#!/usr/bin/env node
/**
 * `npm run bench:tsne`: seconds to embed N points with each t-SNE method on this machine, and
 * how well each embedding keeps neighbourhoods (the share of a point's 10 nearest neighbours in
 * the plane that come from its own cluster, next to the same share in the input).
 *
 * The input is a stand-in for latent codes: N points in 50 dimensions from ten overlapping
 * Gaussian clusters (centres 0.6 · N(0, I), unit spread: about as mixed as digits in z), the same for every method. The exact
 * methods (tsne-js, keckelt) cost O(N²) per iteration, so they are measured on small N and few
 * iterations only; the table also gives their time extrapolated to 3,000 points × 1,000
 * iterations as (measured CPU s / iteration) × (3000 / N)² × 1000, marked as an extrapolation
 * (it ignores the O(N²) set-up and any early stop, so it is rough). Wall time and CPU time are
 * both printed: on a shared machine the wall time of the same case varies by a factor of two.
 *
 *   node lib/dist/tools/bench-tsne.js                       the default set of cases (a few minutes)
 *   node lib/dist/tools/bench-tsne.js --case barnes-hut:3000:1000 --case tsne-js:300:300
 *   node lib/dist/tools/bench-tsne.js --json                one JSON line per case as well
 */
import { parseArgs } from 'node:util';
import { standardNormal } from '../core/random';
import { neighbourPurity, tsne, TSNE_METHODS, type TsneMethod, type TsneOptions } from '../analysis/tsne';

interface Case {
  method: TsneMethod;
  n: number;
  iterations: number;
  options?: TsneOptions;
  label?: string;
}

const DEFAULT_CASES: Case[] = [
  { method: 'barnes-hut', n: 500, iterations: 1000 },
  { method: 'barnes-hut', n: 1000, iterations: 1000 },
  { method: 'barnes-hut', n: 2000, iterations: 1000 },
  { method: 'barnes-hut', n: 3000, iterations: 1000 },
  { method: 'barnes-hut', n: 3000, iterations: 500, options: { exaggerationIterations: 200 }, label: 'exagg. 200 it.' },
  { method: 'barnes-hut', n: 3000, iterations: 1000, options: { perplexity: 50 }, label: 'perplexity 50' },
  { method: 'keckelt', n: 500, iterations: 500 },
  { method: 'keckelt', n: 1000, iterations: 200 },
  { method: 'tsne-js', n: 300, iterations: 500 },
  { method: 'tsne-js', n: 500, iterations: 200 },
  { method: 'tsne-js', n: 500, iterations: 200, options: { perplexity: 10 }, label: 'perplexity 10' },
];

/** Ten overlapping Gaussian clusters in `dims` dimensions; point i belongs to cluster i mod 10. */
export function clusteredPoints(n: number, dims = 50, seed = 7): { points: Float32Array; labels: Int32Array } {
  const k = 10;
  const centres = standardNormal(k * dims, seed);
  const noise = standardNormal(n * dims, seed + 1);
  const points = new Float32Array(n * dims);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    labels[i] = c;
    for (let d = 0; d < dims; d++) points[i * dims + d] = 0.6 * centres[c * dims + d]! + noise[i * dims + d]!;
  }
  return { points, labels };
}

function parseCase(text: string): Case {
  const [method, n, iterations] = text.split(':');
  if (!TSNE_METHODS.includes(method as TsneMethod) || !(Number(n) >= 4) || !(Number(iterations) >= 1)) {
    throw new Error(`--case must be METHOD:N:ITERATIONS with METHOD one of ${TSNE_METHODS.join(', ')}, got "${text}"`);
  }
  return { method: method as TsneMethod, n: Number(n), iterations: Number(iterations) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { case: { type: 'string', multiple: true }, json: { type: 'boolean' } } });
  const cases = values.case?.map(parseCase) ?? DEFAULT_CASES;
  console.log(
    'method       N      iterations  setting          wall s   CPU s  CPU ms/iter  purity(2-d)  purity(50-d)  extrapolated 3000×1000 (CPU)',
  );
  for (const c of cases) {
    const { points, labels } = clusteredPoints(c.n);
    const cpuBefore = process.cpuUsage();
    const result = await tsne(points, 50, { ...c.options, method: c.method, iterations: c.iterations, seed: 0 });
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const purity2 = neighbourPurity(result.embedding, 2, labels, 10);
    const purity50 = neighbourPurity(points, 50, labels, 10);
    // CPU time, not wall time, is what the extrapolation scales: the host is shared and noisy.
    const perIteration = cpuSeconds / result.iterations;
    const exact = c.method !== 'barnes-hut';
    const extrapolated = exact ? `~${Math.round(perIteration * (3000 / c.n) ** 2 * 1000)} s (extrapolated)` : '';
    console.log(
      [
        c.method.padEnd(12),
        String(c.n).padEnd(6),
        `${result.iterations}${result.iterations !== c.iterations ? ` of ${c.iterations}` : ''}`.padEnd(11),
        (c.label ?? 'defaults').padEnd(16),
        result.seconds.toFixed(1).padStart(6),
        cpuSeconds.toFixed(1).padStart(7),
        (1000 * perIteration).toFixed(1).padStart(12),
        purity2.toFixed(3).padStart(12),
        purity50.toFixed(3).padStart(13),
        ` ${extrapolated}`,
      ].join(' '),
    );
    if (values.json) {
      console.log(
        JSON.stringify({ ...c, ran: result.iterations, seconds: result.seconds, cpuSeconds, cost: result.cost, purity2, purity50 }),
      );
    }
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`bench-tsne: ${(err as Error).message}`);
    process.exit(1);
  });
}
