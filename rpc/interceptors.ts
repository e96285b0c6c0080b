/**
 * Interceptors: one shape for both ends of a call, as in Connect-ES and
 * grpc-js. An interceptor takes the next handler and gives one that wraps
 * it: it can read or rewrite the call, answer it itself (a result, or an
 * {@linkcode RpcError} thrown) without going on, and see the result or the
 * error on the way back. Installed once (`interceptors` of a `Peer`), they
 * run around every call whatever the codec or transport. Web-standard only.
 *
 * @module
 */

import { callMetadata } from "./call_metadata.ts";
import type { CallContext, ResolvedMethod } from "./schema.ts";
import type { RpcParams } from "./types.ts";

/** One call as interceptors see it, on the client or the server. */
export interface InterceptedCall {
  /** The method's name. On the server, the handler is already chosen from it. */
  readonly method: string;
  /** The params, as sent (client) or as they arrived (server). */
  readonly params: RpcParams | undefined;
  /** A call that expects a reply, or a notification (whose result is `undefined`). */
  readonly kind: "call" | "notification";
  /** Which end runs the interceptor. */
  readonly side: "client" | "server";
  /** Fires when the call is cancelled, times out or its connection drops. */
  readonly signal: AbortSignal;
  /**
   * The call's metadata. On the server: the request's headers (HTTP, gRPC,
   * Connect, NATS, a WebSocket's handshake) and a JSON-RPC request's
   * `"meta"` member; empty where neither exists. On the client: the call's
   * `headers` option; what the chain leaves here is sent where the
   * transport or codec has room for it.
   */
  readonly metadata: Headers;
  /** On the server, the handler's context; absent on the client. */
  readonly context?: CallContext;
}

/** Handles a call: gives its result, or throws (an {@linkcode RpcError} to answer with it). */
export type CallHandler = (call: InterceptedCall) => Promise<unknown>;

/**
 * Wraps the next handler. The outer function runs once per call, the
 * first interceptor of a list outermost (it sees the call first and the
 * outcome last).
 *
 * @example Denying a method, before the handler runs
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Interceptor } from "./interceptors.ts";
 * import { ErrorCode, RpcError } from "./errors.ts";
 *
 * const deny: Interceptor = (next) => (call) =>
 *   call.method === "admin"
 *     ? Promise.reject(new RpcError(ErrorCode.InvalidRequest, "Not allowed"))
 *     : next(call);
 * const handler = deny(() => Promise.resolve("ran"));
 * const call = {
 *   method: "admin",
 *   params: [],
 *   kind: "call",
 *   side: "server",
 *   signal: new AbortController().signal,
 *   metadata: new Headers(),
 * } as const;
 * await assert.rejects(handler(call), RpcError);
 * assert.equal(await handler({ ...call, method: "add" }), "ran");
 * ```
 */
export interface Interceptor {
  /** Wraps `next`, once per call. */
  (next: CallHandler): CallHandler;
  /**
   * Whether, for now, it would only pass calls on (tracing with no
   * OpenTelemetry provider registered): asked per call, and when every
   * interceptor of a chain says so, the call takes the path of no
   * interceptors at all (no call object, no metadata), so that an idle
   * interceptor costs one check. Absent: never idle.
   */
  readonly idle?: () => boolean;
}

/**
 * The interceptors to keep: `undefined` when there are none, so that the
 * call paths test one field and do nothing more per call.
 *
 * @param interceptors as given in options
 * @returns them, or `undefined` for none
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { installed } from "./interceptors.ts";
 *
 * assert.equal(installed([]), undefined);
 * assert.equal(installed(undefined), undefined);
 * assert.equal(installed([(next) => next])?.length, 1);
 * ```
 */
export function installed(
  interceptors: readonly Interceptor[] | undefined,
): readonly Interceptor[] | undefined {
  return interceptors === undefined || interceptors.length === 0 ? undefined : [...interceptors];
}

/**
 * The chain to run a call through now: `undefined` when there is none or
 * when every interceptor is {@linkcode Interceptor.idle}, so that the call
 * paths take their way without interceptors; otherwise the chain, whole.
 *
 * @param interceptors as {@linkcode installed} keeps them
 * @returns them, or `undefined` when none would do anything
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activeChain, type Interceptor } from "./interceptors.ts";
 *
 * let registered = false;
 * const tracer: Interceptor = Object.assign((next: Parameters<Interceptor>[0]) => next, {
 *   idle: () => !registered,
 * });
 * assert.equal(activeChain([tracer]), undefined);
 * registered = true;
 * assert.deepEqual(activeChain([tracer]), [tracer]);
 * assert.equal(activeChain(undefined), undefined);
 * ```
 */
export function activeChain(
  interceptors: readonly Interceptor[] | undefined,
): readonly Interceptor[] | undefined {
  if (interceptors === undefined) return undefined;
  for (let i = 0; i < interceptors.length; i++) {
    const idle = interceptors[i]!.idle;
    if (idle === undefined || !idle()) return interceptors;
  }
  return undefined;
}

