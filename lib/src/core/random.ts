/** Seeded randomness for everything that must be reproducible from a seed (splits, batch order). */
import seedrandom from 'seedrandom';

export type Rng = () => number;

/** A uniform [0, 1) generator determined by `seed` (and an optional stream name). */
export function makeRng(seed: number, stream = ''): Rng {
  return seedrandom(`${seed}/${stream}`);
}

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T>(items: T[] | Int32Array, rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp as never;
  }
}

/** A 32-bit integer seed drawn from `rng`, for TensorFlow ops that take a seed. */
export function drawSeed(rng: Rng): number {
  return Math.floor(rng() * 2 ** 31);
}

/**
 * A fast 32-bit generator (sfc32, Chris Doty-Humphrey's small fast counter), seeded from one
 * integer. Used for bulk noise, where seedrandom's default generator is too slow.
 */
function sfc32(seed: number): Rng {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed | 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // mix the seed in
  return next;
}

/**
 * `count` standard normal draws (Box–Muller), determined by `seed`. Our own loop because
 * tf.randomNormal generates its values in JavaScript one call at a time: ~55 ms for the
 * 2000 × 50 noise of one summed-out step, against ~2 ms here.
 */
export function standardNormal(count: number, seed: number): Float32Array {
  const uniform = sfc32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    // 1 − u lies in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const theta = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(theta);
    if (i + 1 < count) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}

/** `count` uniform [0, 1) draws determined by `seed` (the generator standardNormal uses). */
export function uniform(count: number, seed: number): Float32Array {
  const next = sfc32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = next();
  return out;
}

/**
 * `count` standard Gumbel draws g = −log(−log u), determined by `seed`. u is kept inside
 * [2⁻³³, 1 − 2⁻³³], so every draw is finite (|g| < 24).
 */
export function gumbel(count: number, seed: number): Float32Array {
  const next = sfc32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = -Math.log(-Math.log(next() * (1 - 2 ** -32) + 2 ** -33));
  return out;
}
