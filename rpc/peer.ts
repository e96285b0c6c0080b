/**
 * A peer is one end of a connection: it calls the other end and serves it,
 * over any {@linkcode MessageStream} and any {@linkcode Codec}.
 *
 * @module
 */

export type { BatchEntry, CallOptions, RpcClient } from "./client.ts";

import {
  type AnswerSettings,
  encodeReply,
  errorReply,
  invokeMethod,
  methodNotFound,
  undecodableReply,
} from "./answer.ts";
import { createDispatcher, type Dispatcher } from "./dispatch.ts";
import {
  ConnectionClosedError,
  DecodeError,
  ErrorCode,
  FrameSizeError,
  LimitError,
  ProtocolError,
  RpcError,
} from "./errors.ts";
import { resolveLimits, type RpcLimits } from "./limits.ts";
import { PendingCalls } from "./pending.ts";
import { type BatchEntry, type CallOptions, RpcClientBase } from "./client.ts";
import type { CallContext, Service } from "./service.ts";
import type {
  Codec,
  Frame,
  MessageStream,
  RpcFailure,
  RpcId,
  RpcInvalid,
  RpcMessage,
  RpcNotification,
  RpcParams,
  RpcRequest,
} from "./types.ts";

/** Options of a {@linkcode Peer}. */
export interface PeerOptions {
  /** How messages become frames. */
  readonly codec: Codec;
  /** What this end serves to the other; nothing when absent. */
  readonly service?: Service;
  /** Per-connection limits; defaults in {@linkcode DEFAULT_LIMITS}. */
  readonly limits?: Partial<RpcLimits>;
  /** Default timeout of outgoing calls in milliseconds; none when absent. */
  readonly timeout?: number;
  /** Send the message and stack of unexpected handler errors (development only). */
  readonly exposeErrors?: boolean;
  /** Milliseconds to flush queued frames when closing; 1000 by default. */
  readonly closeTimeout?: number;
  /** Closes the peer when aborted. */
  readonly signal?: AbortSignal;
  /**
   * Told about what goes wrong without failing a call: handler errors, bad
   * frames, replies to unknown ids. Defaults to nothing.
   */
  readonly onError?: (error: unknown) => void;
  /**
   * Told about the notifications that the service does not handle (Neovim's
   * events, a language server's `window/logMessage`); they are dropped
   * otherwise, and are not errors.
   */
  readonly onNotification?: (method: string, params: RpcParams | undefined) => void;
}

/** A call being handled: its handler's abort and how to answer it once. */
interface IncomingCall {
  readonly controller: AbortController;
  readonly finish: (reply: RpcMessage) => void;
}

const NO_PARAMS = undefined;
// Frames per part when a turn writes many: small enough that the other end
// starts early, large enough that a part is one socket write, not dozens.
const OUTBOX_PART = 16;

/**
 * One end of a connection: calls the other end, serves it, or both.
 *
 * @example A client and a server over an in-memory pair
 * ```ts
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service: { add: (x: number, y: number) => x + y } });
 * const client = new Peer(b, { codec: jsonRpc() });
 * console.assert(await client.call("add", [1, 2]) === 3);
 * await client.close();
 * await server.closed;
 * ```
 */
export class Peer extends RpcClientBase {
  readonly #stream: MessageStream;
  readonly #codec: Codec;
  readonly #dispatch: Dispatcher | undefined;
  readonly #limits: RpcLimits;
  readonly #timeout: number | undefined;
  readonly #answering: AnswerSettings;
  readonly #closeTimeout: number;
  readonly #onError: (error: unknown) => void;
  readonly #onNotification: PeerOptions["onNotification"];
  readonly #writer: WritableStreamDefaultWriter<Frame | readonly Frame[]>;
  // Frames written in the same turn leave together, as one chunk.
  #outbox: Frame[] = [];
  #flushing: Promise<void> | undefined;
  // Bytes handed to #write and not yet written (UTF-16 units for text).
  #queuedBytes = 0;
  #drained: PromiseWithResolvers<void> | undefined;
  readonly #pending: PendingCalls;
  // Calls being handled, by id: cancelling one aborts its handler and answers it.
  readonly #incoming = new Map<RpcId, IncomingCall>();
  readonly #closed = Promise.withResolvers<void>();
  #inFlight = 0;
  #idle: PromiseWithResolvers<void> | undefined;
  #draining = false;
  #closing = false;
  #peerError: RpcError | undefined;

