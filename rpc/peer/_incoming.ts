/**
 * A peer's serving side: the calls the other end made that are being
 * handled, their in-flight limit, their cancellation and draining.
 *
 * @module
 */

import {
  answerMethod,
  type AnswerSettings,
  refuseCall,
  type ReplyTaker,
  requestMetadata,
} from "../answer.ts";
import { attachMetadata, type CallMetadata, OWN_METADATA } from "../call_metadata.ts";
import { createDispatcher, type Dispatcher } from "../dispatch.ts";
import { ErrorCode, RpcError } from "../errors.ts";
import type { CallContext, Service } from "../service.ts";
import type { RpcId, RpcMessage, RpcParams } from "../types.ts";
import type { StreamTable } from "./_streams.ts";

/**
 * A call being handled, and its context: one object per call. Its abort
 * signal is made when first asked for (most handlers never ask, and an
 * `AbortController` is the costliest part of a small call); a call cancelled
 * before then hands out a signal aborted already.
 */
class IncomingCall implements CallContext, ReplyTaker {
  readonly id: RpcId | undefined;
  readonly method: string;
  readonly #owner: IncomingCalls;
  readonly #respond: (reply: RpcMessage) => void;
  #controller: AbortController | undefined;
  #abortedBy: { readonly reason: unknown } | undefined;
  #answered = false;
  // The request's own metadata entries, if it carried any.
  meta: Readonly<Record<string, string>> | undefined;
  #metadata: CallMetadata | undefined;

  constructor(
    owner: IncomingCalls,
    id: RpcId | undefined,
    method: string,
    respond: (reply: RpcMessage) => void,
  ) {
    this.#owner = owner;
    this.id = id;
    this.method = method;
    this.#respond = respond;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortedBy !== undefined) this.#controller.abort(this.#abortedBy.reason);
    }
    return this.#controller.signal;
  }

  // Built when a handler first asks (callMetadata), not for every call.
  get [OWN_METADATA](): CallMetadata | undefined {
    if (this.#metadata !== undefined) return this.#metadata;
    const request = this.#owner.requestMetadata(this.meta);
    if (request === undefined) return undefined;
    return this.#metadata = { request, headers: new Headers(), trailers: new Headers() };
  }

  abort(reason: unknown): void {
    if (this.#abortedBy !== undefined) return;
    this.#abortedBy = { reason };
    this.#controller?.abort(reason);
  }

  // The reply, once: a call cancelled earlier drops its handler's outcome.
  take(reply: RpcMessage): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#owner.finished(this);
    this.#respond(reply);
  }
}

/** A call's context when its connection streams: the caller's messages too. */
class StreamingCall extends IncomingCall {
  readonly #streams: StreamTable;

  constructor(
    owner: IncomingCalls,
    id: RpcId,
    method: string,
    respond: (reply: RpcMessage) => void,
    streams: StreamTable,
  ) {
    super(owner, id, method, respond);
    this.#streams = streams;
  }

  get input(): AsyncIterable<unknown> {
    return this.#streams.input(this.id!);
  }
}

/**
 * The incoming calls of one connection. Each is answered exactly once: by
 * its handler, or at once when cancelled, refused or unknown.
 *
 * @example A call answered, then draining refuses the next
 * ```ts
 * import assert from "node:assert/strict";
 * import { IncomingCalls } from "./_incoming.ts";
 *
 * const calls = new IncomingCalls({ add: (x: number, y: number) => x + y }, 8, {
 *   expose: false,
 *   onError: () => {},
 * });
 * const replies: unknown[] = [];
 * calls.serve(1, "add", [1, 2], (reply) => replies.push(reply));
 * await calls.drain();
 * calls.serve(2, "add", [1, 2], (reply) => replies.push(reply));
 * assert.deepEqual(replies[0], { kind: "result", id: 1, result: 3 });
 * assert.equal((replies[1] as { kind: string }).kind, "error");
 * ```
 */
export class IncomingCalls {
  readonly #dispatch: Dispatcher | undefined;
  readonly #maxInFlight: number;
  readonly #answering: AnswerSettings;
  readonly #streams: StreamTable | undefined;
  readonly #metadata: Headers | undefined;
  // Calls being handled, by id: cancelling one aborts its handler and answers it.
  readonly #calls = new Map<RpcId, IncomingCall>();
  #inFlight = 0;
  #idle: PromiseWithResolvers<void> | undefined;
  #draining = false;

  /**
   * Creates the table for a service.
   *
   * @param service what is served; nothing (every call is unknown) when absent
   * @param maxInFlight the most calls handled at once; more are refused as busy
   * @param answering how errors are reported and exposed
   * @param streams the connection's streams, when its codec carries them
   * @param metadata the connection's metadata (a WebSocket's handshake
   * headers), under every call's own
   */
  constructor(
    service: Service | undefined,
    maxInFlight: number,
    answering: AnswerSettings,
    streams?: StreamTable,
    metadata?: Headers,
  ) {
    this.#dispatch = service === undefined ? undefined : createDispatcher(service);
    this.#maxInFlight = maxInFlight;
    this.#answering = answering;
    this.#streams = streams;
    this.#metadata = metadata;
  }

  /**
   * Whether call `id` is being handled now.
   *
   * @param id the call's id
   * @returns true while it awaits its reply
   */
  serving(id: RpcId): boolean {
    return this.#calls.has(id);
  }

  /** The number of calls being handled now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Whether the service has a handler for `method`.
   *
   * @param method the method's name
   * @returns true when a call of it would be served
   */
  handles(method: string): boolean {
    return this.#dispatch?.(method) !== undefined;
  }

