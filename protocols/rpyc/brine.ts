/**
 * Brine, RPyC's serializer of immutable values (`rpyc/core/brine.py`),
 * exactly as Python's RPyC 5.x writes and reads it. One tag byte per value;
 * ints from -48 to 159 are the tag itself; bigger ints travel as decimal
 * text; floats as big-endian doubles; tuples, frozensets and slices nest.
 *
 * The mapping, chosen so that a value comes back with the Python type it
 * left with:
 *
 * | Python | TypeScript, decoded | TypeScript, encoded from |
 * |---|---|---|
 * | `None` | `null` | `null`, `undefined` |
 * | `bool` | `boolean` | `boolean` |
 * | `int` | `number` when safe, else `bigint` | whole `number`, `bigint` |
 * | `float` | {@linkcode Float} (always, even `2.0`) | `Float`, a `number` with a fraction, `-0`, `NaN`, `±Infinity` |
 * | `str` | `string` | `string` (well-formed UTF-16) |
 * | `bytes` | `Uint8Array` | `Uint8Array` |
 * | `tuple` | frozen array | array |
 * | `frozenset` | {@linkcode FrozenSet} | `FrozenSet` |
 * | `slice` | {@linkcode Slice} | `Slice` |
 * | `complex` | {@linkcode Complex} | `Complex` |
 * | `Ellipsis`, `NotImplemented` | the symbols {@linkcode Ellipsis}, {@linkcode NotImplemented} | the same |
 *
 * Decoding is bounded: nesting depth, int digits (Python's own 4 300), and
 * every count checked against the bytes left; anything malformed is a
 * {@linkcode DecodeError}, never another error.
 *
 * @example A Python tuple both ways
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBrine, encodeBrine } from "./brine.ts";
 * import { Float } from "../../rpc/float.ts";
 *
 * const bytes = encodeBrine([1, "é", 2n ** 70n, new Float(2)]);
 * const [one, text, big, two] = decodeBrine(bytes) as unknown[];
 * assert.deepEqual([one, text, big], [1, "é", 2n ** 70n]);
 * assert.ok(two instanceof Float && two.value === 2);
 * ```
 *
 * @module
 */

import { DecodeError } from "../../rpc/errors.ts";
import { Float } from "../../rpc/float.ts";
import { type BrineValue, Complex, Ellipsis, FrozenSet, NotImplemented, Slice } from "./_values.ts";

export { type BrineValue, Complex, Ellipsis, FrozenSet, NotImplemented, Slice } from "./_values.ts";

const T = {
  NONE: 0x00,
  EMPTY_STR: 0x01,
  EMPTY_TUPLE: 0x02,
  TRUE: 0x03,
  FALSE: 0x04,
  NOT_IMPLEMENTED: 0x05,
  ELLIPSIS: 0x06,
  UNICODE: 0x08,
  STR1: 0x0a,
  STR4: 0x0d,
  STR_L1: 0x0e,
  STR_L4: 0x0f,
  TUP1: 0x10,
  TUP4: 0x13,
  TUP_L1: 0x14,
  TUP_L4: 0x15,
  INT_L1: 0x16,
  INT_L4: 0x17,
  FLOAT: 0x18,
  SLICE: 0x19,
  FSET: 0x1a,
  COMPLEX: 0x1b,
} as const;
const IMM_MIN = -0x30;
const IMM_MAX = 0x9f;
const IMM_BASE = 0x50;

