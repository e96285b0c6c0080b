// The streaming calls of one connection, both ways: the messages received
// on each (with the credit granted for them), the credit to send on each,
// and the loop that sends an async iterable's messages as credit allows.
// Events travel as STREAM_EVENT notifications (rpc/types.ts); the call
// itself, and its end, are an ordinary request and reply.

import { ErrorCode, RpcError } from "../errors.ts";
import { activeChain, type Interceptor } from "../interceptors.ts";
import type {
  RpcId,
  RpcParams,
  RpcRequest,
  RpcStream,
  RpcStreamEvent,
  StreamCallOptions,
} from "../types.ts";
import type { ResolvedMethod } from "../service.ts";
import { message } from "./_batch.ts";
import { openThrough } from "./_intercepted.ts";
import { abortable, InboundMessages, OutboundCredit } from "./_stream_flow.ts";

/** One end's side of one streaming call. */
interface StreamState {
  inbound: InboundMessages | undefined;
  readonly credit: OutboundCredit;
}

/**
 * How the table reaches the connection.
 *
 * @example
 * ```ts
 * import type { StreamParts } from "./_streams.ts";
 * const parts: StreamParts = {
 *   send: () => Promise.resolve(),
 *   window: 16,
 *   cancelServed: () => {},
 *   serving: () => false,
 *   onError: () => {},
 * };
 * console.assert(parts.window === 16);
 * ```
 */
export interface StreamParts {
  /** Sends an event; resolves when the transport took it. */
  readonly send: (event: RpcStreamEvent) => Promise<void>;
  /** The most messages granted at once, each way. */
  readonly window: number;
  /** Cancels a call this end serves (the caller gave it up). */
  readonly cancelServed: (id: RpcId) => void;
  /** Whether this end is serving call `id` now. */
  readonly serving: (id: RpcId) => boolean;
  /** Told about events that fit no stream. */
  readonly onError: (error: unknown) => void;
}

/**
 * What a streaming call of a peer's own needs of its peer
 * ({@linkcode StreamTable.openCall}).
 *
 * @example
 * ```ts
 * import type { StreamCaller } from "./_streams.ts";
 * let next = 1;
 * const caller: StreamCaller = {
 *   interceptors: undefined,
 *   register: () => ({ id: next++, result: Promise.resolve(null) }),
 *   timeout: undefined,
 *   checkBudget: () => {},
 *   send: () => {},
 * };
 * console.assert(caller.register("numbers", undefined, AbortSignal.abort(), () => {}).id === 1);
 * ```
 */
export interface StreamCaller {
  /** The peer's client interceptors; the call goes through them when active. */
  readonly interceptors: readonly Interceptor[] | undefined;
  /**
   * Registers the call with the peer's calls awaiting a reply: its timeout,
   * the signal that cancels it, and what to do then (tell the other end).
   */
  readonly register: (
    method: string,
    timeout: number | undefined,
    signal: AbortSignal,
    onCancel: (id: RpcId) => void,
  ) => { readonly id: RpcId; readonly result: Promise<unknown> };
  /** The peer's default timeout. */
  readonly timeout: number | undefined;
  /** Refuses a new call while a slow reader has too much queued (throws). */
  readonly checkBudget: () => void;
  /** Sends the call's request; an encoding failure fails that call only. */
  readonly send: (request: RpcRequest, id: RpcId) => void;
}

/**
 * The streaming calls of one connection. "Made" are the calls this end
 * made; "served" are the calls it serves.
 *
 * @example Two tables joined directly: a server stream of three messages
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamTable } from "./_streams.ts";
 * import type { RpcStreamEvent } from "../types.ts";
 *
 * const parts = (to: () => StreamTable) => ({
 *   send: (event: RpcStreamEvent) => Promise.resolve(to().receive(event)),
 *   window: 2,
 *   cancelServed: () => {},
 *   serving: () => true,
 *   onError: () => {},
 * });
 * const caller: StreamTable = new StreamTable(parts(() => server));
 * const server: StreamTable = new StreamTable(parts(() => caller));
 * const replies = caller.replies(1, () => {});
 * async function* three() {
 *   yield "a";
 *   yield "b";
 *   yield "c";
 * }
 * const sent = server.pump(1, "server", three(), new AbortController().signal)
 *   .then(() => replies.end()); // the call's reply would end it
 * const read = [];
 * for await (const message of replies) read.push(message);
 * await sent;
 * assert.deepEqual(read, ["a", "b", "c"]);
 * ```
 */
