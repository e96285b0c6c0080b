/**
 * Doubles that stay doubles. JavaScript has one `number` type, so `2.0`
 * and `2` are the same value; most other languages tell them apart, and a
 * Python caller that sends `2.0` expects a `float` back, not an `int`. A
 * {@linkcode Float} marks a number as a double for the codecs that tell
 * them apart (XML-RPC `<double>`, msgpack float 64, JSON `2.0`), whatever
 * its value; codecs asked to keep the distinction (`keepFloats`) decode
 * doubles as `Float`s. Services defined with zod mark their results by
 * their schemas (see {@linkcode markFloats}), so most code never writes one.
 *
 * @example Sending 2 as a double
 * ```ts
 * import assert from "node:assert/strict";
 * import { float, Float } from "./float.ts";
 *
 * const two = float(2);
 * assert.ok(two instanceof Float);
 * assert.equal(+two + 1, 3); // arithmetic sees the number
 * assert.equal(JSON.stringify([two, float(-0)]), "[2.0,-0.0]");
 * ```
 *
 * @module
 */

/**
 * A number that travels as a double even when it is whole: `float(2)` is
 * `<double>2.0</double>` in XML-RPC, float 64 in msgpack and `2.0` in JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Float } from "./float.ts";
 *
 * const f = new Float(-0);
 * assert.ok(Object.is(f.value, -0));
 * assert.equal(String(f), "-0.0");
 * ```
 */
export class Float {
  /** The number. */
  readonly value: number;

  /**
   * Wraps a number.
   *
   * @param value any number, `NaN` and the infinities included
   * @throws {TypeError} when `value` is not a number
   */
  constructor(value: number) {
    if (typeof value !== "number") {
      throw new TypeError(`a Float wraps a number, got ${typeof value}`);
    }
    this.value = value;
  }

  /** The number, so that arithmetic and comparisons see it. */
  valueOf(): number {
    return this.value;
  }

  /** The number as a double's text: `2.0`, `-0.0`, `0.5`, `NaN`. */
  toString(): string {
    return floatText(this.value);
  }

  /**
   * What `JSON.stringify` writes: the number with its decimal point
   * (`2.0`), where the runtime has `JSON.rawJSON`; the plain number
   * otherwise.
   *
   * @throws {TypeError} for `NaN` and the infinities, which JSON cannot carry
   */
  toJSON(): unknown {
    if (!Number.isFinite(this.value)) {
      throw new TypeError(`JSON cannot carry the double ${floatText(this.value)}`);
    }
    return rawJson === undefined ? this.value : rawJson(floatText(this.value));
  }
}

const rawJson = (JSON as { rawJSON?: (text: string) => unknown }).rawJSON;

/**
 * The text of a double as other languages print it: whole numbers with
 * `.0` (`2.0`, `-0.0`, `1e+21`), others as JavaScript prints them.
 *
 * @param value the number
 * @returns its text
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { floatText } from "./float.ts";
 *
 * assert.deepEqual([2, -0, 0.5, 1e21].map(floatText), ["2.0", "-0.0", "0.5", "1e+21"]);
 * ```
 */
export function floatText(value: number): string {
  if (Object.is(value, -0)) return "-0.0";
  const text = String(value);
  return Number.isInteger(value) && !text.includes("e") ? text + ".0" : text;
}

/**
 * Marks a number as a double.
 *
 * @param value the number
 * @returns it, wrapped
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { float } from "./float.ts";
 *
 * assert.equal(float(1.5).value, 1.5);
 * ```
 */
export function float(value: number): Float {
  return new Float(value);
}

/**
 * Whether a value is a {@linkcode Float}.
 *
 * @param value anything
 * @returns `true` for a `Float`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { float, isFloat } from "./float.ts";
 *
 * assert.ok(isFloat(float(1)) && !isFloat(1));
 * ```
 */
export function isFloat(value: unknown): value is Float {
  return value instanceof Float;
}
