/**
 * The one seeded pseudo-random generator of the tests and benchmarks (mulberry32), so that a
 * property test or a fuzz run draws the same cases on every machine and a failure can be
 * replayed from its seed. Never used by the contract (it must not be random); the demo draws its
 * simulated fleet from the same generator.
 */
import { seededRandom } from '../../demo/index.ts';

export interface SeededRandom {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [lo, hi], both included. */
  between(lo: number, hi: number): number;
  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
}

export function createSeededRandom(seed: number): SeededRandom {
  const next = prng(seed);
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    between: (lo, hi) => lo + int(hi - lo + 1),
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const item = items[i] as T;
        items[i] = items[j] as T;
        items[j] = item;
      }
      return items;
    },
  };
}

/** mulberry32: a float in [0, 1) per call (the demo's fleet is drawn from the same generator). */
export const prng: (seed: number) => () => number = seededRandom;
