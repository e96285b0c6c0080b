// The common messages read without parsing their envelope: a request,
// notification or result written compactly, in the member order parley
// writes. `JSON.parse` of a whole small message costs several times what a
// regular expression over its envelope and the parse of its params cost: it
// builds an object for the envelope that the decoder then takes apart.
//
// Only what is certain is read here; anything else (whitespace, escapes in
// the envelope, another member or order, an error, metadata) returns
// `undefined` and takes the general path, which gives the same message or
// the same error it always did. The params or result are read by hand when
// they are a short integer or a flat array of them (the usual params), by
// `JSON.parse` of their own text otherwise: when that parses and the
// envelope around it matched, the whole text is valid JSON with exactly
// those members (JSON's grammar is unambiguous), so the message is the one
// the general path would build.

import type { RpcId, RpcMessage, RpcParams } from "../../rpc/types.ts";
import { holdsUnsafeNumber } from "./_values.ts";

// A string without escapes or control characters (which JSON forbids raw);
// an integer of at most 15 digits (always below 2^53, so read exactly).
const ID = String.raw`(-?(?:0|[1-9]\d{0,14})|"[^"\\\x00-\x1f]*")`;
// `{"jsonrpc":"2.0",` then a method and its params or a result, then an id.
// A value runs to the `,"id":` whose id ends the text, else to the end (the
// `s` flag: a raw line break is left to JSON.parse to refuse).
const MESSAGE = new RegExp(
  String
    .raw`^\{"jsonrpc":"2\.0",(?:"method":"([^"\\\x00-\x1f]*)"(?:,"params":(.*?))?|"result":(.*?))(?:,"id":${ID})?\}$`,
  "s",
);

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
  const match = MESSAGE.exec(text);
  if (match === null) return undefined;
  const [, name, paramsText, resultText, idText] = match;
  const id = idText === undefined ? undefined : idOf(idText);
  if (name === undefined) {
    const result = valueOf(resultText!);
    return result === UNREAD || id === undefined ? undefined : { kind: "result", id, result };
  }
  const method = methodName(name);
  if (paramsText === undefined) {
    return id === undefined ? { kind: "notification", method } : { kind: "request", id, method };
  }
  const params = valueOf(paramsText);
  if (params === UNREAD || typeof params !== "object" || params === null) return undefined;
  return id === undefined
    ? { kind: "notification", method, params: params as RpcParams }
    : { kind: "request", id, method, params: params as RpcParams };
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
  return text.charCodeAt(0) === 0x22 ? text.slice(1, -1) : integerAt(text, 0, text.length)!;
}

// A value's text as a value: by hand when it is a short integer or a flat
// array of them, by JSON.parse otherwise; UNREAD when it does not parse or
// holds a number beyond 2^53 (read exactly elsewhere).
function valueOf(text: string): unknown {
  const integer = integerAt(text, 0, text.length);
  if (integer !== undefined) return integer;
  if (text.charCodeAt(0) === 0x5b && text.charCodeAt(text.length - 1) === 0x5d) {
    const items = integers(text);
    if (items !== undefined) return items;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return UNREAD;
  }
  return holdsUnsafeNumber(value, true) ? UNREAD : value;
}

// `[…]` of short integers, or undefined for anything else.
function integers(text: string): number[] | undefined {
  const items: number[] = [];
  const last = text.length - 1;
  if (last === 1) return items;
  for (let from = 1; from < last;) {
    let to = text.indexOf(",", from);
    if (to < 0) to = last;
    const item = integerAt(text, from, to);
    if (item === undefined) return undefined;
    items.push(item);
    from = to + 1;
    if (from === last) return undefined; // a trailing comma
  }
  return items;
}

// The integer of at most 15 digits that is all of text[from, to), else
// undefined (a fraction, an exponent, a leading zero, anything else). Read
// exactly; -0 for "-0", as JSON.parse reads it.
function integerAt(text: string, from: number, to: number): number | undefined {
  const negative = text.charCodeAt(from) === 0x2d;
  const first = negative ? from + 1 : from;
  const digits = to - first;
  if (digits < 1 || digits > 15 || (digits > 1 && text.charCodeAt(first) === 0x30)) {
    return undefined;
  }
  let value = 0;
  for (let i = first; i < to; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}
