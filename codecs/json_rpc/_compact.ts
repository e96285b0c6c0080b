// The common messages read without parsing their envelope: a request,
// notification or result written compactly (as `JSON.stringify` writes it,
// and as nearly every JSON-RPC implementation sends it). `JSON.parse` of a
// whole small message costs several times the parse of its params alone:
// it builds an object for the envelope that the decoder then takes apart.
//
// Only what is certain is read here; anything else (whitespace, escapes,
// another member, a duplicate, an error, metadata, a number that is not a
// short integer) returns `undefined` and takes the general path, which
// gives the same message or the same error it always did. A value that is
// not a plain string, integer or literal goes through `JSON.parse` of its
// own text: when that parses and the members around it are read here, the
// whole text is valid JSON with exactly those members (JSON's grammar is
// unambiguous), so the message is the one the general path would build.

import type { RpcId, RpcMessage, RpcParams } from "../../rpc/types.ts";
import { holdsUnsafeNumber } from "./_values.ts";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_2 = 0x32;
const DIGIT_9 = 0x39;
const POINT = 0x2e;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const LOWER_T = 0x74;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;

// Members, as bits of what was seen.
const JSONRPC = 1;
const METHOD = 2;
const PARAMS = 4;
const ID = 8;
const RESULT = 16;

// Digits of an integer read here: up to 15 is always below 2^53, exactly.
const MAX_DIGITS = 15;

// Where the reader is, and what the last value read was: module state, as
// one reader runs at a time and nothing here awaits.
let at = 0;
let value: unknown;

/**
 * A compact, well-formed request, notification or result, read without
 * `JSON.parse` of its envelope.
 *
 * @param text the frame's text, within the codec's scan limit (so no
 * deeper than `maxDepth`, no more than `maxItems` items); a value with a
 * number beyond 2^53 takes the general path, in both `bigint` modes
 * @returns the message, or `undefined` for the general path
 */
export function decodeCompact(text: string): RpcMessage | undefined {
  const n = text.length;
  if (n < 2 || text.charCodeAt(0) !== OPEN_OBJECT || text.charCodeAt(n - 1) !== CLOSE_OBJECT) {
    return undefined;
  }
  let seen = 0;
  let method: string | undefined;
  let params: unknown;
  let id: RpcId | undefined;
  let result: unknown;
  at = 1;
  for (;;) {
    const member = memberAt(text);
    if (member === 0 || (seen & member) !== 0) return undefined;
    seen |= member;
    if (member === JSONRPC) {
      // Exactly "2.0": anything else is an invalid message, or JSON-RPC 1.0.
      if (
        text.charCodeAt(at) !== QUOTE || text.charCodeAt(at + 1) !== DIGIT_2 ||
        text.charCodeAt(at + 2) !== POINT || text.charCodeAt(at + 3) !== DIGIT_0 ||
        text.charCodeAt(at + 4) !== QUOTE
      ) return undefined;
      at += 5;
    } else if (member === METHOD) {
      if (!readMethod(text)) return undefined;
      method = value as string;
    } else if (member === ID) {
      if (!readSimple(text) || (typeof value !== "number" && typeof value !== "string")) {
        return undefined;
      }
      id = value as RpcId;
    } else {
      if (!readSimple(text) && !readFlatArray(text) && !readOther(text, n)) return undefined;
      if (member === PARAMS) params = value;
      else result = value;
    }
    const c = text.charCodeAt(at);
    if (c === COMMA) at++;
    else if (c === CLOSE_OBJECT && at === n - 1) break;
    else return undefined;
  }
  if ((seen & JSONRPC) === 0) return undefined;
  if ((seen & METHOD) !== 0) {
    if ((seen & RESULT) !== 0) return undefined;
    if ((seen & PARAMS) !== 0) {
      if (typeof params !== "object" || params === null) return undefined;
      return id === undefined
        ? { kind: "notification", method: method!, params: params as RpcParams }
        : { kind: "request", id, method: method!, params: params as RpcParams };
    }
    return id === undefined
      ? { kind: "notification", method: method! }
      : { kind: "request", id, method: method! };
  }
  if ((seen & RESULT) === 0 || id === undefined || (seen & PARAMS) !== 0) return undefined;
  return { kind: "result", id, result };
}

// The member whose name starts at `at` (its opening quote), with `at` moved
// past its colon; 0 for any other. Compared a character at a time, which V8
// runs faster than `startsWith` at an offset.
function memberAt(text: string): number {
  if (text.charCodeAt(at) !== QUOTE) return 0;
  const from = at + 1;
  let name: readonly number[];
  let member: number;
  switch (text.charCodeAt(from)) {
    case 0x6a: // j
      name = JSONRPC_NAME;
      member = JSONRPC;
      break;
    case 0x6d: // m
      name = METHOD_NAME;
      member = METHOD;
      break;
    case 0x70: // p
      name = PARAMS_NAME;
      member = PARAMS;
      break;
    case 0x69: // i
      name = ID_NAME;
      member = ID;
      break;
    case 0x72: // r
      name = RESULT_NAME;
      member = RESULT;
      break;
    default:
      return 0;
  }
  const n = name.length;
  for (let i = 1; i < n; i++) {
    if (text.charCodeAt(from + i) !== name[i]) return 0;
  }
  at = from + n;
  return member;
}

