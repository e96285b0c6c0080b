/**
 * Header fields between their two forms: what the application gives and
 * gets (a plain object of lower-case names) and what HPACK takes and gives
 * (a flat `[name, value, …]` array); and the checks RFC 9113 §8.2–8.3 asks
 * of each received block (pseudo-headers first and known, names lower
 * case, no connection-specific fields, values without CR, LF or NUL).
 *
 * @module
 */

/**
 * Received header fields: lower-case names; a repeated field's values are
 * joined with `, ` (`cookie` with `; `, RFC 9113 §8.2.3). Pseudo-headers
 * (`:status`, `:path`, …) are fields like the others.
 */
export type Http2Headers = Record<string, string>;

/**
 * Header fields to send: an object (a value may be a number, or an array for
 * a repeated field; `undefined` is skipped) or `[name, value]` pairs. Names
 * are sent in lower case.
 */
export type Http2HeadersInit =
  | Readonly<Record<string, string | number | readonly string[] | undefined>>
  | readonly (readonly [string, string])[];

// Fields HTTP/2 forbids (RFC 9113 §8.2.2).
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);
const REQUEST_PSEUDO = new Set([":method", ":scheme", ":path", ":authority"]);
const BAD_VALUE = /[\0\r\n]/;

/**
 * Flattens headers to send into HPACK's `[name, value, …]`, pseudo-headers
 * first (HTTP/2 requires it), names in lower case.
 *
 * @param headers the fields
 * @param into pseudo-headers to put first (already flat)
 * @returns the flat fields
 * @throws {TypeError} for a value holding CR, LF or NUL, or a pseudo-header
 *   among `headers` when `pseudo` is false
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flatten } from "./_headers.ts";
 *
 * assert.deepEqual(
 *   flatten({ "X-Tag": "a", ":status": 200, "x-list": ["1", "2"] }, [], true),
 *   [":status", "200", "x-tag", "a", "x-list", "1", "x-list", "2"],
 * );
 * ```
 */
export function flatten(
  headers: Http2HeadersInit | undefined,
  into: string[],
  pseudo: boolean,
): string[] {
  if (headers === undefined) return into;
  const regular: string[] = [];
  const add = (name: string, value: string) => {
    if (name.charCodeAt(0) === 58 /* : */) {
      if (!pseudo) throw new TypeError(`Pseudo-header ${name} is not allowed in trailers`);
      into.push(name, value);
    } else {
      regular.push(name.toLowerCase(), value);
    }
    if (BAD_VALUE.test(value)) throw new TypeError(`Header ${name} holds CR, LF or NUL`);
  };
  if (Array.isArray(headers)) {
    for (const [name, value] of headers as readonly (readonly [string, string])[]) {
      add(name, value);
    }
  } else {
    const record = headers as Record<string, string | number | readonly string[] | undefined>;
    for (const name in record) {
      const value = record[name];
      if (value === undefined) continue;
      if (typeof value === "object") { for (const each of value) add(name, each); }
      else add(name, typeof value === "string" ? value : String(value));
    }
  }
  for (const field of regular) into.push(field);
  return into;
}

/** What a received block is: what each allows (RFC 9113 §8.3). */
export type BlockKind = "request" | "response" | "trailers";

/**
 * Checks a received header block and makes it an object; `undefined` when
 * it is malformed (RFC 9113 §8.1.1: a stream error, PROTOCOL_ERROR).
 *
 * @param fields the decoded `[name, value, …]`
 * @param kind a request's, a response's, or trailers
 * @returns the fields as an object, or undefined
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toHeaders } from "./_headers.ts";
 *
 * const request = [":method", "POST", ":scheme", "http", ":path", "/x", "cookie", "a=1", "cookie", "b=2"];
 * assert.equal(toHeaders(request, "request")?.cookie, "a=1; b=2");
 * assert.equal(toHeaders(["x-a", "1", ":path", "/"], "request"), undefined); // pseudo after regular
 * assert.equal(toHeaders([":status", "200", "Upper", "1"], "response"), undefined);
 * ```
 */
export function toHeaders(fields: readonly string[], kind: BlockKind): Http2Headers | undefined {
  // No prototype: a field named `constructor` or `__proto__` is a field like any other.
  const headers: Http2Headers = Object.create(null);
  let regular = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (regular || kind === "trailers" || name in headers) return undefined;
      if (kind === "request" ? !REQUEST_PSEUDO.has(name) : name !== ":status") return undefined;
      headers[name] = value;
      continue;
    }
    regular = true;
    if (!validName(name) || CONNECTION_SPECIFIC.has(name)) return undefined;
    if (name === "te" && value !== "trailers") return undefined;
    if (!validValue(value)) return undefined;
    const before = headers[name];
    headers[name] = before === undefined
      ? value
      : `${before}${name === "cookie" ? "; " : ", "}${value}`;
  }
  if (kind === "request") {
    if (headers[":method"] === "CONNECT") {
      if (headers[":authority"] === undefined || ":scheme" in headers || ":path" in headers) {
        return undefined;
      }
    } else if (
      headers[":method"] === undefined || headers[":scheme"] === undefined || !headers[":path"]
    ) {
      return undefined;
    }
  } else if (kind === "response" && !/^\d{3}$/.test(headers[":status"] ?? "")) {
    return undefined;
  }
  return headers;
}

// RFC 9110 token characters, lower case only (RFC 9113 §8.2.1).
function validName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) continue; // a-z
    if (c >= 0x30 && c <= 0x39) continue; // 0-9
    if (c === 0x2d || c === 0x5f || c === 0x2e) continue; // - _ .
    if (c > 0x20 && c < 0x7f && "!#$%&'*+^`|~".includes(name[i]!)) continue;
    return false;
  }
  return true;
}

function validValue(value: string): boolean {
  if (value.length === 0) return true;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  return !BAD_VALUE.test(value);
}
