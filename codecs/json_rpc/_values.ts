// How values that JSON cannot carry as they are travel: bigints, doubles
// beyond 2^53, bytes, maps and sets on the way out; integers beyond 2^53 on
// the way in.

import { Float } from "../../rpc/float.ts";
import { DecodeError, LimitError } from "../../rpc/errors.ts";

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** From here on `JSON.stringify` writes numbers with an exponent. */
const EXPONENT_FROM = 1e21;

const rawJSON = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;

/**
 * Whether `JSON.stringify` writes `value` so that it reads back as the same
 * number: not an integer between 2^53 and 10^21 in magnitude, which it
 * writes as digits that are not the double's exact value (`2 ** 60` as
 * `1152921504606847000`) and that the decoder would read as a `bigint`.
 */
function isPlainNumber(value: number): boolean {
  return (value <= MAX_SAFE && value >= -MAX_SAFE) ||
    !(value < EXPONENT_FROM && value > -EXPONENT_FROM);
}

/**
 * Whether `value` serialises with a plain `JSON.stringify` (no replacer),
 * checking its depth on the way. Plain means: primitives other than bigint,
 * arrays, objects whose prototype is `Object.prototype` or `null`, and dates.
 *
 * @param value the value
 * @param depth how many arrays and objects enclose it in the frame
 * @param maxDepth the deepest nesting allowed
 * @returns `false` as soon as something needs the replacer
 * @throws {LimitError} when the value nests deeper than `maxDepth`
 */
export function isPlain(value: unknown, depth: number, maxDepth: number): boolean {
  if (typeof value !== "object" || value === null) {
    return typeof value === "number" ? isPlainNumber(value) : typeof value !== "bigint";
  }
  if (++depth > maxDepth) throw tooDeep(maxDepth);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!isPlain(value[i], depth, maxDepth)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const record = value as { readonly [key: string]: unknown };
    for (const key in record) {
      if (!isPlain(record[key], depth, maxDepth)) return false;
    }
    return true;
  }
  return value instanceof Date;
}

/**
 * The error for a value or frame nested deeper than `maxDepth`.
 *
 * @param maxDepth the limit
 * @returns the error
 */
export function tooDeep(maxDepth: number): LimitError {
  return new LimitError("maxDepth", maxDepth, "JSON-RPC frame nests too deeply");
}

const nativeToBase64 = (Uint8Array.prototype as unknown as { toBase64?: () => string })
  .toBase64;

/**
 * Standard padded base64, natively where the runtime has
 * `Uint8Array.prototype.toBase64`, else through `btoa`.
 *
 * @param bytes the bytes
 * @returns their base64
 */
export const toBase64: (bytes: Uint8Array) => string = nativeToBase64 === undefined
  ? (bytes) => {
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }
  : (bytes) => nativeToBase64.call(bytes);

/**
 * The `JSON.stringify` replacer for values {@linkcode isPlain} rejects.
 *
 * @param _key the member's name
 * @param value the member's value, after `toJSON`
 * @returns what to serialise instead
 * @throws {TypeError} when the value cannot be represented exactly
 */
export function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "number") {
    if (isPlainNumber(value)) return value;
    // A double beyond 2^53 travels with an exponent and reads back as itself.
    if (rawJSON === undefined) {
      throw new TypeError(
        `Cannot encode ${value} exactly: this runtime lacks JSON.rawJSON; send it as a bigint or a string`,
      );
    }
    return rawJSON(value.toExponential());
  }
  if (typeof value === "bigint") {
    if (value > MAX_SAFE || value < -MAX_SAFE) {
      throw new TypeError(
        `Cannot encode bigint ${value}: it cannot be represented exactly in JSON (beyond ±(2^53 − 1)); send it as a string`,
      );
    }
    return Number(value);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  if (value instanceof Uint8Array) return toBase64(value);
  if (value instanceof Map) {
    for (const key of value.keys()) {
      if (typeof key !== "string") {
        throw new TypeError(
          `Cannot encode a Map with a ${typeof key} key in JSON: only string keys map to object members`,
        );
      }
    }
    return Object.fromEntries(value);
  }
  if (value instanceof Set) return Array.from(value);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    throw new TypeError(
      `Cannot encode ${value.constructor.name} in JSON: only Uint8Array travels (as base64)`,
    );
  }
  return value;
}

const INTEGER_LITERAL = /^-?\d+$/;

