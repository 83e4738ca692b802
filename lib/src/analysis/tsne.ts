/**
 * t-SNE embeddings of latent codes in the plane, for pictures of the latent space.
 *
 * t-SNE (van der Maaten & Hinton 2008) places N points y_i in the plane so that the distribution
 *   q_ij = (1 + ‖y_i − y_j‖²)⁻¹ / Σ_{k≠l} (1 + ‖y_k − y_l‖²)⁻¹
 * matches the input affinities p_ij (Gaussian neighbourhoods of the high-dimensional points,
 * each of width set so that its perplexity is fixed), by gradient descent on KL(P ‖ Q):
 *   ∂C/∂y_i = 4 Σ_j (p_ij − q_ij) (1 + ‖y_i − y_j‖²)⁻¹ (y_i − y_j).
 *
 * Three implementations, chosen by `method`:
 * - 'barnes-hut' (default, written here after van der Maaten 2014): p_ij only over each point's
 *   ⌊3·perplexity⌋ nearest neighbours (sparse), and the repulsive part of the gradient from a
 *   quadtree where a far cell acts as one point at its centre of mass (cell side / distance < θ).
 *   O(N log N) per iteration instead of O(N²); θ = 0 makes it exact.
 * - 'tsne-js': the npm package tsne-js (exact, O(N²) per iteration, and in its own affinities
 *   uses plain rather than squared distances); the design's original choice, kept to compare.
 * - 'keckelt': the npm package @keckelt/tsne (exact, a port of Karpathy's tsnejs).
 * Measured on this machine with `npm run bench:tsne` (bench-tsne.ts): 3,000 points × 1,000
 * iterations take about 14 CPU seconds with Barnes–Hut, against roughly 340 s (keckelt) and
 * 2,400 s (tsne-js) extrapolated from small runs; notebook 8 has the table.
 */
import { makeRng, standardNormal } from '../core/random';

export type TsneMethod = 'barnes-hut' | 'tsne-js' | 'keckelt';
export const TSNE_METHODS: readonly TsneMethod[] = ['barnes-hut', 'tsne-js', 'keckelt'];

export interface TsneProgress {
  iteration: number;
  iterations: number;
  /** KL(P ‖ Q) with the current embedding (Barnes–Hut: with its estimate of the normaliser). */
  cost?: number;
  seconds: number;
}

export interface TsneOptions {
  /** Default 'barnes-hut'. */
  method?: TsneMethod;
  /** Effective number of neighbours of each point (default 30; capped at (N − 1) / 3). */
  perplexity?: number;
  /** Gradient steps (default 1000). tsne-js may stop earlier by its own criteria. */
  iterations?: number;
  /** Barnes–Hut accuracy, in [0, 0.7): 0 is exact; default 0.5. */
  theta?: number;
  /**
   * Step size. Barnes–Hut default 'auto' = max(N / (4 · exaggeration), 1): Belkina et al.'s
   * (2019) rule N / exaggeration, divided by the factor 4 our gradient carries. It keeps the
   * exaggerated phase stable for small N too (a fixed 200, or sklearn's floor of 50, makes a
   * hundred points oscillate). tsne-js default 100; keckelt default 10.
   */
  learningRate?: number | 'auto';
  /** Factor on P in the first phase (Barnes–Hut default 12; tsne-js default 4; keckelt fixed at 4). */
  earlyExaggeration?: number;
  /** Length of the exaggerated phase (Barnes–Hut; default 250). */
  exaggerationIterations?: number;
  /** Seeds the initial embedding (all three methods). Default 0. */
  seed?: number;
  /** Call onProgress (and let other work run) every this many iterations (default 50). */
  progressEvery?: number;
  onProgress?: (progress: TsneProgress) => void;
}