/**
 * Runs `call` through `interceptors` (the first outermost) to `last`.
 * A handler that throws instead of rejecting is a rejection too.
 *
 * @param interceptors the chain
 * @param last what does the call at the end of the chain
 * @param call the call
 * @returns the outcome, as the outermost interceptor gives it
 *
 * @example Outer first, inner last
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Interceptor, intercept } from "./interceptors.ts";
 *
 * const seen: string[] = [];
 * const tag = (name: string): Interceptor => (next) => async (call) => {
 *   seen.push(`${name} in`);
 *   const result = await next(call);
 *   seen.push(`${name} out`);
 *   return result;
 * };
 * const result = await intercept([tag("a"), tag("b")], async (call) => call.params, {
 *   method: "echo",
 *   params: [1],
 *   kind: "call",
 *   side: "client",
 *   signal: new AbortController().signal,
 *   metadata: new Headers(),
 * });
 * assert.deepEqual(result, [1]);
 * assert.deepEqual(seen, ["a in", "b in", "b out", "a out"]);
 * ```
 */
export function intercept(
  interceptors: readonly Interceptor[],
  last: CallHandler,
  call: InterceptedCall,
): Promise<unknown> {
  let handler = last;
  for (let i = interceptors.length - 1; i >= 0; i--) handler = interceptors[i]!(handler);
  try {
    const outcome = handler(call);
    return outcome instanceof Promise ? outcome : Promise.resolve(outcome);
  } catch (error) {
    return Promise.reject(error);
  }
}

// The end of a server's chain: the handler's outcome as a promise, without
// an async function's extra promise and ticks (a sync handler's value is
// resolved at once), a throw as a rejection.
function invoked(
  invoke: (params: RpcParams | undefined) => unknown,
  params: RpcParams | undefined,
): Promise<unknown> {
  try {
    const outcome = invoke(params);
    return outcome instanceof Promise ? outcome : Promise.resolve(outcome);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Runs a server call through `interceptors` to its handler (`invoke`).
 *
 * @param interceptors the chain
 * @param ctx the handler's context
 * @param params the params as they arrived
 * @param invoke runs the handler with the params the chain passes on
 * @returns the handler's result, as the chain gives it
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { interceptServed } from "./interceptors.ts";
 *
 * const ctx = { id: 1, method: "add", signal: new AbortController().signal };
 * const doubled = await interceptServed(
 *   [(next) => (call) => next({ ...call, params: (call.params as number[]).map((n) => 2 * n) })],
 *   ctx,
 *   [1, 2],
 *   (params) => {
 *     const [a, b] = params as [number, number];
 *     return a + b;
 *   },
 * );
 * assert.equal(doubled, 6);
 * ```
 */
export function interceptServed(
  interceptors: readonly Interceptor[],
  ctx: CallContext,
  params: RpcParams | undefined,
  invoke: (params: RpcParams | undefined) => unknown,
): Promise<unknown> {
  return intercept(interceptors, (call) => invoked(invoke, call.params), {
    method: ctx.method,
    params,
    kind: ctx.id === undefined ? "notification" : "call",
    side: "server",
    signal: ctx.signal,
    metadata: callMetadata(ctx)?.request ?? new Headers(),
    context: ctx,
  });
}

/**
 * A dispatcher whose methods run through `interceptors` (for protocol
 * servers that resolve a method, then call it: Connect, gRPC-Web, gRPC).
 * Every call is a `"call"`, its metadata the request's headers that the
 * protocol attached to the context. A streaming method's interceptors see
 * its request (or the caller's messages) as params and its reply's
 * messages as the result, before they are sent. `undefined` interceptors
 * give `dispatch` itself: nothing is added per call.
 *
 * @param dispatch finds a method by name
 * @param interceptors the chain, as {@linkcode installed} keeps it
 * @returns the dispatcher to use
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDispatcher } from "./dispatch.ts";
 * import { interceptDispatch } from "./interceptors.ts";
 *
 * const dispatch = createDispatcher({ add: (a: number, b: number) => a + b });
 * assert.equal(interceptDispatch(dispatch, undefined), dispatch);
 * const seen: string[] = [];
 * const traced = interceptDispatch(dispatch, [(next) => (call) => {
 *   seen.push(`${call.side} ${call.kind} ${call.method}`);
 *   return next(call);
 * }]);
 * const ctx = { id: undefined, method: "add", signal: new AbortController().signal };
 * assert.equal(await traced("add")?.invoke([1, 2], ctx), 3);
 * assert.deepEqual(seen, ["server call add"]);
 * ```
 */
export function interceptDispatch(
  dispatch: (method: string) => ResolvedMethod | undefined,
  interceptors: readonly Interceptor[] | undefined,
): (method: string) => ResolvedMethod | undefined {
  if (interceptors === undefined) return dispatch;
  // One wrapper per resolved method, made once: the dispatcher caches only names that exist.
  const wrapped = new WeakMap<ResolvedMethod, ResolvedMethod>();
  return (name) => {
    const resolved = dispatch(name);
    if (resolved === undefined) return undefined;
    let outer = wrapped.get(resolved);
    if (outer === undefined) {
      outer = {
        ...resolved,
        invoke: (params, ctx) =>
          intercept(interceptors, (call) => invoked((p) => resolved.invoke(p, ctx), call.params), {
            method: ctx.method,
            params: params as RpcParams | undefined,
            kind: "call",
            side: "server",
            signal: ctx.signal,
            metadata: callMetadata(ctx)?.request ?? new Headers(),
            context: ctx,
          }),
      };
      wrapped.set(resolved, outer);
    }
    return outer;
  };
}