// Where `JSON.parse` passes no source text (runtimes before ES2025's
// source text access), an integer-valued number beyond 2^53 cannot be told
// from a float literal such as `1e300`: both revivers then refuse it.

function reviveBigInt(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== "number" || (value <= MAX_SAFE && value >= -MAX_SAFE)) return value;
  const source = context?.source;
  if (source === undefined) throw unexact(String(value));
  return INTEGER_LITERAL.test(source) ? BigInt(source) : value;
}

function rejectBigInt(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== "number" || (value <= MAX_SAFE && value >= -MAX_SAFE)) return value;
  const source = context?.source;
  if (source === undefined || INTEGER_LITERAL.test(source)) throw unexact(source ?? String(value));
  return value;
}

function unexact(literal: string): DecodeError {
  return new DecodeError(
    "jsonrpc",
    `integer ${literal} is beyond ±(2^53 − 1) and cannot be read exactly`,
  );
}

/**
 * Whether a value `JSON.parse` made holds a number beyond ±(2^53 − 1): only
 * then may a literal have been rounded, and the text is parsed again,
 * exactly. For short texts (a walk of their few values costs less than a
 * regular expression over their characters); long ones learn it from
 * `scanText`.
 *
 * @param value the parsed value
 * @param everywhere whether members the decoder never reads count too
 * (mode `"error"` refuses a frame with a big integer anywhere)
 * @returns whether {@linkcode parseJson} must parse it again with `exact`
 */
export function holdsUnsafeNumber(value: unknown, everywhere: boolean): boolean {
  // A message's members other than these are never read: their numbers do not matter.
  if (!everywhere && typeof value === "object" && value !== null && !Array.isArray(value)) {
    const m = value as { readonly [key: string]: unknown };
    return holdsUnsafe(m.id) || holdsUnsafe(m.params) || holdsUnsafe(m.result) ||
      holdsUnsafe(m.error);
  }
  return holdsUnsafe(value);
}

function holdsUnsafe(value: unknown): boolean {
  if (typeof value === "number") return value > MAX_SAFE || value < -MAX_SAFE;
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (holdsUnsafe(value[i])) return true;
    }
    return false;
  }
  const record = value as { readonly [key: string]: unknown };
  for (const key in record) {
    if (holdsUnsafe(record[key])) return true;
  }
  return false;
}

/**
 * `JSON.parse` that never rounds an integer literal.
 *
 * @param text the JSON text
 * @param exact whether the text may hold an integer beyond ±(2^53 − 1): then
 * a reviver reads such literals from their source text
 * @param mode what to do with those integers
 * @returns the parsed value
 * @throws {SyntaxError} from `JSON.parse` for invalid JSON
 * @throws {DecodeError} for a big integer in mode `"error"`
 */
export function parseJson(text: string, exact: boolean, mode: "bigint" | "error"): unknown {
  if (!exact) return JSON.parse(text);
  return JSON.parse(text, mode === "bigint" ? reviveBigInt : rejectBigInt);
}

/**
 * `JSON.parse` for the `keepFloats` option: integer literals as in
 * {@linkcode parseJson}, other number literals (`2.0`, `1e3`) as
 * {@linkcode Float}s, except a message's own `id`.
 *
 * @param text the JSON text
 * @param mode what to do with integers beyond ±(2^53 − 1)
 * @returns the parsed value
 * @throws {SyntaxError} from `JSON.parse` for invalid JSON
 * @throws {DecodeError} for a big integer in mode `"error"`, or where the
 * runtime gives no source text
 */
export function parseJsonFloats(text: string, mode: "bigint" | "error"): unknown {
  const integers = mode === "bigint" ? reviveBigInt : rejectBigInt;
  return JSON.parse(
    text,
    function (this: unknown, key: string, value: unknown, context?: { source?: string }) {
      if (typeof value !== "number") return value;
      const source = context?.source;
      if (source === undefined) {
        throw new DecodeError("jsonrpc", "keepFloats needs JSON.parse's source text access");
      }
      if (INTEGER_LITERAL.test(source) || (key === "id" && isMessage(this))) {
        return integers(key, value, context);
      }
      return new Float(value);
    },
  );
}

function isMessage(holder: unknown): boolean {
  return typeof holder === "object" && holder !== null && !Array.isArray(holder) &&
    ("jsonrpc" in holder || "method" in holder || "result" in holder || "error" in holder);
}