export interface TsneResult {
  /** N × 2, row-major. */
  embedding: Float32Array;
  count: number;
  method: TsneMethod;
  /** Iterations actually run. */
  iterations: number;
  /** The perplexity used (after capping for small N). */
  perplexity: number;
  /** Final KL(P ‖ Q) where the method reports it. */
  cost?: number;
  seconds: number;
}

function checkInput(points: Float32Array | Float64Array, dims: number): number {
  if (!Number.isInteger(dims) || dims <= 0) throw new Error(`tsne: dims must be a positive integer, got ${dims}`);
  if (points.length % dims !== 0) throw new Error(`tsne: ${points.length} values are not a whole number of ${dims}-dimensional points`);
  const n = points.length / dims;
  if (n < 4) throw new Error(`tsne: need at least 4 points, got ${n}`);
  for (let i = 0; i < points.length; i++) {
    if (!Number.isFinite(points[i]!)) throw new Error(`tsne: value ${i} (point ${Math.floor(i / dims)}) is not finite`);
  }
  return n;
}

/**
 * The k nearest neighbours of every point (brute force, squared Euclidean distance), each row
 * sorted nearest first: indices and squared distances, both N × k.
 */
export function nearestNeighbours(
  points: Float32Array | Float64Array,
  dims: number,
  k: number,
): { indices: Int32Array; distances: Float64Array } {
  const n = points.length / dims;
  if (!Number.isInteger(k) || k < 1 || k >= n) throw new Error(`nearestNeighbours: k must be an integer in [1, ${n - 1}], got ${k}`);
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  // A max-heap of the k best so far per row: its top is the worst neighbour kept.
  const heapD = new Float64Array(k);
  const heapI = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    let size = 0;
    const oi = i * dims;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const oj = j * dims;
      let d = 0;
      for (let c = 0; c < dims; c++) {
        const diff = points[oi + c]! - points[oj + c]!;
        d += diff * diff;
      }
      if (size < k) {
        // Sift up.
        let pos = size++;
        while (pos > 0) {
          const parent = (pos - 1) >> 1;
          if (heapD[parent]! >= d) break;
          heapD[pos] = heapD[parent]!;
          heapI[pos] = heapI[parent]!;
          pos = parent;
        }
        heapD[pos] = d;
        heapI[pos] = j;
      } else if (d < heapD[0]!) {
        // Replace the top and sift down.
        let pos = 0;
        for (;;) {
          const left = 2 * pos + 1;
          if (left >= k) break;
          const right = left + 1;
          const bigger = right < k && heapD[right]! > heapD[left]! ? right : left;
          if (heapD[bigger]! <= d) break;
          heapD[pos] = heapD[bigger]!;
          heapI[pos] = heapI[bigger]!;
          pos = bigger;
        }
        heapD[pos] = d;
        heapI[pos] = j;
      }
    }
    const order = Array.from({ length: k }, (_, t) => t).sort((a, b) => heapD[a]! - heapD[b]! || heapI[a]! - heapI[b]!);
    order.forEach((t, r) => {
      indices[i * k + r] = heapI[t]!;
      distances[i * k + r] = heapD[t]!;
    });
  }
  return { indices, distances };
}

/** Symmetric sparse P in compressed rows: the neighbours j of i are columns[rowStart[i] … rowStart[i+1]). */
export interface SparseAffinities {
  count: number;
  rowStart: Int32Array;
  columns: Int32Array;
  values: Float64Array;
  perplexity: number;
}

/**
 * Conditional p_{j|i} ∝ exp(−β_i d_ij²) over the row's neighbours, β_i found by bisection so that
 * the entropy H(P_i) = log(perplexity) (natural log). Distances are squared and sorted.
 */
