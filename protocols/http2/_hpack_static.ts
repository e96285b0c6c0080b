/**
 * HPACK's static table (RFC 7541, Appendix A): 61 entries, index 1 first,
 * and the lookups the encoder makes in it.
 *
 * @module
 */

/**
 * The static table's entries as `[name, value]`, index 1 at position 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { STATIC_TABLE } from "./_hpack_static.ts";
 *
 * assert.deepEqual(STATIC_TABLE[1], [":method", "GET"]); // index 2
 * assert.equal(STATIC_TABLE.length, 61);
 * ```
 */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

// `name` → its first static index; `name` → `value` → the index of the exact
// pair. Maps of maps rather than a joined key: a joined string would be made
// and hashed anew for every field.
const BY_NAME = new Map<string, number>();
const BY_PAIR = new Map<string, Map<string, number>>();
STATIC_TABLE.forEach(([name, value], i) => {
  if (!BY_NAME.has(name)) BY_NAME.set(name, i + 1);
  let values = BY_PAIR.get(name);
  if (values === undefined) BY_PAIR.set(name, values = new Map());
  values.set(value, i + 1);
});

/**
 * The static index of a name, 0 when it has none.
 *
 * @param name a lower-case field name
 * @returns its first index, or 0
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { staticNameIndex } from "./_hpack_static.ts";
 *
 * assert.equal(staticNameIndex("content-type"), 31);
 * assert.equal(staticNameIndex("grpc-status"), 0);
 * ```
 */
export function staticNameIndex(name: string): number {
  return BY_NAME.get(name) ?? 0;
}

/**
 * The static index of an exact field, 0 when it has none.
 *
 * @param name a lower-case field name
 * @param value its value
 * @returns its index, or 0
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { staticPairIndex } from "./_hpack_static.ts";
 *
 * assert.equal(staticPairIndex(":status", "200"), 8);
 * assert.equal(staticPairIndex(":status", "201"), 0);
 * ```
 */
export function staticPairIndex(name: string, value: string): number {
  return BY_PAIR.get(name)?.get(value) ?? 0;
}
