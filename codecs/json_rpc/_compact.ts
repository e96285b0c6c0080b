// The common messages read without parsing their envelope: a request,
// notification or result written compactly, in the member order parley
// writes (and, for requests, with the id first, as many clients write).
// `JSON.parse` of a whole small message costs several times what a regular
// expression over its envelope and the parse of its params cost: it builds
// an object for the envelope that the decoder then takes apart.
//
// Only what is certain is read here; anything else (whitespace, escapes in
// the envelope, another member or order, an error, metadata) returns
// `undefined` and takes the general path, which gives the same message or
// the same error it always did. The params or result are read by hand when
// they are a short integer, a plain string, or a flat array of those (the
// usual params), and by `JSON.parse` of their own text otherwise: when that
// parses and the envelope around it matched, the whole text is valid JSON
// with exactly those members (JSON's grammar is unambiguous), so the message
// is the one the general path would build.

import type { RpcId, RpcMessage, RpcParams } from "../../rpc/types.ts";
import { holdsUnsafeNumber } from "./_values.ts";

// A name or id string as the envelope allows it here: no escapes, no
// control characters (which JSON forbids raw).
const STRING = String.raw`"[^"\\\x00-\x1f]*"`;
// An integer of at most 15 digits: always below 2^53, so read exactly.
const INTEGER = String.raw`-?(?:0|[1-9]\d{0,14})`;
const ID = `(${INTEGER}|${STRING})`;
const METHOD = String.raw`"([^"\\\x00-\x1f]*)"`;
// The value runs to the last `,"id":` whose id ends the text (the `s` flag:
// a raw line break is left to JSON.parse to refuse).
const REQUEST = new RegExp(
  String.raw`^\{"jsonrpc":"2\.0","method":${METHOD}(?:,"params":(.*))?,"id":${ID}\}$`,
  "s",
);
const REQUEST_ID_FIRST = new RegExp(
  String.raw`^\{"jsonrpc":"2\.0","id":${ID},"method":${METHOD}(?:,"params":(.*))?\}$`,
  "s",
);
const NOTIFICATION = new RegExp(
  String.raw`^\{"jsonrpc":"2\.0","method":${METHOD}(?:,"params":(.*))?\}$`,
  "s",
);
const RESULT = new RegExp(String.raw`^\{"jsonrpc":"2\.0","result":(.*),"id":${ID}\}$`, "s");

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

// What a value that is not read here gives.
const UNREAD: unique symbol = Symbol("unread");

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
  // Every shape here starts with `{"jsonrpc":"2.0","` (18 characters) and
  // is told by the next one.
  const next = text.charCodeAt(18);
  if (next === 0x6d) { // m
    const match = REQUEST.exec(text) ?? NOTIFICATION.exec(text);
    if (match === null) return undefined;
    return call(match[1]!, match[2], match[3]);
  }
  if (next === 0x72) { // r
    const match = RESULT.exec(text);
    if (match === null) return undefined;
    const result = valueOf(match[1]!);
    return result === UNREAD ? undefined : { kind: "result", id: idOf(match[2]!), result };
  }
  if (next === 0x69) { // i
    const match = REQUEST_ID_FIRST.exec(text);
    if (match === null) return undefined;
    return call(match[2]!, match[3], match[1]);
  }
  return undefined;
}

function call(name: string, paramsText: string | undefined, idText: string | undefined) {
  const method = methodName(name);
  if (paramsText === undefined) {
    return idText === undefined
      ? { kind: "notification" as const, method }
      : { kind: "request" as const, id: idOf(idText), method };
  }
  const params = valueOf(paramsText);
  if (params === UNREAD || typeof params !== "object" || params === null) return undefined;
  return idText === undefined
    ? { kind: "notification" as const, method, params: params as RpcParams }
    : { kind: "request" as const, id: idOf(idText), method, params: params as RpcParams };
}

// The previous method's name again when it is the same: the dispatcher's
// lookup then finds a string whose hash is known already (a fresh string is
// hashed on every lookup).
let lastMethod = "";

function methodName(name: string): string {
  if (name === lastMethod) return lastMethod;
  return lastMethod = name;
}

function idOf(text: string): RpcId {
  return text.charCodeAt(0) === QUOTE ? text.slice(1, -1) : integerAt(text, 0);
}

// A value's text as a value: by hand when it is a short integer, a plain
// string or a flat array of those, by JSON.parse otherwise; UNREAD when it
// does not parse or holds a number beyond 2^53 (read exactly elsewhere).
function valueOf(text: string): unknown {
  const c = text.charCodeAt(0);
  if (c === OPEN_ARRAY) {
    const items = flatArray(text);
    if (items !== undefined) return items;
  } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
    if (integerEnd(text, 0) === text.length) return integerAt(text, 0);
  } else if (c === QUOTE) {
    const end = plainStringEnd(text, 0);
    if (end === text.length - 1) return text.slice(1, end);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return UNREAD;
  }
  return holdsUnsafeNumber(value, true) ? UNREAD : value;
}

// Where the plain string starting at `from` ends (its closing quote), or -1
// when it has an escape or a control character, or does not end.
function plainStringEnd(text: string, from: number): number {
  for (let i = from + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c < 0x20 || c === BACKSLASH) return -1;
  }
  return -1;
}

// `[...]` of short integers and plain strings, or undefined for anything else.
function flatArray(text: string): unknown[] | undefined {
  const n = text.length;
  const items: unknown[] = [];
  if (n === 2 && text.charCodeAt(1) === CLOSE_ARRAY) return items;
  for (let at = 1; at < n;) {
    let end: number;
    if (text.charCodeAt(at) === QUOTE) {
      end = plainStringEnd(text, at);
      if (end < 0) return undefined;
      items.push(text.slice(at + 1, end));
      end++;
    } else {
      end = integerEnd(text, at);
      if (end < 0) return undefined;
      items.push(integerAt(text, at));
    }
    const after = text.charCodeAt(end);
    if (after === CLOSE_ARRAY) return end === n - 1 ? items : undefined;
    if (after !== COMMA) return undefined;
    at = end + 1;
  }
  return undefined;
}

// Where the integer of at most 15 digits starting at `from` ends, or -1.
function integerEnd(text: string, from: number): number {
  let i = from;
  if (text.charCodeAt(i) === MINUS) i++;
  const first = i;
  for (let c = text.charCodeAt(i); c >= DIGIT_0 && c <= DIGIT_9; c = text.charCodeAt(++i));
  const digits = i - first;
  if (digits === 0 || digits > 15) return -1;
  if (digits > 1 && text.charCodeAt(first) === DIGIT_0) return -1;
  return i;
}

// The value of the integer `integerEnd` found at `from`: at most 15 digits,
// so exact (and -0 for "-0", as JSON.parse reads it).
function integerAt(text: string, from: number): number {
  let i = from;
  const negative = text.charCodeAt(i) === MINUS;
  if (negative) i++;
  let value = 0;
  for (let c = text.charCodeAt(i); c >= DIGIT_0 && c <= DIGIT_9; c = text.charCodeAt(++i)) {
    value = value * 10 + (c - DIGIT_0);
  }
  return negative ? -value : value;
}