function calibrateRow(d2: Float64Array, offset: number, k: number, targetEntropy: number, out: Float64Array): void {
  const dMin = d2[offset]!; // shifting by the smallest distance avoids exp underflow
  let beta = 1;
  let betaLow = 0;
  let betaHigh = Infinity;
  let sum = 0;
  for (let step = 0; step < 200; step++) {
    sum = 0;
    let weighted = 0;
    for (let t = 0; t < k; t++) {
      const shifted = d2[offset + t]! - dMin;
      const p = Math.exp(-beta * shifted);
      out[offset + t] = p;
      sum += p;
      weighted += shifted * p;
    }
    // H = −Σ p log p with p = e^{−β s} / S:  H = log S + β Σ s e^{−β s} / S.
    const entropy = Math.log(sum) + (beta * weighted) / sum;
    const gap = entropy - targetEntropy;
    if (Math.abs(gap) < 1e-5) break;
    if (gap > 0) {
      betaLow = beta; // too flat: sharpen
      beta = betaHigh === Infinity ? beta * 2 : (beta + betaHigh) / 2;
    } else {
      betaHigh = beta;
      beta = (beta + betaLow) / 2;
    }
  }
  for (let t = 0; t < k; t++) out[offset + t] = out[offset + t]! / sum;
}

/**
 * The input affinities of Barnes–Hut t-SNE: conditional probabilities over the ⌊3·perplexity⌋
 * nearest neighbours, symmetrised as p_ij = (p_{j|i} + p_{i|j}) / 2N (so Σ_ij p_ij = 1).
 */
export function sparseAffinities(points: Float32Array | Float64Array, dims: number, perplexity = 30): SparseAffinities {
  const n = checkInput(points, dims);
  if (!(perplexity > 0)) throw new Error(`tsne: perplexity must be positive, got ${perplexity}`);
  const used = Math.min(perplexity, (n - 1) / 3);
  const k = Math.min(n - 1, Math.floor(3 * used));
  const { indices, distances } = nearestNeighbours(points, dims, k);
  const conditional = new Float64Array(n * k);
  const target = Math.log(used);
  for (let i = 0; i < n; i++) calibrateRow(distances, i * k, k, target, conditional);
  const rows: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t]!;
      const v = conditional[i * k + t]! / (2 * n);
      const ri = rows[i]!;
      const rj = rows[j]!;
      ri.set(j, (ri.get(j) ?? 0) + v);
      rj.set(i, (rj.get(i) ?? 0) + v);
    }
  }
  const rowStart = new Int32Array(n + 1);
  rows.forEach((row, i) => (rowStart[i + 1] = rowStart[i]! + row.size));
  const columns = new Int32Array(rowStart[n]!);
  const values = new Float64Array(rowStart[n]!);
  rows.forEach((row, i) => {
    let at = rowStart[i]!;
    for (const [j, v] of [...row.entries()].sort(([a], [b]) => a - b)) {
      columns[at] = j;
      values[at++] = v;
    }
  });
  return { count: n, rowStart, columns, values, perplexity: used };
}

// ---------------------------------------------------------------------------------------------
// The quadtree of the embedding, rebuilt every iteration. Nodes live in flat arrays; each node
// covers a contiguous range of `order` (the point indices, permuted while partitioning).

const MAX_DEPTH = 48;

class QuadTree {
  order: Int32Array;
  start = new Int32Array(0);
  end = new Int32Array(0);
  child = new Int32Array(0);
  comX = new Float64Array(0);
  comY = new Float64Array(0);
  side = new Float64Array(0);
  nodes = 0;

  constructor(private readonly n: number) {
    this.order = new Int32Array(n);
    this.grow(4 * n + 16);
  }

  private grow(capacity: number): void {
    const copy = <T extends Int32Array | Float64Array>(old: T, make: (size: number) => T, size: number): T => {
      const fresh = make(size);
      fresh.set(old as never);
      return fresh;
    };
    this.start = copy(this.start, (s) => new Int32Array(s), capacity);
    this.end = copy(this.end, (s) => new Int32Array(s), capacity);
    this.child = copy(this.child, (s) => new Int32Array(s), 4 * capacity);
    this.comX = copy(this.comX, (s) => new Float64Array(s), capacity);
    this.comY = copy(this.comY, (s) => new Float64Array(s), capacity);
    this.side = copy(this.side, (s) => new Float64Array(s), capacity);
  }