  /**
   * Starts reading `stream` at once.
   *
   * @param stream the connection
   * @param options the codec, the service and the limits
   */
  constructor(stream: MessageStream, options: PeerOptions) {
    super();
    this.#stream = stream;
    // A codec with per-connection state gives this connection its own instance.
    this.#codec = options.codec.fork?.() ?? options.codec;
    this.#dispatch = options.service === undefined ? undefined : createDispatcher(options.service);
    this.#limits = resolveLimits(options.limits);
    this.#timeout = options.timeout;
    this.#closeTimeout = options.closeTimeout ?? 1000;
    this.#onError = options.onError ?? (() => {});
    this.#onNotification = options.onNotification;
    this.#answering = { expose: options.exposeErrors ?? false, onError: this.#onError };
    this.#pending = new PendingCalls(this.#limits.maxPending);
    this.#writer = stream.writable.getWriter();
    this.#writer.closed.catch((error) => this.#shutdown(error));
    if (options.signal !== undefined) {
      const signal = options.signal;
      if (signal.aborted) queueMicrotask(() => this.close(signal.reason));
      else signal.addEventListener("abort", () => this.close(signal.reason), { once: true });
    }
    this.#readLoop();
  }

  /** Resolves when the connection has ended and everything is released. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** Whether the connection has ended or is ending. */
  get isClosed(): boolean {
    return this.#closing;
  }

  /** The number of incoming calls being handled now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The number of outgoing calls awaiting a reply. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The remote end, as the transport describes it. */
  get remote(): string | undefined {
    return this.#stream.remote;
  }

