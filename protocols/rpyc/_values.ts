// The TypeScript shapes of the Python values brine carries that JavaScript
// has no type for: complex, slice, frozenset, Ellipsis, NotImplemented.
// Tuples are arrays, floats are Floats (see brine.ts for the whole mapping).

import type { Float } from "../../rpc/float.ts";

/**
 * Python's `Ellipsis` (`...`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBrine, Ellipsis } from "./brine.ts";
 *
 * assert.equal(decodeBrine(new Uint8Array([0x06])), Ellipsis);
 * ```
 */
export const Ellipsis: unique symbol = Symbol.for("python.Ellipsis");

/**
 * Python's `NotImplemented`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBrine, NotImplemented } from "./brine.ts";
 *
 * assert.equal(decodeBrine(new Uint8Array([0x05])), NotImplemented);
 * ```
 */
export const NotImplemented: unique symbol = Symbol.for("python.NotImplemented");

/**
 * A Python `complex`: two doubles.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Complex, decodeBrine, encodeBrine } from "./brine.ts";
 *
 * const z = decodeBrine(encodeBrine(new Complex(1, -0))) as Complex;
 * assert.ok(Object.is(z.imag, -0));
 * ```
 */
export class Complex {
  /** The real part. */
  readonly real: number;
  /** The imaginary part. */
  readonly imag: number;

  /**
   * Makes the complex number `real + imag·j`.
   *
   * @param real the real part
   * @param imag the imaginary part
   */
  constructor(real: number, imag: number) {
    this.real = real;
    this.imag = imag;
  }
}

/**
 * A Python `slice(start, stop, step)`; each part is itself a brine value
 * (usually an int or `null`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBrine, encodeBrine, Slice } from "./brine.ts";
 *
 * assert.deepEqual(decodeBrine(encodeBrine(new Slice(1, null, -1))), new Slice(1, null, -1));
 * ```
 */
export class Slice {
  /** Where the slice starts. */
  readonly start: BrineValue;
  /** Where it stops. */
  readonly stop: BrineValue;
  /** Its step. */
  readonly step: BrineValue;

  /**
   * Makes `slice(start, stop, step)`.
   *
   * @param start where the slice starts
   * @param stop where it stops
   * @param step its step
   */
  constructor(start: BrineValue, stop: BrineValue, step: BrineValue) {
    this.start = start;
    this.stop = stop;
    this.step = step;
  }
}

/**
 * A Python `frozenset`. Its items keep the order they came in; brine does
 * not define one, and JavaScript's `Set` would compare tuples and bytes by
 * identity, so this is a plain list that says "set".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBrine, encodeBrine, FrozenSet } from "./brine.ts";
 *
 * const set = decodeBrine(encodeBrine(new FrozenSet([1, "a"]))) as FrozenSet;
 * assert.deepEqual(set.items, [1, "a"]);
 * ```
 */
export class FrozenSet {
  /** The items, in the order they came. */
  readonly items: readonly BrineValue[];
  /**
   * Makes a frozenset of `items` (duplicates are the caller's to avoid).
   *
   * @param items the items
   */
  constructor(items: Iterable<BrineValue>) {
    this.items = Object.freeze([...items]);
  }
}

/**
 * A value brine carries: `null` (None), booleans, numbers (whole ones are
 * ints), bigints (ints), {@linkcode Float}s (floats), strings (str),
 * `Uint8Array`s (bytes), arrays (tuples), {@linkcode FrozenSet},
 * {@linkcode Slice}, {@linkcode Complex}, {@linkcode Ellipsis},
 * {@linkcode NotImplemented}.
 */
export type BrineValue =
  | null
  | boolean
  | number
  | bigint
  | Float
  | string
  | Uint8Array
  | readonly BrineValue[]
  | FrozenSet
  | Slice
  | Complex
  | typeof Ellipsis
  | typeof NotImplemented;