  build(y: Float64Array): void {
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < this.n; i++) {
      this.order[i] = i;
      const px = y[2 * i]!;
      const py = y[2 * i + 1]!;
      if (px < minX) minX = px;
      if (px > maxX) maxX = px;
      if (py < minY) minY = py;
      if (py > maxY) maxY = py;
    }
    const side = Math.max(maxX - minX, maxY - minY) * (1 + 1e-9) + 1e-12;
    this.nodes = 0;
    this.node(y, 0, this.n, minX, minY, side, 0);
  }

  /** Partitions order[s, e) so that points with coordinate `axis` < threshold come first. */
  private partition(y: Float64Array, s: number, e: number, axis: 0 | 1, threshold: number): number {
    const order = this.order;
    let i = s;
    let j = e - 1;
    while (i <= j) {
      const p = order[i]!;
      if (y[2 * p + axis]! < threshold) i++;
      else {
        order[i] = order[j]!;
        order[j] = p;
        j--;
      }
    }
    return i;
  }

  private node(y: Float64Array, s: number, e: number, x0: number, y0: number, side: number, depth: number): number {
    if (this.nodes === this.start.length) this.grow(2 * this.start.length);
    const id = this.nodes++;
    this.start[id] = s;
    this.end[id] = e;
    this.side[id] = side;
    let cx = 0;
    let cy = 0;
    for (let t = s; t < e; t++) {
      const p = this.order[t]!;
      cx += y[2 * p]!;
      cy += y[2 * p + 1]!;
    }
    this.comX[id] = cx / (e - s);
    this.comY[id] = cy / (e - s);
    const base = 4 * id;
    if (e - s <= 1 || depth >= MAX_DEPTH) {
      this.child.fill(-1, base, base + 4); // a leaf (a deep one may hold coincident points)
      return id;
    }
    const half = side / 2;
    const xm = x0 + half;
    const ym = y0 + half;
    const m = this.partition(y, s, e, 1, ym); //  [s, m): lower half, [m, e): upper half
    const a = this.partition(y, s, m, 0, xm); //  [s, a): lower left, [a, m): lower right
    const b = this.partition(y, m, e, 0, xm); //  [m, b): upper left, [b, e): upper right
    // (Children are built before being stored: building may replace the arrays.)
    const c0 = s < a ? this.node(y, s, a, x0, y0, half, depth + 1) : -1;
    const c1 = a < m ? this.node(y, a, m, xm, y0, half, depth + 1) : -1;
    const c2 = m < b ? this.node(y, m, b, x0, ym, half, depth + 1) : -1;
    const c3 = b < e ? this.node(y, b, e, xm, ym, half, depth + 1) : -1;
    this.child[base] = c0;
    this.child[base + 1] = c1;
    this.child[base + 2] = c2;
    this.child[base + 3] = c3;
    return id;
  }
}

/**
 * The t-SNE gradient (written into `grad`, N × 2) for embedding `y` and affinities P scaled by
 * `exaggeration`; returns the normaliser Z = Σ_{k≠l} (1 + ‖y_k − y_l‖²)⁻¹. With θ > 0 the
 * repulsive part comes from the quadtree; θ = 0 visits every pair (exact).
 *
 *   ∂C/∂y_i = 4 [ Σ_j p_ij w_ij (y_i − y_j)  −  (1/Z) Σ_j w_ij² (y_i − y_j) ],  w_ij = (1 + ‖y_i − y_j‖²)⁻¹
 */
export function tsneGradient(y: Float64Array, P: SparseAffinities, grad: Float64Array, theta = 0.5, exaggeration = 1): number {
  return gradient(y, P, grad, theta, exaggeration, new QuadTree(P.count));
}

