/**
 * The byte stuffing of the `delimiter()` framing (the scheme of PPP,
 * RFC 1662, with a configurable delimiter and escape): checking the options,
 * stuffing a payload, unstuffing a frame, and refusing what cannot travel
 * unstuffed. Kept apart from the stream plumbing in `delimiter.ts`.
 *
 * @module
 */

import { DecodeError } from "../errors.ts";

const utf8 = new TextEncoder();

/**
 * The delimiter option as bytes (a copy), refusing an empty one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toDelimiter } from "./_stuffing.ts";
 * assert.deepEqual(toDelimiter("\r\n"), new Uint8Array([13, 10]));
 * ```
 */
export function toDelimiter(value: string | Uint8Array): Uint8Array {
  const bytes = typeof value === "string" ? utf8.encode(value) : value.slice();
  if (bytes.length === 0) throw new TypeError("The delimiter must not be empty");
  return bytes;
}

/**
 * The escape option as a byte (`undefined` for `false`), refusing one that
 * is not one byte or collides with the delimiter's first byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toEscape } from "./_stuffing.ts";
 * assert.equal(toEscape("\\", new Uint8Array([10])), 0x5c);
 * assert.throws(() => toEscape(0x2a, new Uint8Array([10])), TypeError);
 * ```
 */
export function toEscape(
  value: number | string | false,
  delimiterBytes: Uint8Array,
): number | undefined {
  if (value === false) return undefined;
  let byte: number;
  if (typeof value === "string") {
    const bytes = utf8.encode(value);
    if (bytes.length !== 1) {
      throw new TypeError(`The escape must be one byte, got ${JSON.stringify(value)}`);
    }
    byte = bytes[0]!;
  } else {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) {
      throw new TypeError(`The escape must be a byte (0 to 255), got ${value}`);
    }
    byte = value;
  }
  const first = delimiterBytes[0]!;
  if (byte === first || (byte ^ 0x20) === first) {
    throw new TypeError(
      `The escape byte 0x${hex(byte)} collides with the delimiter's first byte 0x${hex(first)}`,
    );
  }
  return byte;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

/**
 * Copies `payload` with `first` and `escape` stuffed, then the delimiter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stuff } from "./_stuffing.ts";
 * const framed = stuff(new Uint8Array([1, 10, 0x1b]), 10, 0x1b, new Uint8Array([10]));
 * assert.deepEqual(framed, new Uint8Array([1, 0x1b, 0x2a, 0x1b, 0x3b, 10]));
 * ```
 */
export function stuff(
  payload: Uint8Array,
  first: number,
  escape: number,
  delimiterBytes: Uint8Array,
): Uint8Array {
  let count = 0;
  for (let i = payload.indexOf(first); i >= 0; i = payload.indexOf(first, i + 1)) count++;
  for (let i = payload.indexOf(escape); i >= 0; i = payload.indexOf(escape, i + 1)) count++;
  const out = new Uint8Array(payload.length + count + delimiterBytes.length);
  let read = 0;
  let write = 0;
  let nextFirst = payload.indexOf(first);
  let nextEscape = payload.indexOf(escape);
  while (nextFirst >= 0 || nextEscape >= 0) {
    const at = nextFirst < 0
      ? nextEscape
      : nextEscape < 0
      ? nextFirst
      : Math.min(nextFirst, nextEscape);
    out.set(payload.subarray(read, at), write);
    write += at - read;
    out[write++] = escape;
    out[write++] = payload[at]! ^ 0x20;
    read = at + 1;
    if (at === nextFirst) nextFirst = payload.indexOf(first, read);
    else nextEscape = payload.indexOf(escape, read);
  }
  out.set(payload.subarray(read), write);
  out.set(delimiterBytes, write + payload.length - read);
  return out;
}

/**
 * Undoes {@linkcode stuff} on one frame; a view of it when nothing was stuffed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unstuff } from "./_stuffing.ts";
 * const payload = unstuff(new Uint8Array([1, 0x1b, 0x2a, 0x1b, 0x3b]), 10, 0x1b, false);
 * assert.deepEqual(payload, new Uint8Array([1, 10, 0x1b]));
 * ```
 */
export function unstuff(
  segment: Uint8Array,
  first: number,
  escape: number,
  checkRaw: boolean,
): Uint8Array {
  if (checkRaw) {
    const raw = segment.indexOf(first);
    if (raw >= 0) {
      throw new DecodeError(
        "delimiter",
        `byte 0x${hex(first)} that does not start the delimiter, at ${raw} bytes into a frame`,
      );
    }
  }
  let at = segment.indexOf(escape);
  if (at < 0) return segment;
  const out = new Uint8Array(segment.length - 1);
  let read = 0;
  let write = 0;
  while (at >= 0) {
    out.set(segment.subarray(read, at), write);
    write += at - read;
    const next = segment[at + 1];
    const byte = next === undefined ? undefined : next ^ 0x20;
    if (byte !== first && byte !== escape) {
      throw new DecodeError(
        "delimiter",
        next === undefined
          ? "escape byte at the end of a frame"
          : `invalid escape sequence 0x${hex(escape)} 0x${hex(next)}, at ${at} bytes into a frame`,
      );
    }
    out[write++] = byte;
    read = at + 2;
    at = segment.indexOf(escape, read);
  }
  out.set(segment.subarray(read), write);
  return out.subarray(0, write + segment.length - read);
}

/**
 * Refuses a payload that would not come back whole without stuffing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkUnstuffed } from "./_stuffing.ts";
 * const crlf = new Uint8Array([13, 10]);
 * checkUnstuffed(new Uint8Array([1, 13]), new Uint8Array([10])); // fine
 * assert.throws(() => checkUnstuffed(new Uint8Array([1, 13, 10, 2]), crlf), TypeError);
 * ```
 */
export function checkUnstuffed(payload: Uint8Array, delimiterBytes: Uint8Array): void {
  const k = delimiterBytes.length;
  const first = delimiterBytes[0]!;
  const n = payload.length;
  for (let i = payload.indexOf(first); i >= 0; i = payload.indexOf(first, i + 1)) {
    // A delimiter within the payload, or one starting in it and ending in the
    // delimiter that follows it.
    let j = 0;
    while (
      j < k && (i + j < n ? payload[i + j] : delimiterBytes[i + j - n]) === delimiterBytes[j]
    ) {
      j++;
    }
    if (j === k) {
      throw new TypeError(
        "Cannot frame a payload containing the delimiter when escaping is off",
      );
    }
  }
}
