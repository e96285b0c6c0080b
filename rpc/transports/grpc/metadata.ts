/**
 * gRPC's custom metadata on the server: `node:http2`'s header objects to
 * and from the Web `Headers` of {@linkcode CallMetadata} (rpc/call_metadata.ts).
 *
 * @module
 */

import type http2 from "node:http2";
import type { CallMetadata } from "../../call_metadata.ts";

export { attachMetadata, type CallMetadata, callMetadata } from "../../call_metadata.ts";

/**
 * The metadata of one gRPC call, as its handler sees it: the same
 * {@linkcode CallMetadata} that Connect and gRPC-Web calls have.
 */
export type GrpcCallMetadata = CallMetadata;

/**
 * `node:http2`'s header object as Web `Headers`, without the pseudo-headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headersOf } from "./metadata.ts";
 *
 * const headers = headersOf({ ":path": "/p", "x-a": "1", "set-cookie": ["a", "b"] });
 * assert.deepEqual([...headers], [["set-cookie", "a"], ["set-cookie", "b"], ["x-a", "1"]]);
 * ```
 */
export function headersOf(incoming: http2.IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) out.append(name, String(one));
  }
  return out;
}

/**
 * Web `Headers` as `node:http2`'s outgoing header object, under `fixed`
 * (what the protocol itself sends wins over metadata of the same name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outgoing } from "./metadata.ts";
 *
 * const headers = new Headers({ "x-a": "1", "grpc-status": "9" });
 * assert.deepEqual(outgoing([headers], { "grpc-status": "0" }), { "x-a": "1", "grpc-status": "0" });
 * ```
 */
export function outgoing(
  metadata: readonly Headers[],
  fixed: http2.OutgoingHttpHeaders,
): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const headers of metadata) {
    for (const [name, value] of headers) out[name] = value;
  }
  return Object.assign(out, fixed);
}