/** Limits of {@linkcode decodeBrine}. */
export interface BrineLimits {
  /** Deepest nesting of tuples, frozensets and slices; 100 by default. */
  readonly maxDepth?: number;
  /** Most decimal digits of an int; 4 300 by default, Python's own limit. */
  readonly maxIntDigits?: number;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes a value as brine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBrine } from "./brine.ts";
 *
 * assert.deepEqual(encodeBrine([null, true, 7]), new Uint8Array([0x12, 0x00, 0x03, 0x57]));
 * ```
 *
 * @param value a {@linkcode BrineValue} (`undefined` is `None`)
 * @returns its bytes
 * @throws {TypeError} for anything brine does not carry (objects, functions,
 * strings with lone surrogates), naming it
 */
export function encodeBrine(value: BrineValue | undefined): Uint8Array {
  const out = new Writer();
  write(out, value, 0);
  return out.finish();
}

/**
 * Decodes one brine value that fills all of `bytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBrine } from "./brine.ts";
 * import { DecodeError } from "../../rpc/errors.ts";
 *
 * assert.equal(decodeBrine(new Uint8Array([0x16, 0x03, 0x31, 0x30, 0x30])), 100);
 * assert.throws(() => decodeBrine(new Uint8Array([0x10])), DecodeError);
 * ```
 *
 * @param bytes the encoded value
 * @param limits depth and size limits
 * @returns the value, typed as the module's table says
 * @throws {DecodeError} for malformed, truncated, trailing or too deep input
 */
export function decodeBrine(bytes: Uint8Array, limits: BrineLimits = {}): BrineValue {
  const reader = new Reader(bytes, limits.maxDepth ?? 100, limits.maxIntDigits ?? 4300);
  const value = reader.value(0);
  if (reader.at !== bytes.length) reader.fail(`${bytes.length - reader.at} trailing bytes`);
  return value;
}

// One growing buffer: a packet is mostly single tag bytes, and a small
// array per byte cost more than the rest of a call's encoding together.
class Writer {
  #buf = new Uint8Array(64);
  #at = 0;
  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#at + n));
    bigger.set(this.#buf.subarray(0, this.#at));
    this.#buf = bigger;
  }
  push(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#at);
    this.#at += bytes.length;
  }
  byte(b: number): void {
    this.#room(1);
    this.#buf[this.#at++] = b;
  }
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#at);
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

// A length-prefixed run: the short tags when there are any, else L1 or L4.
function sized(out: Writer, n: number, emptyTag: number, shortTag: number, l1: number, l4: number) {
  if (n === 0) out.byte(emptyTag);
  else if (n <= 4) out.byte(shortTag + n - 1);
  else if (n < 256) out.push(Uint8Array.of(l1, n));
  else {
    out.byte(l4);
    out.push(u32(n));
  }
}

function writeBytes(out: Writer, bytes: Uint8Array): void {
  sized(out, bytes.length, T.EMPTY_STR, T.STR1, T.STR_L1, T.STR_L4);
  out.push(bytes);
}

function writeTuple(out: Writer, items: readonly unknown[], depth: number): void {
  sized(out, items.length, T.EMPTY_TUPLE, T.TUP1, T.TUP_L1, T.TUP_L4);
  for (const item of items) write(out, item, depth + 1);
}

function writeInt(out: Writer, n: bigint): void {
  if (n >= IMM_MIN && n <= IMM_MAX) return out.byte(IMM_BASE + Number(n));
  const text = utf8.encode(n.toString());
  if (text.length < 256) out.push(Uint8Array.of(T.INT_L1, text.length));
  else {
    out.byte(T.INT_L4);
    out.push(u32(text.length));
  }
  out.push(text);
}

function writeDouble(out: Writer, tag: number, ...parts: number[]): void {
  const b = new Uint8Array(1 + 8 * parts.length);
  b[0] = tag;
  const view = new DataView(b.buffer);
  parts.forEach((p, i) => view.setFloat64(1 + 8 * i, p));
  out.push(b);
}

function write(out: Writer, value: unknown, depth: number): void {
  // Cycles would otherwise recurse until the stack ends.
  if (depth > 1000) throw new TypeError("Cannot encode brine: nested deeper than 1000");
  if (value === null || value === undefined) return out.byte(T.NONE);
  switch (typeof value) {
    case "boolean":
      return out.byte(value ? T.TRUE : T.FALSE);
    case "bigint":
      return writeInt(out, value);
    case "number":
      if (Number.isInteger(value) && !Object.is(value, -0)) {
        // The small ints of most calls skip the bigint.
        if (value >= IMM_MIN && value <= IMM_MAX) return out.byte(IMM_BASE + value);
        return writeInt(out, BigInt(value));
      }
      return writeDouble(out, T.FLOAT, value);
    case "string":
      if (!value.isWellFormed()) {
        throw new TypeError("Cannot encode brine: a str with a lone surrogate");
      }
      out.byte(T.UNICODE);
      return writeBytes(out, utf8.encode(value));
    case "symbol":
      if (value === Ellipsis) return out.byte(T.ELLIPSIS);
      if (value === NotImplemented) return out.byte(T.NOT_IMPLEMENTED);
      break;
    case "object":
      if (value instanceof Float) return writeDouble(out, T.FLOAT, value.value);
      if (value instanceof Uint8Array) return writeBytes(out, value);
      if (Array.isArray(value)) return writeTuple(out, value, depth);
      if (value instanceof FrozenSet) {
        out.byte(T.FSET);
        return writeTuple(out, value.items, depth);
      }
      if (value instanceof Slice) {
        out.byte(T.SLICE);
        return writeTuple(out, [value.start, value.stop, value.step], depth);
      }
      if (value instanceof Complex) return writeDouble(out, T.COMPLEX, value.real, value.imag);
  }
  throw new TypeError(`Cannot encode brine: ${describe(value)} is not a brine value`);
}

function describe(value: unknown): string {
  if (typeof value !== "object" || value === null) return typeof value;
  return value.constructor?.name ?? "object";
}

class Reader {
  at = 0;
  readonly #view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly maxDepth: number,
    readonly maxIntDigits: number,
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(message: string, at = this.at): never {
    throw new DecodeError("rpyc brine", message, at);
  }

  take(n: number): Uint8Array {
    if (n > this.bytes.length - this.at) {
      this.fail(`${n} bytes needed, ${this.bytes.length - this.at} left`);
    }
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u8(): number {
    return this.take(1)[0]!;
  }

  u32(): number {
    this.take(4);
    return this.#view.getUint32(this.at - 4);
  }

  f64(): number {
    this.take(8);
    return this.#view.getFloat64(this.at - 8);
  }

  value(depth: number): BrineValue {
    const start = this.at;
    const tag = this.u8();
    if (tag >= IMM_BASE + IMM_MIN && tag <= IMM_BASE + IMM_MAX) return tag - IMM_BASE;
    switch (tag) {
      case T.NONE:
        return null;
      case T.TRUE:
        return true;
      case T.FALSE:
        return false;
      case T.ELLIPSIS:
        return Ellipsis;
      case T.NOT_IMPLEMENTED:
        return NotImplemented;
      case T.EMPTY_TUPLE:
        return Object.freeze([]);
      case T.EMPTY_STR:
      case T.STR1:
      case T.STR1 + 1:
      case T.STR1 + 2:
      case T.STR4:
      case T.STR_L1:
      case T.STR_L4:
        this.at = start;
        return this.bytesValue().slice();
      case T.UNICODE: {
        const at = this.at;
        if (this.at >= this.bytes.length) this.fail("a str without its bytes");
        const tagAt = this.bytes[this.at]!;
        if (tagAt !== T.EMPTY_STR && (tagAt < T.STR1 || tagAt > T.STR_L4)) {
          this.fail(`a str holds tag 0x${tagAt.toString(16)}, not bytes`);
        }
        try {
          return strictUtf8.decode(this.bytesValue());
        } catch (e) {
          if (e instanceof DecodeError) throw e;
          return this.fail("a str that is not UTF-8", at);
        }
      }
      case T.INT_L1:
      case T.INT_L4:
        return this.int(tag === T.INT_L1 ? this.u8() : this.u32(), start);
      case T.FLOAT:
        return new Float(this.f64());
      case T.COMPLEX:
        return new Complex(this.f64(), this.f64());
      case T.SLICE: {
        const parts = this.nested(depth, start, "slice");
        if (parts.length !== 3) this.fail(`a slice of ${parts.length} parts, not 3`, start);
        return new Slice(parts[0]!, parts[1]!, parts[2]!);
      }
      case T.FSET:
        return new FrozenSet(this.nested(depth, start, "frozenset"));
      default:
        if (tag >= T.TUP1 && tag <= T.TUP_L4) {
          this.at = start;
          return this.tuple(depth);
        }
        return this.fail(`unknown tag 0x${tag.toString(16)}`, start);
    }
  }

  bytesValue(): Uint8Array {
    const tag = this.u8();
    if (tag === T.EMPTY_STR) return new Uint8Array();
    if (tag >= T.STR1 && tag <= T.STR4) return this.take(tag - T.STR1 + 1);
    return this.take(tag === T.STR_L1 ? this.u8() : this.u32());
  }

  // The tuple after a frozenset's or slice's tag.
  nested(depth: number, start: number, what: string): readonly BrineValue[] {
    const next = this.bytes[this.at];
    if (next === undefined || (next !== T.EMPTY_TUPLE && (next < T.TUP1 || next > T.TUP_L4))) {
      this.fail(`a ${what} without its tuple`, start);
    }
    return this.tuple(depth) as readonly BrineValue[];
  }

  tuple(depth: number): BrineValue {
    const start = this.at;
    if (depth >= this.maxDepth) this.fail(`nested deeper than ${this.maxDepth}`, start);
    const tag = this.u8();
    if (tag === T.EMPTY_TUPLE) return Object.freeze([]);
    const n = tag === T.TUP_L1 ? this.u8() : tag === T.TUP_L4 ? this.u32() : tag - T.TUP1 + 1;
    // Every item takes at least one byte: a count beyond the bytes left is a lie.
    if (n > this.bytes.length - this.at) {
      this.fail(`a tuple of ${n} items in ${this.bytes.length - this.at} bytes`, start);
    }
    const items: BrineValue[] = [];
    for (let i = 0; i < n; i++) items.push(this.value(depth + 1));
    return Object.freeze(items);
  }

  int(length: number, start: number): number | bigint {
    if (length > this.maxIntDigits + 1) {
      this.fail(`an int of ${length} digits, over ${this.maxIntDigits}`, start);
    }
    const text = String.fromCharCode(...this.take(length));
    if (!/^[+-]?[0-9]+$/.test(text)) {
      this.fail(`an int that is not decimal: ${JSON.stringify(text.slice(0, 40))}`, start);
    }
    const n = BigInt(text);
    return n >= Number.MIN_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER ? Number(n) : n;
  }
}
