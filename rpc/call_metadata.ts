/**
 * A call's metadata as its handler sees it, on every protocol that has
 * somewhere to put it (gRPC's and gRPC-Web's headers and trailers,
 * Connect's headers and trailers): what a handler reads of the request's
 * headers and adds to the reply's headers and trailers, reached from the
 * call's context (handlers marked with `withContext`).
 *
 * @module
 */

import { CallHeaders } from "./_call_headers.ts";
import type { CallContext } from "./service.ts";

/** The metadata of one call, as its handler sees it. */
export interface CallMetadata {
  /** The request's headers (its metadata, and `grpc-timeout`, `user-agent`…). */
  readonly request: Headers;
  /** Headers to send with the reply (before its message). */
  readonly headers: Headers;
  /**
   * Trailers to send after the reply's message, beside the status. A
   * trailers-only reply (an error) carries `headers` and `trailers` in its
   * one header block.
   */
  readonly trailers: Headers;
}

// Kept on the context itself under a symbol, as the connection's scope is
// (rpc/connection.ts): a WeakMap entry per call costs a visible share of a
// small HTTP call, and ephemeron tables are slow to grow and to collect.
const METADATA: unique symbol = Symbol("parley.callMetadata");
type WithMetadata = CallContext & { [METADATA]?: CallMetadata };

/**
 * Where a context can carry its call's metadata itself (a getter of its
 * class that builds it on first use) instead of through
 * {@linkcode attachMetadata}: a `WeakMap` entry per call costs about a
 * microsecond, a tenth of a small call over WebSocket, and most handlers
 * never look. A getter rather than {@linkcode attachMetadata}'s property:
 * an `IncomingCall` builds it lazily. Private to `rpc/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callMetadata, OWN_METADATA } from "./call_metadata.ts";
 *
 * const metadata = { request: new Headers(), headers: new Headers(), trailers: new Headers() };
 * const ctx = {
 *   id: 1,
 *   method: "m",
 *   signal: new AbortController().signal,
 *   get [OWN_METADATA]() {
 *     return metadata;
 *   },
 * };
 * assert.equal(callMetadata(ctx), metadata);
 * ```
 */
export const OWN_METADATA: unique symbol = Symbol("parley.callMetadata");

/**
 * The metadata of the call whose context this is; `undefined` when the
 * call came over a protocol that carries none.
 *
 * @param ctx the call's context, as a `withContext` handler receives it
 * @returns the call's metadata
 *
 * @example Echoing a request header as a response header and a trailer
 * ```ts
 * import assert from "node:assert/strict";
 * import { withContext } from "./service.ts";
 * import { callMetadata } from "./call_metadata.ts";
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
 * // Not called over a protocol with metadata: none.
 * assert.equal(callMetadata({ id: 1, method: "m", signal: new AbortController().signal }), undefined);
 * assert.equal(typeof echoTag, "function");
 * ```
 */
export function callMetadata(ctx: CallContext): CallMetadata | undefined {
  const own = ctx as WithMetadata & { [OWN_METADATA]?: CallMetadata };
  return own[OWN_METADATA] ?? own[METADATA];
}

/**
 * Makes `metadata` what {@linkcode callMetadata} finds for `ctx` (for
 * protocol handlers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attachMetadata, callMetadata } from "./call_metadata.ts";
 *
 * const ctx = { id: undefined, method: "m", signal: new AbortController().signal };
 * const metadata = { request: new Headers(), headers: new Headers(), trailers: new Headers() };
 * attachMetadata(ctx, metadata);
 * assert.equal(callMetadata(ctx), metadata);
 * ```
 */
export function attachMetadata(ctx: CallContext, metadata: CallMetadata): void {
  (ctx as WithMetadata)[METADATA] = metadata;
}

/**
 * A new call's metadata: the request's headers, empty reply headers and
 * trailers, shown to `onCall` first (for protocol handlers: what `onCall`
 * sets goes out on every reply, failing ones included). What `onCall`
 * throws is told to `onError`; the call goes on.
 *
 * @param request the request's headers
 * @param onCall told of the call as it arrives
 * @param onError told what `onCall` threw
 * @returns the call's metadata
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arrivingCall } from "./call_metadata.ts";
 *
 * const metadata = arrivingCall(new Headers({ "x-tag": "t" }), ({ request, headers }) => {
 *   headers.set("x-tag", request.get("x-tag")!);
 * }, () => {});
 * assert.equal(metadata.headers.get("x-tag"), "t");
 * ```
 */
export function arrivingCall(
  request: Headers,
  onCall: ((metadata: CallMetadata) => void) | undefined,
  onError: (error: unknown) => void,
): CallMetadata {
  // Headers that know whether anything was put in them: a reply's own
  // headers are then written without reading back empty ones.
  const metadata = {
    request,
    headers: new CallHeaders(undefined),
    trailers: new CallHeaders(undefined),
  };
  if (onCall === undefined) return metadata;
  try {
    onCall(metadata);
  } catch (error) {
    onError(error);
  }
  return metadata;
}