export class StreamTable {
  readonly #parts: StreamParts;
  readonly #made = new Map<RpcId, StreamState>();
  readonly #served = new Map<RpcId, StreamState>();

  /**
   * Creates the table of one connection.
   *
   * @param parts the connection's parts
   */
  constructor(parts: StreamParts) {
    this.#parts = parts;
  }

  /** An event arrived from the other end. */
  receive(event: RpcStreamEvent): void {
    const fromCaller = event.from === "caller";
    let state = (fromCaller ? this.#served : this.#made).get(event.id);
    if (state === undefined && fromCaller && this.#parts.serving(event.id)) {
      state = this.#state(this.#served, event.id);
    }
    if (state === undefined) {
      // A late event of a call that ended (a grant crossing the reply): harmless.
      return;
    }
    if (event.cancel === true && fromCaller) {
      this.#parts.cancelServed(event.id);
      return;
    }
    if (event.credit !== undefined) state.credit.add(event.credit);
    if ("message" in event) {
      const inbound = state.inbound ?? this.#inbound(fromCaller, event.id, state);
      inbound.push(event.message);
    }
    if (event.end === true && fromCaller) {
      (state.inbound ?? this.#inbound(true, event.id, state)).end();
    }
  }

  /**
   * The caller's messages of a call this end serves, for its handler.
   *
   * @param id the call's id
   * @returns the messages, in order
   */
  input(id: RpcId): AsyncIterable<unknown> {
    const state = this.#state(this.#served, id);
    return state.inbound ?? this.#inbound(true, id, state);
  }

  /**
   * Wires a streaming call this end made: the server's messages (ended or
   * failed by the call's outcome, `result`), the caller's own sent from
   * `options.input`, and cancellation: leaving the messages' loop early, or
   * the caller's signal, aborts `controller` (the call's pending signal).
   *
   * @param id the call's id
   * @param result the call's outcome
   * @param controller aborts the call
   * @param options the caller's messages and signal
   * @returns the server's messages
   */
  open(
    id: RpcId,
    result: Promise<unknown>,
    controller: AbortController,
    options: StreamCallOptions,
  ): InboundMessages {
    const outer = options.signal;
    const onAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener("abort", onAbort, { once: true });
    const messages = this.replies(id, () => {
      controller.abort(new RpcError(ErrorCode.RequestCancelled, "Request cancelled"));
    });
    const ended = (error?: unknown) => {
      if (error === undefined) messages.end();
      else messages.fail(error);
      this.forget(id, true);
      outer?.removeEventListener("abort", onAbort);
      // The call is over: stop sending the caller's messages.
      controller.abort(error ?? new RpcError(ErrorCode.RequestCancelled, "Call ended"));
    };
    result.then(() => ended(), ended);
    if (options.input !== undefined) {
      // Nothing is sent before the server grants credit, so after the request.
      this.pump(id, "caller", options.input, controller.signal).catch((error) => {
        if (!controller.signal.aborted) controller.abort(error);
      });
    }
    return messages;
  }

  /**
   * Makes a streaming call of this end's own (what `Peer.openStream` does
   * once it has a table): through the peer's interceptors when any is
   * active, then registered with its pending calls, its stream opened and
   * its request sent. Here rather than in `Peer` so that a peer without
   * streams, a page's, does not carry it.
   *
   * @param method the method's name
   * @param params the request (`undefined` when the caller streams its requests)
   * @param options the caller's messages, timeout and abort signal
   * @param caller the peer's parts the call needs
   * @returns the server's messages and the call's reply
   */
  openCall(
    method: string,
    params: RpcParams | undefined,
    options: StreamCallOptions,
    caller: StreamCaller,
  ): RpcStream {
    const chain = activeChain(caller.interceptors);
    if (chain === undefined) return this.#openCall(method, params, options, caller);
    return openThrough(
      chain,
      method,
      params,
      options,
      (method, params, options, metadata) =>
        this.#openCall(method, params, options, caller, metadata),
    );
  }

  #openCall(
    method: string,
    params: RpcParams | undefined,
    options: StreamCallOptions,
    caller: StreamCaller,
    metadata?: Headers,
  ): RpcStream {
    caller.checkBudget();
    options.signal?.throwIfAborted();
    const controller = new AbortController();
    const { id, result } = caller.register(
      method,
      options.timeout ?? caller.timeout,
      controller.signal,
      (id) => this.cancel(id),
    );
    const messages = this.open(id, result, controller, options);
    const request = message<RpcRequest>(
      { kind: "request", id, method, stream: true },
      params,
      metadata,
    );
    caller.send(request, id);
    return { messages, result };
  }

  /**
   * A method this end serves on call `id`, its handler free to stream: the
   * messages of an async iterable it returns are sent inside the call, so
   * that interceptors see the call until the stream has ended; the call's
   * reply (null), once they are sent, ends the stream.
   *
   * @param resolved the method as its service resolved it
   * @param id the call's id
   * @returns the method, streaming what its handler returns
   */
  served(resolved: ResolvedMethod, id: RpcId): ResolvedMethod {
    return {
      ...resolved,
      invoke: (params, ctx) => {
        const pumped = (result: unknown): unknown =>
          isStream(result) ? this.pump(id, "server", result, ctx.signal).then(() => null) : result;
        const result = resolved.invoke(params, ctx);
        return result instanceof Promise ? result.then(pumped) : pumped(result);
      },
    };
  }

  /**
   * The server's messages of a call this end made.
   *
   * @param id the call's id
   * @param onReturn the reader left its loop early
   * @returns the messages, in order
   */
  replies(id: RpcId, onReturn: () => void): InboundMessages {
    const state = this.#state(this.#made, id);
    const inbound = new InboundMessages(
      this.#parts.window,
      (credit) => this.#send({ id, from: "caller", credit }),
      onReturn,
    );
    state.inbound = inbound;
    return inbound;
  }

  /**
   * Sends `source`'s messages on call `id` as the receiver grants credit.
   * Aborting `signal` stops it and returns the source's iterator, so an
   * async generator's `finally` runs.
   *
   * @param id the call's id
   * @param from which end of the call this one is
   * @param source the messages
   * @param signal stops the sending
   * @throws what the source throws, or the signal's reason
   */
  async pump(
    id: RpcId,
    from: "caller" | "server",
    source: AsyncIterable<unknown>,
    signal: AbortSignal,
  ): Promise<void> {
    const state = this.#state(from === "server" ? this.#served : this.#made, id);
    const iterator = source[Symbol.asyncIterator]();
    let done = false;
    try {
      while (true) {
        // The next message is made before its credit is there (at most one
        // ahead of the window), so a stream that ends needs none.
        const next = await abortable(iterator.next(), signal);
        if (next.done === true) {
          done = true;
          break;
        }
        await state.credit.take(signal);
        await this.#send({ id, from, message: next.value });
      }
    } finally {
      // A generator still awaiting inside finishes that step first: its
      // `finally` runs then, and this end does not wait for it.
      if (!done) iterator.return?.().catch(this.#parts.onError);
    }
    if (from === "caller") await this.#send({ id, from, end: true });
  }

  /**
   * Sends a cancellation of a call this end made (its reader learns why from
   * the call's rejection).
   */
  cancel(id: RpcId): void {
    this.#send({ id, from: "caller", cancel: true });
  }

  /**
   * Forgets a call that ended: made ones when their reply came, served ones
   * when they were answered. Messages still held stay readable.
   */
  forget(id: RpcId, made: boolean): void {
    const table = made ? this.#made : this.#served;
    table.get(id)?.inbound?.end();
    table.delete(id);
  }

  /** Fails every stream: the connection ended. */
  failAll(reason: unknown): void {
    for (const state of [...this.#made.values(), ...this.#served.values()]) {
      state.inbound?.fail(reason);
    }
    this.#made.clear();
    this.#served.clear();
  }

  #state(table: Map<RpcId, StreamState>, id: RpcId): StreamState {
    let state = table.get(id);
    if (state === undefined) {
      state = { inbound: undefined, credit: new OutboundCredit() };
      table.set(id, state);
    }
    return state;
  }

  // The server's view of the caller's messages (made lazily: a handler may
  // never read them, and then grants nothing).
  #inbound(fromCaller: boolean, id: RpcId, state: StreamState): InboundMessages {
    const inbound = new InboundMessages(
      this.#parts.window,
      (credit) => this.#send({ id, from: fromCaller ? "server" : "caller", credit }),
      () => {},
    );
    state.inbound = inbound;
    return inbound;
  }

  #send(event: RpcStreamEvent): Promise<void> {
    const sent = this.#parts.send(event);
    sent.catch(this.#parts.onError);
    return sent;
  }
}

function isStream(result: unknown): result is AsyncIterable<unknown> {
  return typeof result === "object" && result !== null && Symbol.asyncIterator in result;
}
