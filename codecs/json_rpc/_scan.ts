// Single-pass scanners over JSON text and bytes: nesting depth and the end of
// the first value. Both skip string contents with `indexOf`, so long strings
// cost one native search instead of a JavaScript loop per character.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const COMMA = 0x2c;
const COLON = 0x3a;

/** {@linkcode scanText} found no nesting too deep and no long digit run. */
export const SCAN_OK = -1;
/** {@linkcode scanText} found a run of 16 or more digits outside strings. */
export const SCAN_LONG_DIGITS = -2;
/** {@linkcode scanText} counted more items than allowed. */
export const SCAN_TOO_MANY = -3;

/**
 * One pass over `text`: where it first nests deeper than `maxDepth`, whether
 * it holds more than `maxItems` items, and whether a number has 16 or more
 * digits in a row (a safe integer has at most 16, so shorter runs cannot be
 * beyond 2^53). Items are counted as the commas and opening brackets outside
 * strings: every array element and object member, plus one per empty
 * container and the outermost one.
 *
 * Brackets and digits inside strings do not count. Invalid JSON is not
 * reported here: `JSON.parse` rejects it afterwards (V8's parser does not
 * recurse, so a deep invalid text costs nothing more).
 *
 * @param text a JSON text
 * @param maxDepth the deepest nesting allowed
 * @param maxItems the most items allowed
 * @returns the index of the first bracket too deep, else
 * {@linkcode SCAN_TOO_MANY}, {@linkcode SCAN_LONG_DIGITS} or {@linkcode SCAN_OK}
 */
export function scanText(text: string, maxDepth: number, maxItems = Infinity): number {
  let depth = 0;
  let items = 0;
  let result = SCAN_OK;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      if (++items > maxItems) return SCAN_TOO_MANY;
    } else if (c === QUOTE) {
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i === -1) return result;
        let j = i - 1;
        while (text.charCodeAt(j) === BACKSLASH) j--;
        // An even number of backslashes before the quote: it closes the string.
        if (((i - j) & 1) === 1) break;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return i;
      if (++items > maxItems) return SCAN_TOO_MANY;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    } else if (c >= DIGIT_0 && c <= DIGIT_9) {
      let j = i + 1;
      for (let d = text.charCodeAt(j); d >= DIGIT_0 && d <= DIGIT_9; d = text.charCodeAt(++j));
      if (j - i >= 16) result = SCAN_LONG_DIGITS;
      i = j - 1;
    }
  }
  return result;
}

function isWhitespace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Where {@linkcode measureValue} stopped in a value that is not complete:
 * the next byte to read, the depth there and whether it is inside a string.
 */
export class ValueScan {
  constructor(
    readonly next: number,
    readonly depth: number,
    readonly inString: boolean,
  ) {}
}

/** What {@linkcode measureValue} found. */
export type Measured =
  /** The first value ends at this byte offset (trailing whitespace included). */
  | number
  /** More bytes are needed; the next call may resume from here. */
  | ValueScan
  /** `{ at, reason }`: the bytes cannot start a JSON-RPC frame. */
  | { readonly at: number; readonly reason: "start" | "depth" };

/**
 * Finds the end of the first JSON object or array in `buffer`.
 *
 * Leading whitespace and the whitespace that follows the value (as far as
 * `buffer` holds it) belong to the measured frame.
 *
 * @param buffer UTF-8 bytes
 * @param maxDepth the deepest nesting allowed
 * @param from where an earlier call on the start of the same bytes stopped:
 * the bytes before it are not read again
 * @returns the frame's length, where it stopped for want of bytes, or what
 * is wrong
 */
export function measureValue(buffer: Uint8Array, maxDepth: number, from?: ValueScan): Measured {
  const n = buffer.length;
  let i = from?.next ?? 0;
  let depth = from?.depth ?? 0;
  let inString = from?.inString ?? false;
  if (depth === 0) {
    while (i < n && isWhitespace(buffer[i])) i++;
    if (i === n) return new ValueScan(i, 0, false);
    const first = buffer[i];
    if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) return { at: i, reason: "start" };
  }
  for (;;) {
    if (inString) {
      // Search for the closing quote from where the last search ended.
      const quote = buffer.indexOf(QUOTE, i);
      if (quote === -1) return new ValueScan(n, depth, true);
      let j = quote - 1;
      while (buffer[j] === BACKSLASH) j--;
      i = quote + 1;
      // An even number of backslashes before the quote: it closes the string.
      if (((quote - j) & 1) === 1) inString = false;
      continue;
    }
    if (i >= n) return new ValueScan(i, depth, false);
    const c = buffer[i++];
    if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return { at: i - 1, reason: "depth" };
    } else if ((c === CLOSE_ARRAY || c === CLOSE_OBJECT) && --depth === 0) {
      while (i < n && isWhitespace(buffer[i])) i++;
      return i;
    }
  }
}

/** What {@linkcode peekMembers} found among an object's top-level members. */
export interface Members {
  /** The text of the `"id"` member's value, when there is one. */
  readonly id?: string;
  /** Whether there is a `"method"` member. */
  readonly method: boolean;
}

/**
 * Tells what a JSON object text is without parsing it: the raw `"id"` and
 * whether it has a `"method"`, from its top-level members; the values of
 * the others are skipped, strings with `indexOf`. For answering a message
 * refused before it is parsed.
 *
 * @param text a JSON text
 * @returns what its top-level members say, or `undefined` when it is not an
 * object (a batch, say)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { peekMembers } from "./_scan.ts";
 *
 * const text = '{"params":[{"id":1}],"method":"sum","id":"a"}';
 * assert.deepEqual(peekMembers(text), { id: '"a"', method: true });
 * assert.equal(peekMembers("[1]"), undefined);
 * ```
 */
export function peekMembers(text: string): Members | undefined {
  const n = text.length;
  let i = 0;
  while (i < n && isWhitespace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== OPEN_OBJECT) return undefined;
  let id: string | undefined;
  let method = false;
  let depth = 0;
  let key: string | undefined;
  let expectKey = false;
  let valueStart = i;
  const endMember = (at: number): void => {
    if (key === "id") id = text.slice(valueStart, at).trim();
    else if (key === "method") method = true;
    key = undefined;
    expectKey = true;
  };
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i === -1) return { ...(id === undefined ? {} : { id }), method };
        let j = i - 1;
        while (text.charCodeAt(j) === BACKSLASH) j--;
        if (((i - j) & 1) === 1) break;
      }
      if (depth === 1 && expectKey) {
        key = text.slice(start + 1, i);
        expectKey = false;
      }
    } else if (depth === 1 && c === COLON) {
      valueStart = i + 1;
    } else if (depth === 1 && c === COMMA) {
      endMember(i);
      if (id !== undefined && method) break; // all it needs
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth === 1) expectKey = true;
    } else if ((c === CLOSE_ARRAY || c === CLOSE_OBJECT) && --depth === 0) {
      endMember(i);
      break;
    }
  }
  return id === undefined ? { method } : { id, method };
}