  /**
   * Calls a method of the other end.
   *
   * @typeParam T the result's type
   * @param method the method's name
   * @param params positional (array) or named (object) params
   * @param options timeout and abort signal
   * @returns the result
   * @throws {RpcError} the other end's error reply
   * @throws {TimeoutError} when no reply came in time
   * @throws {ConnectionClosedError} when the connection ends first
   */
  call<T = unknown>(method: string, params?: RpcParams, options?: CallOptions): Promise<T> {
    if (this.#closing) return Promise.reject(this.#closedError());
    let registered;
    try {
      this.#checkQueue();
      registered = this.#register(method, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const request: RpcRequest = params === NO_PARAMS
      ? { kind: "request", id: registered.id, method }
      : { kind: "request", id: registered.id, method, params };
    this.#sendOwn(request, registered.id);
    return registered.result as Promise<T>;
  }

  /**
   * Sends a notification: a call that expects no reply.
   *
   * @param method the method's name
   * @param params positional (array) or named (object) params
   * @returns when the notification was handed to the transport
   * @throws {ConnectionClosedError} when the connection has ended
   */
  notify(method: string, params?: RpcParams): Promise<void> {
    if (this.#closing) return Promise.reject(this.#closedError());
    const message: RpcNotification = params === NO_PARAMS
      ? { kind: "notification", method }
      : { kind: "notification", method, params };
    try {
      this.#checkQueue();
      return this.#write(this.#codec.encode(message));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends several calls and notifications in one frame where the codec has
   * batches (one frame each otherwise) and waits for every outcome.
   *
   * @param entries the calls, in order
   * @param options timeout and abort signal, for every call of the batch
   * @returns each entry's outcome, in order (`undefined` for notifications)
   */
  async batch(
    entries: readonly BatchEntry[],
    options?: CallOptions,
  ): Promise<PromiseSettledResult<unknown>[]> {
    if (this.#closing) throw this.#closedError();
    this.#checkQueue();
    if (!this.#codec.features.batch) {
      return Promise.allSettled(
        entries.map((e) =>
          e.notification ? this.notify(e.method, e.params) : this.call(e.method, e.params, options)
        ),
      );
    }
    const messages: RpcMessage[] = [];
    const results: Promise<unknown>[] = [];
    const ids: RpcId[] = [];
    try {
      for (const entry of entries) {
        if (entry.notification) {
          messages.push(
            entry.params === NO_PARAMS
              ? { kind: "notification", method: entry.method }
              : { kind: "notification", method: entry.method, params: entry.params },
          );
          results.push(Promise.resolve(undefined));
          continue;
        }
        const { id, result } = this.#register(entry.method, options);
        ids.push(id);
        results.push(result);
        messages.push(
          entry.params === NO_PARAMS
            ? { kind: "request", id, method: entry.method }
            : { kind: "request", id, method: entry.method, params: entry.params },
        );
      }
      await this.#write(this.#codec.encode(messages));
    } catch (error) {
      for (const id of ids) this.#pending.settle(id)?.reject(error);
    }
    return Promise.allSettled(results);
  }

  /**
   * Stops taking new calls (they are answered with a "shutting down" error),
   * waits for the calls in flight to finish, then closes.
   *
   * @returns when the connection has closed
   */
  async drain(): Promise<void> {
    this.#draining = true;
    if (this.#inFlight > 0) {
      this.#idle ??= Promise.withResolvers();
      await this.#idle.promise;
    }
    await this.close();
  }

  /**
   * Closes the connection: pending calls are rejected with a
   * `ConnectionClosedError`, handlers in flight see their signal abort.
   *
   * @param reason why, given as the `cause` of the pending calls' errors
   * @returns when everything is released
   */
  async close(reason?: unknown): Promise<void> {
    this.#shutdown(reason);
    await this.#closed.promise;
  }

  #register(method: string, options: CallOptions | undefined) {
    const timeout = options?.timeout ?? this.#timeout;
    const signal = options?.signal;
    if (signal?.aborted) throw signal.reason;
    return this.#pending.add(method, { timeout, signal, onCancel: this.#sendCancel });
  }

  readonly #sendCancel = (id: RpcId): void => {
    if (this.#closing || this.#codec.cancelNotification === undefined) return;
    this.#write(this.#codec.encode(this.#codec.cancelNotification(id)));
  };

  // Sends a message of our own; an encoding failure fails that call only.
  #sendOwn(message: RpcRequest, id: RpcId): void {
    let frame: Frame;
    try {
      frame = this.#codec.encode(message);
    } catch (error) {
      this.#pending.settle(id)?.reject(error);
      return;
    }
    // A failed write breaks the connection: #writeFailed rejects every call.
    this.#write(frame);
  }

  // Queues a frame; the frames queued in one turn (the replies to a batch
  // of frames read together, the calls of many callers) are handed to the
  // stream as one chunk, which becomes one socket write.
  #write(frame: Frame): Promise<void> {
    this.#queuedBytes += frame.length;
    const queued = this.#outbox.push(frame);
    if (queued === 1) {
      const flushing = Promise.resolve().then(() => this.#flush());
      flushing.catch(this.#writeFailed);
      this.#flushing = flushing;
    } else if (queued >= OUTBOX_PART) {
      // A long batch leaves in parts, so that the other end can start on the
      // first part while this end is still producing the rest.
      this.#flush().catch(this.#writeFailed);
    }
    return this.#flushing!;
  }

  // Handled once per write rather than once per frame: a stream that fails a
  // write is broken, and closing the peer rejects every pending call.
  readonly #writeFailed = (error: unknown): void => {
    this.#onError(error);
    this.#shutdown(error);
  };

  #flush(): Promise<void> {
    if (this.#outbox.length === 0) return Promise.resolve();
    const frames = this.#outbox;
    this.#outbox = [];
    const chunk = frames.length === 1 ? frames[0]! : frames;
    let bytes = 0;
    for (const frame of frames) bytes += frame.length;
    const writer = this.#writer;
    const size = writer.desiredSize;
    const written = size !== null && size <= 0
      ? writer.ready.then(() => writer.write(chunk))
      : writer.write(chunk);
    const done = () => {
      this.#queuedBytes -= bytes;
      if (this.#queuedBytes <= this.#limits.maxQueuedBytes) this.#resumeReading();
    };
    written.then(done, done);
    return written;
  }

  #resumeReading(): void {
    this.#drained?.resolve();
    this.#drained = undefined;
  }

  // Refuses new outgoing messages while a slow reader has too much queued.
  #checkQueue(): void {
    if (this.#queuedBytes > this.#limits.maxQueuedBytes) {
      throw new LimitError(
        "maxQueuedBytes",
        this.#limits.maxQueuedBytes,
        `${this.#queuedBytes} bytes are waiting to be written to a peer that reads slowly`,
      );
    }
  }

  async #readLoop(): Promise<void> {
    let reason: unknown;
    try {
      for await (const chunk of this.#stream.readable) {
        // A peer that does not read its replies gets no more served until it does.
        if (this.#queuedBytes > this.#limits.maxQueuedBytes && !this.#closing) {
          this.#drained ??= Promise.withResolvers();
          await this.#drained.promise;
        }
        if (typeof chunk === "string" || chunk instanceof Uint8Array) {
          if (this.#closing) break;
          this.#receive(chunk);
          continue;
        }
        for (const frame of chunk) {
          if (this.#closing) break;
          this.#receive(frame);
        }
      }
    } catch (error) {
      reason = error;
      this.#onError(error);
      await this.#reportFatal(error);
    }
    this.#shutdown(reason ?? this.#peerError);
  }

  // A framing error ends the connection; tell the other end why first.
  async #reportFatal(error: unknown): Promise<void> {
    if (this.#closing || !this.#codec.features.replyToParseError) return;
    const code = error instanceof FrameSizeError ? ErrorCode.InvalidRequest : ErrorCode.ParseError;
    if (!(error instanceof FrameSizeError || error instanceof DecodeError)) return;
    try {
      await this.#write(
        this.#codec.encode({ kind: "error", id: null, error: { code, message: error.message } }),
      );
    } catch {
      // The other end is gone already; nothing more to tell it.
    }
  }

  #receive(frame: Frame): void {
    let decoded;
    try {
      decoded = this.#codec.decode(frame);
    } catch (error) {
      this.#onError(error);
      if (!this.#codec.features.replyToParseError) {
        this.#shutdown(error);
        return;
      }
      this.#reply(undecodableReply(error));
      return;
    }
    if (decoded.kind !== "batch") {
      this.#handle(decoded, this.#respond);
      return;
    }
    // A batch is answered with one frame once every member has its reply.
    const replies: RpcMessage[] = [];
    let waiting = decoded.messages.length;
    const collect = (reply: RpcMessage | undefined): void => {
      if (reply !== undefined) replies.push(reply);
      if (--waiting === 0 && replies.length > 0) this.#reply(replies);
    };
    for (const message of decoded.messages) this.#handle(message, collect);
  }

  readonly #respond = (reply: RpcMessage | undefined): void => {
    if (reply !== undefined) this.#reply(reply);
  };

  #reply(message: RpcMessage | RpcMessage[]): void {
    if (this.#closing) return;
    let frame: Frame;
    try {
      frame = encodeReply(this.#codec, message, this.#answering);
    } catch (error) {
      // Not even an error under id null encodes: a reply that cannot be
      // given ends this connection (its callers learn it), never the process.
      this.#onError(error);
      this.#shutdown(error);
      return;
    }
    this.#write(frame);
  }

  // Handles one message; `respond` is called exactly once, with the reply
  // to send or `undefined` when there is none.
  #handle(
    message: RpcMessage | RpcInvalid,
    respond: (reply: RpcMessage | undefined) => void,
  ): void {
    switch (message.kind) {
      case "request":
        this.#serve(message.id, message.method, message.params, respond);
        return;
      case "notification":
        this.#notification(message);
        break;
      case "result":
        this.#settle(message.id)?.resolve(message.result);
        break;
      case "error":
        this.#failure(message);
        break;
      case "invalid":
        this.#onError(new ProtocolError(`Invalid message: ${message.error.message}`));
        if (message.inReplyTo !== undefined) {
          this.#settle(message.inReplyTo)?.reject(
            new ProtocolError(`The peer sent a malformed reply: ${message.error.message}`),
          );
        }
        if (message.id !== undefined) {
          respond({ kind: "error", id: message.id, error: message.error });
          return;
        }
    }
    respond(undefined);
  }

