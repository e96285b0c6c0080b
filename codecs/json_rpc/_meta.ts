// The optional top-level `"meta"` member of a JSON-RPC request or
// notification: the call's metadata (W3C `traceparent`, an authorization
// token…), an object of string values under lowercase header-name keys,
// bounded so that one message cannot make a server hold much. Peers that do
// not know it ignore it, as JSON-RPC 2.0 peers ignore unknown members.

/** The most entries a `meta` member may have. */
export const MAX_META_ENTRIES = 64;
/** The most characters its keys and values may add up to (8 KiB). */
export const MAX_META_CHARS = 8192;

// A header name (RFC 9110 token) in lowercase, and a header value's characters.
const KEY = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Why `meta` is not a valid `"meta"` member, or `undefined` when it is.
 *
 * @param meta the member as it arrived (or is about to be sent)
 * @returns the reason, for an invalid-request error
 */
export function metaProblem(meta: unknown): string | undefined {
  if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
    return `"meta" must be an object of strings`;
  }
  let entries = 0;
  let chars = 0;
  for (const key in meta) {
    const value = (meta as Record<string, unknown>)[key];
    if (typeof value !== "string") return `"meta" member "${key.slice(0, 64)}" must be a string`;
    if (!KEY.test(key)) return `"meta" key "${key.slice(0, 64)}" must be a lowercase header name`;
    if (!VALUE.test(value)) return `"meta" member "${key}" must be a header value`;
    chars += key.length + value.length;
    if (++entries > MAX_META_ENTRIES) {
      return `"meta" has more than ${MAX_META_ENTRIES} entries`;
    }
    if (chars > MAX_META_CHARS) return `"meta" exceeds ${MAX_META_CHARS} characters`;
  }
  return undefined;
}
