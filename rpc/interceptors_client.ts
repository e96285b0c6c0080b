/**
 * The client's side of interceptors: a call sent through the chain
 * (`interceptSent`, or `sendThrough` and `notifyThrough` that take the
 * path without interceptors when none would act), its metadata becoming
 * what the transport sends, and protocol clients with headers
 * (`interceptCall`). Web-standard only.
 *
 * @module
 */

import { CallHeaders } from "./_call_headers.ts";
import { activeChain, intercept, type Interceptor } from "./interceptors.ts";
import type { CallOptions, RpcParams } from "./types.ts";

// The signal of a client call made without one.
const NEVER_ABORTED = new AbortController().signal;

/**
 * Runs a client call through `interceptors` to `send`, which makes it with
 * the method, params and signal the chain passes on (the signal merged into
 * the caller's options) and the metadata the chain left in `call.metadata`
 * (for the transports and codecs that carry it).
 *
 * @param interceptors the chain
 * @param kind a call or a notification
 * @param method the method's name
 * @param params its params
 * @param options the caller's options, if any (their signal is the call's)
 * @param send makes the call (its options hold the chain's signal, when there is one; its
 * metadata is `call.metadata`)
 * @returns the result, as the chain gives it
 *
 * @example Adding a param on the way out
 * ```ts
 * import assert from "node:assert/strict";
 * import { interceptSent } from "./interceptors_client.ts";
 *
 * const result = await interceptSent(
 *   [(next) => (call) => next({ ...call, params: [...(call.params as number[]), 3] })],
 *   "call",
 *   "sum",
 *   [1, 2],
 *   undefined,
 *   async (_method, params) => (params as number[]).reduce((a, b) => a + b, 0),
 * );
 * assert.equal(result, 6);
 * ```
 */
export function interceptSent(
  interceptors: readonly Interceptor[],
  kind: "call" | "notification",
  method: string,
  params: RpcParams | undefined,
  options: CallOptions | undefined,
  send: (
    method: string,
    params: RpcParams | undefined,
    options: CallOptions | undefined,
    metadata: Headers,
  ) => Promise<unknown>,
): Promise<unknown> {
  return intercept(
    interceptors,
    (call) =>
      send(
        call.method,
        call.params,
        call.signal === NEVER_ABORTED ? options : { ...options, signal: call.signal },
        call.metadata,
      ),
    {
      method,
      params,
      kind,
      side: "client",
      signal: options?.signal ?? NEVER_ABORTED,
      // Knows whether anything was put in: a call left without metadata sends none, unread.
      metadata: new CallHeaders(options?.headers),
    },
  );
}

/**
 * The metadata a call's options give (`headers`), or `undefined` when none:
 * what a client sends with a call that no interceptor touched.
 *
 * @param options the call's options
 * @returns its metadata
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optionsMetadata } from "./interceptors_client.ts";
 *
 * assert.equal(optionsMetadata({ timeout: 5 }), undefined);
 * assert.equal(optionsMetadata({ headers: { "x-tag": "t" } })?.get("x-tag"), "t");
 * ```
 */
export function optionsMetadata(options: CallOptions | undefined): Headers | undefined {
  return options?.headers === undefined ? undefined : new Headers(options.headers);
}

/** How a client sends one call, with the metadata its chain left (none without interceptors). */
export type SendCall = (
  method: string,
  params: RpcParams | undefined,
  options: CallOptions | undefined,
  metadata?: Headers,
) => Promise<unknown>;

/**
 * A client's `call`: straight to `send` when no interceptor would act
 * ({@linkcode activeChain}), through the chain otherwise.
 *
 * @param interceptors the client's, as `installed` keeps them
 * @param method the method's name
 * @param params its params
 * @param options the caller's options
 * @param send sends it (`metadata` is undefined on the path without interceptors)
 * @returns the result
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sendThrough } from "./interceptors_client.ts";
 *
 * const send = async (method: string, params: unknown) => [method, params];
 * assert.deepEqual(await sendThrough(undefined, "add", [1, 2], undefined, send), ["add", [1, 2]]);
 * const renamed = await sendThrough(
 *   [(next) => (call) => next({ ...call, method: "sum" })],
 *   "add",
 *   [1, 2],
 *   undefined,
 *   send,
 * );
 * assert.deepEqual(renamed, ["sum", [1, 2]]);
 * ```
 */
