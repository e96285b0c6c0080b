/**
 * A peer's serving side: the calls the other end made that are being
 * handled, their in-flight limit, their cancellation and draining.
 *
 * @module
 */

import {
  type AnswerSettings,
  errorReply,
  failureOf,
  invokeMethod,
  methodNotFound,
} from "../answer.ts";
import { createDispatcher, type Dispatcher } from "../dispatch.ts";
import { ErrorCode, RpcError } from "../errors.ts";
import type { CallContext, Service } from "../service.ts";
import type { RpcId, RpcMessage, RpcParams } from "../types.ts";
import type { StreamTable } from "./_streams.ts";

/** A call being handled: its handler's abort and how to answer it once. */
interface IncomingCall {
  readonly controller: AbortController;
  readonly finish: (reply: RpcMessage) => void;
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
   */
  constructor(
    service: Service | undefined,
    maxInFlight: number,
    answering: AnswerSettings,
    streams?: StreamTable,
  ) {
    this.#dispatch = service === undefined ? undefined : createDispatcher(service);
    this.#maxInFlight = maxInFlight;
    this.#answering = answering;
    this.#streams = streams;
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
   */
  serve(
    id: RpcId | undefined,
    method: string,
    params: RpcParams | undefined,
    respond: (reply: RpcMessage) => void,
  ): void {
    const replyId = id ?? null;
    if (this.#draining) {
      return respond(errorReply(replyId, ErrorCode.ServerBusy, "Server is shutting down"));
    }
    if (this.#inFlight >= this.#maxInFlight) {
      return respond(
        errorReply(
          replyId,
          ErrorCode.ServerBusy,
          `Too many calls in flight (limit ${this.#maxInFlight})`,
        ),
      );
    }
    const resolved = this.#dispatch?.(method);
    if (resolved === undefined) return respond(methodNotFound(replyId, method));
    const controller = new AbortController();
    this.#inFlight++;
    let answered = false;
    const finish = (reply: RpcMessage): void => {
      if (answered) return; // cancelled earlier: the handler's outcome is dropped
      answered = true;
      if (id !== undefined && this.#calls.get(id)?.controller === controller) {
        this.#calls.delete(id);
        this.#streams?.forget(id, false);
      }
      respond(reply);
      if (--this.#inFlight === 0) this.#idle?.resolve();
    };
    if (id !== undefined) this.#calls.set(id, { controller, finish });
    const ctx = this.#context(id, method, controller.signal);
    const reply = invokeMethod(resolved, ctx, params, this.#answering);
    const answer = (reply: RpcMessage): void => {
      if (!isStream(reply) || this.#streams === undefined || id === undefined) return finish(reply);
      // A handler that returned an async iterable streams its messages; the
      // call's reply, once they are sent, ends the stream.
      this.#streams.pump(id, "server", reply.result, controller.signal).then(
        () => finish({ kind: "result", id, result: null }),
        (error) => finish(failureOf(id, error, this.#answering)),
      );
    };
    if (reply instanceof Promise) reply.then(answer);
    else answer(reply);
  }

  // The handler's context: the caller's messages, when this connection streams.
  #context(id: RpcId | undefined, method: string, signal: AbortSignal): CallContext {
    const streams = this.#streams;
    if (streams === undefined || id === undefined) return { id, method, signal };
    return {
      id,
      method,
      signal,
      get input() {
        return streams.input(id);
      },
    };
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
    call.controller.abort(error);
    call.finish({ kind: "error", id, error: error.toObject() });
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
    for (const call of this.#calls.values()) call.controller.abort(error);
    this.#calls.clear();
    this.#idle?.resolve();
  }
}

function isStream(
  reply: RpcMessage,
): reply is { kind: "result"; id: RpcId; result: AsyncIterable<unknown> } {
  return reply.kind === "result" && typeof reply.result === "object" && reply.result !== null &&
    Symbol.asyncIterator in reply.result;
}
