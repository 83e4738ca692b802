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