export function sendThrough(
  interceptors: readonly Interceptor[] | undefined,
  method: string,
  params: RpcParams | undefined,
  options: CallOptions | undefined,
  send: SendCall,
): Promise<unknown> {
  const chain = activeChain(interceptors);
  if (chain === undefined) return send(method, params, options);
  return interceptSent(chain, "call", method, params, options, send);
}

/**
 * A client's `notify`, as {@linkcode sendThrough} is its `call`.
 *
 * @param interceptors the client's, as `installed` keeps them
 * @param method the method's name
 * @param params its params
 * @param send sends it (`metadata` is undefined on the path without interceptors)
 * @returns when it was handed to the transport
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notifyThrough } from "./interceptors_client.ts";
 *
 * const sent: string[] = [];
 * await notifyThrough(undefined, "log", ["hi"], async (method) => void sent.push(method));
 * assert.deepEqual(sent, ["log"]);
 * ```
 */
export function notifyThrough(
  interceptors: readonly Interceptor[] | undefined,
  method: string,
  params: RpcParams | undefined,
  send: (method: string, params: RpcParams | undefined, metadata?: Headers) => Promise<void>,
): Promise<void> {
  const chain = activeChain(interceptors);
  if (chain === undefined) return send(method, params);
  return interceptSent(
    chain,
    "notification",
    method,
    params,
    undefined,
    (method, params, _options, metadata) => send(method, params, metadata),
  ).then(() => undefined);
}

/** What a client's call options must hold for {@linkcode interceptCall}. */
export interface MetadataCallOptions {
  /** Headers (metadata) sent with the call. */
  readonly headers?: HeadersInit;
  /** Aborts the call. */
  readonly signal?: AbortSignal;
}

/**
 * Runs a client call of a protocol with metadata (Connect, gRPC) through
 * `interceptors` to `send`: `call.metadata` starts as the call's own
 * headers, and what the chain leaves there is sent as the call's headers
 * (an interceptor adds `authorization`, say); the signal the chain passes
 * on aborts the call.
 *
 * @param interceptors the chain
 * @param method the method's name
 * @param params its params
 * @param options the caller's options
 * @param send makes the call with the method, params and options the chain gives
 * @returns the result, as the chain gives it
 *
 * @example An interceptor adding a header
 * ```ts
 * import assert from "node:assert/strict";
 * import { interceptCall } from "./interceptors_client.ts";
 *
 * const sent = await interceptCall(
 *   [(next) => (call) => {
 *     call.metadata.set("authorization", "Bearer t");
 *     return next(call);
 *   }],
 *   "demo.S/M",
 *   {},
 *   { headers: { "x-tag": "a" } },
 *   async (_method, _params, options) => [...new Headers(options.headers)],
 * );
 * assert.deepEqual(sent, [["authorization", "Bearer t"], ["x-tag", "a"]]);
 * ```
 */
export function interceptCall<O extends MetadataCallOptions>(
  interceptors: readonly Interceptor[],
  method: string,
  params: RpcParams | undefined,
  options: O,
  send: (method: string, params: RpcParams | undefined, options: O) => Promise<unknown>,
): Promise<unknown> {
  return intercept(
    interceptors,
    (call) =>
      send(call.method, call.params, {
        ...options,
        headers: call.metadata,
        ...(call.signal === NEVER_ABORTED ? {} : { signal: call.signal }),
      }),
    {
      method,
      params,
      kind: "call",
      side: "client",
      signal: options.signal ?? NEVER_ABORTED,
      metadata: new Headers(options.headers),
    },
  );
}