  #settle(id: RpcId) {
    const call = this.#pending.settle(id);
    if (call === undefined) {
      this.#onError(new ProtocolError(`Reply to unknown call id ${JSON.stringify(id)}`));
    }
    return call;
  }

  #failure(message: RpcFailure): void {
    const error = RpcError.from(message.error);
    if (message.id === null) {
      // Not about any one call: remember it as the likely cause of what follows.
      this.#peerError = error;
      this.#onError(error);
    } else {
      this.#settle(message.id)?.reject(error);
    }
  }

  #notification(message: RpcNotification): void {
    const cancelled = this.#codec.readCancellation?.(message);
    if (cancelled !== undefined) {
      this.#cancel(cancelled);
      return;
    }
    if (this.#dispatch?.(message.method) === undefined) {
      this.#onNotification?.(message.method, message.params);
      return;
    }
    this.#serve(undefined, message.method, message.params, this.#reportFailure);
  }

  // A cancelled call is answered at once (the Language Server Protocol asks
  // for a reply to every request, cancelled ones included) and leaves its
  // in-flight slot, whether or not its handler ever settles; what the
  // handler returns later is dropped.
  #cancel(id: RpcId): void {
    const call = this.#incoming.get(id);
    if (call === undefined) return;
    const error = new RpcError(ErrorCode.RequestCancelled, "Request cancelled");
    call.controller.abort(error);
    call.finish({ kind: "error", id, error: error.toObject() });
  }

  // A notification's outcome has nowhere to go but the error hook.
  readonly #reportFailure = (reply: RpcMessage | undefined): void => {
    if (reply?.kind === "error") this.#onError(RpcError.from(reply.error));
  };

  // Runs a handler; `respond` gets its reply. The call counts as in flight
  // until its reply has been handed to the writer, so drain() cannot close
  // the connection between a handler's return and its reply.
  #serve(
    id: RpcId | undefined,
    method: string,
    params: RpcParams | undefined,
    respond: (reply: RpcMessage) => void,
  ): void {
    const replyId = id ?? null;
    if (this.#draining) {
      return respond(errorReply(replyId, ErrorCode.ServerBusy, "Server is shutting down"));
    }
    if (this.#inFlight >= this.#limits.maxInFlight) {
      return respond(
        errorReply(
          replyId,
          ErrorCode.ServerBusy,
          `Too many calls in flight (limit ${this.#limits.maxInFlight})`,
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
      if (id !== undefined && this.#incoming.get(id)?.controller === controller) {
        this.#incoming.delete(id);
      }
      respond(reply);
      if (--this.#inFlight === 0) this.#idle?.resolve();
    };
    if (id !== undefined) this.#incoming.set(id, { controller, finish });
    const ctx: CallContext = { id, method, signal: controller.signal };
    const reply = invokeMethod(resolved, ctx, params, this.#answering);
    if (reply instanceof Promise) reply.then(finish);
    else finish(reply);
  }

  #closedError(): ConnectionClosedError {
    return new ConnectionClosedError(
      "Connection closed",
      this.#peerError === undefined ? undefined : { cause: this.#peerError },
    );
  }

  #shutdown(reason: unknown): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#resumeReading();
    const error = new ConnectionClosedError(
      "Connection closed",
      reason === undefined ? undefined : { cause: reason },
    );
    this.#pending.rejectAll(error);
    for (const call of this.#incoming.values()) call.controller.abort(error);
    this.#incoming.clear();
    this.#idle?.resolve();
    (async () => {
      // Flush what is queued, but do not wait forever on a peer that stopped
      // reading: closing the stream below ends the pending writes too.
      await this.#flushing?.catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#writer.close().catch(() => {}),
        new Promise<void>((resolve) => timer = setTimeout(resolve, this.#closeTimeout)),
      ]);
      clearTimeout(timer);
      try {
        await this.#stream.close(reason);
      } catch (error) {
        this.#onError(error);
      }
    })().finally(() => this.#closed.resolve());
  }
}