function gradient(y: Float64Array, P: SparseAffinities, grad: Float64Array, theta: number, exaggeration: number, t: QuadTree): number {
  const n = P.count;
  // Below 1/√2 a cell holding point i is always opened, so no point ever repels itself.
  if (!(theta >= 0 && theta < 0.7)) throw new Error(`tsne: theta must lie in [0, 0.7), got ${theta}`);
  t.build(y);
  const theta2 = theta * theta;
  const stack = new Int32Array(4 * (MAX_DEPTH + 2));
  const { order, start, end, child, comX, comY, side } = t;
  let z = 0;
  // Repulsion: accumulate Σ_j w_ij² (y_i − y_j) per point, and Z.
  for (let i = 0; i < n; i++) {
    const xi = y[2 * i]!;
    const yi = y[2 * i + 1]!;
    let fx = 0;
    let fy = 0;
    let top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const node = stack[--top]!;
      const base = 4 * node;
      const leaf = child[base]! < 0 && child[base + 1]! < 0 && child[base + 2]! < 0 && child[base + 3]! < 0;
      if (leaf) {
        for (let s = start[node]!; s < end[node]!; s++) {
          const j = order[s]!;
          if (j === i) continue;
          const dx = xi - y[2 * j]!;
          const dy = yi - y[2 * j + 1]!;
          const w = 1 / (1 + dx * dx + dy * dy);
          z += w;
          fx += w * w * dx;
          fy += w * w * dy;
        }
        continue;
      }
      const dx = xi - comX[node]!;
      const dy = yi - comY[node]!;
      const d2 = dx * dx + dy * dy;
      const s = side[node]!;
      if (s * s < theta2 * d2) {
        // A far cell acts as its points gathered at their centre of mass.
        const count = end[node]! - start[node]!;
        const w = 1 / (1 + d2);
        z += count * w;
        fx += count * w * w * dx;
        fy += count * w * w * dy;
      } else {
        for (let c = 0; c < 4; c++) {
          const ch = child[base + c]!;
          if (ch >= 0) stack[top++] = ch;
        }
      }
    }
    grad[2 * i] = fx;
    grad[2 * i + 1] = fy;
  }
  // Attraction over the sparse P, combined with repulsion / Z.
  const { rowStart, columns, values } = P;
  for (let i = 0; i < n; i++) {
    const xi = y[2 * i]!;
    const yi = y[2 * i + 1]!;
    let ax = 0;
    let ay = 0;
    for (let s = rowStart[i]!; s < rowStart[i + 1]!; s++) {
      const j = columns[s]!;
      const dx = xi - y[2 * j]!;
      const dy = yi - y[2 * j + 1]!;
      const a = (exaggeration * values[s]!) / (1 + dx * dx + dy * dy);
      ax += a * dx;
      ay += a * dy;
    }
    grad[2 * i] = 4 * (ax - grad[2 * i]! / z);
    grad[2 * i + 1] = 4 * (ay - grad[2 * i + 1]! / z);
  }
  return z;
}

