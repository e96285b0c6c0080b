/**
 * A handler called within a deadline: what the Connect and gRPC-Web sides
 * of `connectHandler` share once a request's message is decoded.
 *
 * @module
 */

import { attachConnection, requestScope } from "../../rpc/connection.ts";
import { attachMetadata, type CallMetadata } from "../../rpc/call_metadata.ts";
import type { CallContext, ResolvedMethod } from "../../rpc/service.ts";
import { ConnectError } from "./errors.ts";

/** The calls running across requests (unary and streaming), and their limit. */
export interface InFlight {
  inFlight: number;
  readonly maxInFlight: number;
}

/**
 * The refusal of a call past the in-flight limit; `undefined` under it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overLimit } from "./_invoke.ts";
 *
 * assert.equal(overLimit({ inFlight: 1, maxInFlight: 2 }), undefined);
 * assert.equal(overLimit({ inFlight: 2, maxInFlight: 2 })?.connectCode, "resource_exhausted");
 * ```
 */
export function overLimit(calls: InFlight): ConnectError | undefined {
  if (calls.inFlight < calls.maxInFlight) return undefined;
  return new ConnectError(
    "resource_exhausted",
    `Too many calls in flight (limit ${calls.maxInFlight})`,
  );
}

/** A unary call, its request message decoded. */
export interface UnaryCall {
  /** What the dispatcher found for the method. */
  readonly handler: Pick<ResolvedMethod, "invoke">;
  /** The request message. */
  readonly params: unknown;
  /** The method's wire name. */
  readonly method: string;
  /** The HTTP request: its signal is the call's abort. */
  readonly request: Request;
  /** Fires at the call's deadline; none without one. */
  readonly deadline: AbortSignal | undefined;
  /** What `callMetadata(ctx)` finds. */
  readonly metadata?: CallMetadata;
}

/**
 * A unary call's handler called within its deadline ({@linkcode invokeWithin}),
 * counted in flight while it runs.
 *
 * @returns as `invokeWithin`: the handler's value at once, or a promise
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { invokeCounted } from "./_invoke.ts";
 *
 * const calls = { inFlight: 0, maxInFlight: 5 };
 * const handler = { invoke: () => calls.inFlight };
 * const request = new Request("http://localhost/demo.S/M", { method: "POST" });
 * const call = { handler, params: {}, method: "demo.S/M", request, deadline: undefined };
 * assert.equal(await invokeCounted(calls, call), 1);
 * assert.equal(calls.inFlight, 0);
 * ```
 */
export function invokeCounted(calls: InFlight, call: UnaryCall): unknown | Promise<unknown> {
  const { handler, params, method, request, deadline, metadata } = call;
  calls.inFlight++;
  const outcome = invokeWithin(handler, params, method, () => request.signal, deadline, metadata);
  // A synchronous handler's value is ready: no promise, no turn to wait.
  if (!(outcome instanceof Promise)) {
    calls.inFlight--;
    return outcome;
  }
  return outcome.then((value) => {
    calls.inFlight--;
    return value;
  }, (error) => {
    calls.inFlight--;
    throw error;
  });
}

/**
 * Calls the handler with a context whose signal fires when the request is
 * aborted or the deadline passes. The call does not outlive its deadline:
 * at the deadline it rejects with a `deadline_exceeded` `ConnectError`,
 * whatever the handler does with its signal.
 *
 * @param handler what the dispatcher found for the method
 * @param params the decoded request message
 * @param method the method's wire name (`pkg.Service/Method`)
 * @param aborted the request's signal (the client went away), asked for only
 *   when the handler looks at its own: Deno.serve warns about reading it
 * @param deadline fires at the call's deadline; none without one
 * @param metadata what `callMetadata(ctx)` finds; none when absent
 * @returns what the handler returned: a value at once when it returned one
 *   (and the call has no deadline), else a promise; a handler's throw is a
 *   rejected promise
 *
 * @example A handler that outlives its deadline
 * ```ts
 * import assert from "node:assert/strict";
 * import { invokeWithin } from "./_invoke.ts";
 *
 * const never = { invoke: () => new Promise(() => {}) };
 * await assert.rejects(
 *   async () =>
 *     await invokeWithin(never, {}, "demo.Slow/Wait", () => new AbortController().signal, AbortSignal.abort()),
 *   { name: "ConnectError", connectCode: "deadline_exceeded" },
 * );
 * assert.equal(await invokeWithin({ invoke: () => 3 }, {}, "demo.Fast/Go", () => AbortSignal.abort(), undefined), 3);
 * ```
 */
export function invokeWithin(
  handler: Pick<ResolvedMethod, "invoke">,
  params: unknown,
  method: string,
  aborted: () => AbortSignal,
  deadline: AbortSignal | undefined,
  metadata?: CallMetadata,
): unknown | Promise<unknown> {
  const ctx: CallContext = new UnaryCallContext(method, aborted, deadline);
  if (metadata !== undefined) {
    attachMetadata(ctx, metadata);
    const scope = requestScope(metadata.request);
    if (scope !== undefined) attachConnection(ctx, scope);
  }
  let outcome: unknown;
  try {
    outcome = handler.invoke(params, ctx);
  } catch (error) {
    return Promise.reject(error);
  }
  // A value that is not a promise (most handlers return one at once) is
  // returned as it is; a thenable of another kind becomes a promise.
  if (
    !(outcome instanceof Promise) && typeof (outcome as PromiseLike<unknown>)?.then === "function"
  ) {
    outcome = Promise.resolve(outcome);
  }
  if (deadline === undefined) return outcome;
  return Promise.race([outcome, expiry(deadline)]);
}

/**
 * Rejects with a `deadline_exceeded` `ConnectError` when `deadline` fires
 * (at once if it has).
 *
 * @param deadline the call's deadline
 * @returns a promise that never resolves
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expiry } from "./_invoke.ts";
 *
 * await assert.rejects(expiry(AbortSignal.abort()), { connectCode: "deadline_exceeded" });
 * ```
 */
export function expiry(deadline: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const expired = () => reject(new ConnectError("deadline_exceeded", "Deadline exceeded"));
    if (deadline.aborted) return expired();
    deadline.addEventListener("abort", expired, { once: true });
  });
}

// A unary call's context. A class, not an object literal with a getter: a
// literal's getter is a closure made per call, and V8 then keeps every
// call's objects (the request its signal closure holds, too) alive through
// young-generation collections (~16% of what a call allocates survived,
// against none with the class; docs/benchmarks.md, HTTP, third pass).
class UnaryCallContext implements CallContext {
  readonly id: undefined = undefined;
  readonly method: string;
  readonly #aborted: () => AbortSignal;
  readonly #deadline: AbortSignal | undefined;
  #signal: AbortSignal | undefined;
  constructor(method: string, aborted: () => AbortSignal, deadline: AbortSignal | undefined) {
    this.method = method;
    this.#aborted = aborted;
    this.#deadline = deadline;
  }
  // Made on first use: most handlers never look.
  get signal(): AbortSignal {
    return this.#signal ??= this.#deadline === undefined
      ? this.#aborted()
      : AbortSignal.any([this.#aborted(), this.#deadline]);
  }
}