// A member's name from its first letter on, with its closing quote and colon.
function codes(name: string): readonly number[] {
  return Array.from(name + '":', (c) => c.charCodeAt(0));
}
const JSONRPC_NAME = codes("jsonrpc");
const METHOD_NAME = codes("method");
const PARAMS_NAME = codes("params");
const ID_NAME = codes("id");
const RESULT_NAME = codes("result");

// A string without escapes or control characters (which JSON forbids raw).
function readString(text: string): boolean {
  if (text.charCodeAt(at) !== QUOTE) return false;
  const from = at + 1;
  const end = text.indexOf('"', from);
  if (end < 0) return false;
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === BACKSLASH) return false;
  }
  value = text.slice(from, end);
  at = end + 1;
  return true;
}

// The method's name: the previous one again when it is the same, so that
// the dispatcher's lookup finds a string whose hash is known already (a
// fresh string is hashed on each lookup) and no string is made.
let lastMethod = "";

function readMethod(text: string): boolean {
  const known = lastMethod;
  const end = at + 1 + known.length;
  if (
    known !== "" && text.charCodeAt(end) === QUOTE && text.charCodeAt(at) === QUOTE &&
    text.startsWith(known, at + 1)
  ) {
    value = known;
    at = end + 1;
    return true;
  }
  if (!readString(text)) return false;
  lastMethod = value as string;
  return true;
}

// A plain string, a short integer, true, false or null.
function readSimple(text: string): boolean {
  const c = text.charCodeAt(at);
  if (c === QUOTE) return readString(text);
  if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) return readInteger(text);
  const word = c === LOWER_T ? "true" : c === LOWER_F ? "false" : c === LOWER_N ? "null" : "";
  if (word === "" || !text.startsWith(word, at)) return false;
  value = c === LOWER_T ? true : c === LOWER_F ? false : null;
  at += word.length;
  return true;
}

// An integer of at most 15 digits, without a fraction or an exponent (those,
// and longer ones, are left to JSON.parse).
function readInteger(text: string): boolean {
  let i = at;
  const negative = text.charCodeAt(i) === MINUS;
  if (negative) i++;
  const first = i;
  let n = 0;
  for (let c = text.charCodeAt(i); c >= DIGIT_0 && c <= DIGIT_9; c = text.charCodeAt(++i)) {
    n = n * 10 + (c - DIGIT_0);
  }
  const digits = i - first;
  if (digits === 0 || digits > MAX_DIGITS) return false;
  if (digits > 1 && text.charCodeAt(first) === DIGIT_0) return false;
  const next = text.charCodeAt(i);
  if (next !== COMMA && next !== CLOSE_OBJECT && next !== CLOSE_ARRAY) return false;
  value = negative ? -n : n;
  at = i;
  return true;
}

// An array of plain strings, short integers and literals: the usual params.
function readFlatArray(text: string): boolean {
  if (text.charCodeAt(at) !== OPEN_ARRAY) return false;
  const from = at;
  const items: unknown[] = [];
  at++;
  if (text.charCodeAt(at) !== CLOSE_ARRAY) {
    for (;;) {
      if (!readSimple(text)) {
        at = from;
        return false;
      }
      items.push(value);
      const c = text.charCodeAt(at++);
      if (c === CLOSE_ARRAY) break;
      if (c !== COMMA) {
        at = from;
        return false;
      }
    }
  } else at++;
  value = items;
  return true;
}

// Any other value, parsed by JSON.parse: the last member's runs to the
// closing brace; another's ends where a plain `"id"` member ends the text
// (the order parley and most clients write: params or result, then id).
function readOther(text: string, n: number): boolean {
  const from = at;
  const c = text.charCodeAt(from);
  if (c !== OPEN_ARRAY && c !== OPEN_OBJECT && c !== MINUS && !(c >= DIGIT_0 && c <= DIGIT_9)) {
    if (c !== QUOTE) return false;
  }
  let end = n - 1;
  const tail = text.lastIndexOf(',"id":');
  if (tail > from) {
    at = tail + 6;
    if (readSimple(text) && at === n - 1) end = tail;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(from, end));
  } catch {
    return false;
  }
  // A number beyond 2^53 may have been rounded: the general path reads it exactly.
  if (holdsUnsafeNumber(parsed, true)) return false;
  value = parsed;
  at = end;
  return true;
}