/** KL(P ‖ Q) over the non-zero p_ij, with q_ij = w_ij / Z. */
function klDivergence(y: Float64Array, P: SparseAffinities, z: number): number {
  let kl = 0;
  for (let i = 0; i < P.count; i++) {
    for (let s = P.rowStart[i]!; s < P.rowStart[i + 1]!; s++) {
      const p = P.values[s]!;
      if (p <= 0) continue;
      const j = P.columns[s]!;
      const dx = y[2 * i]! - y[2 * j]!;
      const dy = y[2 * i + 1]! - y[2 * j + 1]!;
      kl += p * Math.log(p * z * (1 + dx * dx + dy * dy));
    }
  }
  return kl;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function barnesHut(points: Float32Array | Float64Array, dims: number, options: TsneOptions, started: number): Promise<TsneResult> {
  const n = checkInput(points, dims);
  const iterations = options.iterations ?? 1000;
  const theta = options.theta ?? 0.5;
  const exaggeration = options.earlyExaggeration ?? 12;
  const exaggerationIterations = Math.min(options.exaggerationIterations ?? 250, iterations);
  const rate =
    options.learningRate === undefined || options.learningRate === 'auto' ? Math.max(n / (4 * exaggeration), 1) : options.learningRate;
  const every = options.progressEvery ?? 50;
  const P = sparseAffinities(points, dims, options.perplexity ?? 30);

  // Start from a tiny random Gaussian cloud, y_i ~ N(0, 10⁻⁴ I).
  const y = Float64Array.from(standardNormal(2 * n, options.seed ?? 0), (v) => 1e-4 * v);
  const grad = new Float64Array(2 * n);
  const update = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const tree = new QuadTree(n);
  let z = 1;
  for (let it = 0; it < iterations; it++) {
    const exaggerated = it < exaggerationIterations;
    z = gradient(y, P, grad, theta, exaggerated ? exaggeration : 1, tree);
    const momentum = exaggerated ? 0.5 : 0.8;
    let meanX = 0;
    let meanY = 0;
    for (let c = 0; c < 2 * n; c++) {
      const g = grad[c]!;
      // Per-coordinate gains (delta-bar-delta): grow while the step keeps going downhill
      // (gradient and last step of opposite signs), shrink when the gradient turns round.
      const gain = Math.max(Math.sign(g) !== Math.sign(update[c]!) ? gains[c]! + 0.2 : gains[c]! * 0.8, 0.01);
      gains[c] = gain;
      const u = momentum * update[c]! - rate * gain * g;
      update[c] = u;
      y[c] = y[c]! + u;
      if (c % 2 === 0) meanX += y[c]!;
      else meanY += y[c]!;
    }
    meanX /= n;
    meanY /= n;
    for (let i = 0; i < n; i++) {
      y[2 * i] = y[2 * i]! - meanX;
      y[2 * i + 1] = y[2 * i + 1]! - meanY;
    }
    if (options.onProgress && ((it + 1) % every === 0 || it + 1 === iterations)) {
      options.onProgress({ iteration: it + 1, iterations, cost: klDivergence(y, P, z), seconds: (performance.now() - started) / 1000 });
    }
    if ((it + 1) % every === 0) await yieldToEventLoop();
  }
  return {
    embedding: Float32Array.from(y),
    count: n,
    method: 'barnes-hut',
    iterations,
    perplexity: P.perplexity,
    cost: klDivergence(y, P, z),
    seconds: (performance.now() - started) / 1000,
  };
}

/** Runs `fn` with Math.random replaced by a seeded generator (the packages seed nothing themselves). */
function withSeededRandom<T>(seed: number, fn: () => T): T {
  const original = Math.random;
  Math.random = makeRng(seed, 'tsne-init');
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

function rowsOf(points: Float32Array | Float64Array, dims: number, n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from(points.subarray(i * dims, (i + 1) * dims)));
}

interface TsneJsModel {
  init(opts: { data: number[][]; type: 'dense' }): void;
  run(): [number, number];
  getOutput(): number[][];
  on(event: 'progressIter', listener: (info: [number, number, number]) => void): void;
}

function runTsneJs(points: Float32Array | Float64Array, dims: number, options: TsneOptions, started: number): TsneResult {
  const n = checkInput(points, dims);
  type Ctor = new (config: Record<string, unknown>) => TsneJsModel;
  // tsne-js has no type declarations; its CommonJS build exports the class itself.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exported = require('tsne-js') as Ctor | { default: Ctor };
  const TSNE = 'default' in exported ? exported.default : exported;
  const perplexity = Math.min(options.perplexity ?? 30, (n - 1) / 3);
  const iterations = options.iterations ?? 1000;
  const model = new TSNE({
    dim: 2,
    perplexity,
    earlyExaggeration: options.earlyExaggeration ?? 4,
    learningRate: options.learningRate === undefined || options.learningRate === 'auto' ? 100 : options.learningRate,
    nIter: iterations,
    metric: 'euclidean',
  });
  const every = options.progressEvery ?? 50;
  if (options.onProgress) {
    const report = options.onProgress;
    model.on('progressIter', ([iteration, cost]) => {
      if ((iteration + 1) % every === 0)
        report({ iteration: iteration + 1, iterations, cost, seconds: (performance.now() - started) / 1000 });
    });
  }
  withSeededRandom(options.seed ?? 0, () => model.init({ data: rowsOf(points, dims, n), type: 'dense' }));
  const [cost, done] = model.run();
  const out = model.getOutput();
  return {
    embedding: Float32Array.from(out.flat()),
    count: n,
    method: 'tsne-js',
    iterations: done,
    perplexity,
    cost,
    seconds: (performance.now() - started) / 1000,
  };
}

interface KeckeltModel {
  initDataRaw(data: number[][]): void;
  step(): number;
  getSolution(): number[][];
}

async function runKeckelt(points: Float32Array | Float64Array, dims: number, options: TsneOptions, started: number): Promise<TsneResult> {
  const n = checkInput(points, dims);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TSNE } = require('@keckelt/tsne') as { TSNE: new (opt: Record<string, unknown>) => KeckeltModel };
  const perplexity = Math.min(options.perplexity ?? 30, (n - 1) / 3);
  const iterations = options.iterations ?? 1000;
  const every = options.progressEvery ?? 50;
  const model = new TSNE({
    epsilon: options.learningRate === undefined || options.learningRate === 'auto' ? 10 : options.learningRate,
    perplexity,
    dim: 2,
  });
  withSeededRandom(options.seed ?? 0, () => model.initDataRaw(rowsOf(points, dims, n)));
  let cost: number | undefined;
  for (let it = 0; it < iterations; it++) {
    cost = model.step();
    if ((it + 1) % every === 0) {
      options.onProgress?.({ iteration: it + 1, iterations, cost, seconds: (performance.now() - started) / 1000 });
      await yieldToEventLoop();
    }
  }
  const out = model.getSolution();
  return {
    embedding: Float32Array.from(out.flat()),
    count: n,
    method: 'keckelt',
    iterations,
    perplexity,
    ...(cost === undefined ? {} : { cost }),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Embeds N points of dimension `dims` (row-major in `points`) in the plane. Returns N × 2
 * coordinates; the scale and rotation carry no meaning, only who is near whom.
 */
export async function tsne(points: Float32Array | Float64Array, dims: number, options: TsneOptions = {}): Promise<TsneResult> {
  const started = performance.now();
  const method = options.method ?? 'barnes-hut';
  switch (method) {
    case 'barnes-hut':
      return barnesHut(points, dims, options, started);
    case 'tsne-js':
      return runTsneJs(points, dims, options, started);
    case 'keckelt':
      return runKeckelt(points, dims, options, started);
    default:
      throw new Error(`tsne: method must be one of ${TSNE_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  }
}

/**
 * How much the neighbourhoods of points follow their labels: the mean, over points, of the
 * fraction of their k nearest neighbours (Euclidean) that share their label. 1 means every
 * neighbourhood is pure; with ten balanced classes, chance is about 0.1.
 */
export function neighbourPurity(points: Float32Array | Float64Array, dims: number, labels: ArrayLike<number>, k = 10): number {
  const n = points.length / dims;
  if (labels.length !== n) throw new Error(`neighbourPurity: ${labels.length} labels for ${n} points`);
  const { indices } = nearestNeighbours(points, dims, k);
  let same = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) if (labels[indices[i * k + t]!] === labels[i]) same++;
  }
  return same / (n * k);
}
