/**
 * gRPC's custom metadata on the server: what a handler reads of the
 * request's headers and adds to the reply's headers and trailers, reached
 * from the call's context (handlers marked with `withContext`).
 *
 * @module
 */

import type http2 from "node:http2";
import type { CallContext } from "../../service.ts";

/** The metadata of one gRPC call, as its handler sees it. */
export interface GrpcCallMetadata {
  /** The request's headers (its metadata, and `grpc-timeout`, `user-agent`…). */
  readonly request: Headers;
  /** Headers to send with the reply (before its message). */
  readonly headers: Headers;
  /**
   * Trailers to send after the reply's message, beside `grpc-status`. A
   * trailers-only reply (an error) carries `headers` and `trailers` in its
   * one header block.
   */
  readonly trailers: Headers;
}

const byContext = new WeakMap<CallContext, GrpcCallMetadata>();

/**
 * The gRPC metadata of the call whose context this is; `undefined` when the
 * call did not come over gRPC.
 *
 * @param ctx the call's context, as a `withContext` handler receives it
 * @returns the call's metadata
 *
 * @example Echoing a request header as a response header and a trailer
 * ```ts
 * import assert from "node:assert/strict";
 * import { withContext } from "../../service.ts";
 * import { callMetadata } from "./metadata.ts";
 *
 * const echoTag = withContext((ctx) => {
 *   const metadata = callMetadata(ctx);
 *   const tag = metadata?.request.get("x-request-tag");
 *   if (tag != null) {
 *     metadata!.headers.set("x-request-tag", tag);
 *     metadata!.trailers.set("x-request-tag-end", tag);
 *   }
 *   return {};
 * });
 * // Not called over gRPC: no metadata.
 * assert.equal(callMetadata({ id: 1, method: "m", signal: new AbortController().signal }), undefined);
 * assert.equal(typeof echoTag, "function");
 * ```
 */
export function callMetadata(ctx: CallContext): GrpcCallMetadata | undefined {
  return byContext.get(ctx);
}

/**
 * Makes `metadata` what {@linkcode callMetadata} finds for `ctx`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attachMetadata, callMetadata } from "./metadata.ts";
 *
 * const ctx = { id: undefined, method: "m", signal: new AbortController().signal };
 * const metadata = { request: new Headers(), headers: new Headers(), trailers: new Headers() };
 * attachMetadata(ctx, metadata);
 * assert.equal(callMetadata(ctx), metadata);
 * ```
 */
export function attachMetadata(ctx: CallContext, metadata: GrpcCallMetadata): void {
  byContext.set(ctx, metadata);
}

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