  /**
   * Runs a handler; `respond` gets its reply, exactly once. The call counts
   * as in flight until its reply has been handed to `respond`, so that
   * {@linkcode IncomingCalls.drain} cannot end between a handler's return
   * and its reply.
   *
   * @param id the call's id; `undefined` for a notification (answered under id null)
   * @param method the method's name
   * @param params its params
   * @param respond takes the reply
   * @param meta the call's metadata, as its request carried it
   */
  serve(
    id: RpcId | undefined,
    method: string,
    params: RpcParams | undefined,
    respond: (reply: RpcMessage) => void,
    meta?: Readonly<Record<string, string>>,
  ): void {
    if (this.#draining) {
      return this.#refuse(
        new RpcError(ErrorCode.ServerBusy, "Server is shutting down"),
        this.#context(id, method, meta),
        params,
        respond,
      );
    }
    if (this.#inFlight >= this.#maxInFlight) {
      return this.#refuse(
        new RpcError(
          ErrorCode.ServerBusy,
          `Too many calls in flight (limit ${this.#maxInFlight})`,
        ),
        this.#context(id, method, meta),
        params,
        respond,
      );
    }
    const resolved = this.#dispatch?.(method);
    if (resolved === undefined) {
      return this.#refuse(
        new RpcError(ErrorCode.MethodNotFound, "Method not found", { method }),
        this.#context(id, method, meta),
        params,
        respond,
      );
    }
    this.#inFlight++;
    const streams = this.#streams;
    const call = streams === undefined || id === undefined
      ? new IncomingCall(this, id, method, respond)
      : new StreamingCall(this, id, method, respond, streams);
    call.meta = meta;
    // A call that streams is known before its handler runs (its caller's
    // messages find it by id); any other only if its handler is still at
    // work once it returns: a synchronous handler is answered and gone
    // before any other message (a cancellation) is read.
    if (call instanceof StreamingCall) this.#calls.set(id!, call);
    // On a connection that streams, a handler may return a stream to send.
    const served = streams === undefined || id === undefined
      ? resolved
      : streams.served(resolved, id);
    const now = answerMethod(served, call, params, this.#answering, call);
    if (!now && id !== undefined) this.#calls.set(id, call);
  }

  /**
   * Called by a call as it is answered: it leaves the table and its slot.
   *
   * @param call the call
   */
  finished(call: IncomingCall): void {
    const id = call.id;
    if (id !== undefined && this.#calls.get(id) === call) {
      this.#calls.delete(id);
      this.#streams?.forget(id, false);
    }
    if (--this.#inFlight === 0) this.#idle?.resolve();
  }

  // Answers a call refused before any handler ran (through the interceptors).
  #refuse(
    error: RpcError,
    ctx: CallContext,
    params: RpcParams | undefined,
    respond: (reply: RpcMessage) => void,
  ): void {
    const reply = refuseCall(error, ctx, params, this.#answering);
    if (reply instanceof Promise) reply.then(respond);
    else respond(reply);
  }

  // The context of a call refused before any handler ran.
  #context(
    id: RpcId | undefined,
    method: string,
    meta: Readonly<Record<string, string>> | undefined,
  ): CallContext {
    const ctx: CallContext = { id, method, signal: NEVER_ABORTED };
    this.#withMetadata(ctx, meta);
    return ctx;
  }

  // The call's metadata, when it has some.
  #withMetadata(ctx: CallContext, meta: Readonly<Record<string, string>> | undefined): void {
    const request = this.requestMetadata(meta);
    if (request !== undefined) {
      attachMetadata(ctx, { request, headers: new Headers(), trailers: new Headers() });
    }
  }

  /**
   * A call's request metadata: the connection's, under the call's own entries.
   *
   * @param meta the call's own entries, if it carried any
   * @returns the headers, or `undefined` when there are none
   */
  requestMetadata(meta: Readonly<Record<string, string>> | undefined): Headers | undefined {
    return requestMetadata(this.#metadata, meta);
  }

  /**
   * Cancels a call being handled. It is answered at once (the Language
   * Server Protocol asks for a reply to every request, cancelled ones
   * included) and leaves its in-flight slot, whether or not its handler ever
   * settles; what the handler returns later is dropped.
   *
   * @param id the call's id; unknown ids are ignored
   */
  cancel(id: RpcId): void {
    const call = this.#calls.get(id);
    if (call === undefined) return;
    const error = new RpcError(ErrorCode.RequestCancelled, "Request cancelled");
    call.abort(error);
    call.take({ kind: "error", id, error: error.toObject() });
  }

  /**
   * Refuses new calls from now on ("shutting down") and waits for the calls
   * in flight to be answered.
   *
   * @returns when none is in flight (or {@linkcode IncomingCalls.abortAll})
   */
  async drain(): Promise<void> {
    this.#draining = true;
    if (this.#inFlight > 0) {
      this.#idle ??= Promise.withResolvers();
      await this.#idle.promise;
    }
  }

  /**
   * The connection ended: every handler sees its signal abort, and whoever
   * waits in {@linkcode IncomingCalls.drain} goes on.
   *
   * @param error the abort reason
   */
  abortAll(error: unknown): void {
    for (const call of this.#calls.values()) call.abort(error);
    this.#calls.clear();
    this.#idle?.resolve();
  }
}

// The signal of a call that no handler runs.
const NEVER_ABORTED = new AbortController().signal;
