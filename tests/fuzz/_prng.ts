/**
 * A tiny seeded PRNG (mulberry32) for the fuzz suite: every input is made
 * from its own 32-bit seed alone, so a failure printed with its seed is
 * reproduced by that seed, whatever ran before it.
 *
 * @module
 */

/** A deterministic source of random numbers. */
export class Prng {
  #state: number;

  /**
   * Starts the sequence of a seed.
   *
   * @param seed any 32-bit integer (taken modulo 2^32)
   */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next 32-bit unsigned integer (mulberry32). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in `[0, n)`; 0 when `n` ≤ 1. */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  /** An integer in `[low, high]`. */
  range(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  /** One of `items` (which must not be empty). */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/**
 * The seed of input number `index` of a run seeded with `runSeed`: a hash, so
 * that neighbouring inputs do not get neighbouring PRNG streams.
 *
 * @param runSeed the run's seed
 * @param index the input's position in the run
 * @returns a 32-bit unsigned seed
 */
export function inputSeed(runSeed: number, index: number): number {
  let h = Math.imul((runSeed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
