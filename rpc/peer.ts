/**
 * A peer is one end of a connection: it calls the other end and serves it,
 * over any {@linkcode MessageStream} and any {@linkcode Codec}.
 *
 * @module
 */

import type { AnswerSettings } from "./answer.ts";
import { ConnectionClosedError } from "./errors.ts";
import { directFramesOf, directWritesOf } from "./_direct.ts";
import { activeChain, installed, type Interceptor } from "./interceptors.ts";
import { notifyThrough, type SendCall, sendThrough } from "./interceptors_client.ts";
import { resolveLimits } from "./limits.ts";
import { PendingCalls, type PendingOptions } from "./pending.ts";
import { type BatchEntry, type CallOptions, RpcClientBase } from "./client.ts";
import { type BatchItem, interceptBatch } from "./peer/_intercepted.ts";
import { message, request, sendBatch } from "./peer/_batch.ts";
import { Inbox } from "./peer/_inbox.ts";
import { IncomingCalls } from "./peer/_incoming.ts";
import type { PeerOptions } from "./peer/options.ts";
import { Outbox } from "./peer/_outbox.ts";
import { closeStream } from "./peer/_closing.ts";
import type { StreamTable } from "./peer/_streams.ts";
import { streamTable } from "./peer/_stream_setup.ts";
import type {
  Codec,
  Frame,
  MessageStream,
  RpcId,
  RpcNotification,
  RpcParams,
  RpcRequest,
  RpcStream,
  StreamCallOptions,
} from "./types.ts";

export type { PeerOptions } from "./peer/options.ts";

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
  readonly #timeout: number | undefined;
  readonly #answering: AnswerSettings;
  readonly #closeTimeout: number;
  readonly #onError: (error: unknown) => void;
  readonly #interceptors: readonly Interceptor[] | undefined;
  // What ends the writing side: the stream's batch writer, or its writer.
  readonly #writer: { close(): Promise<void> };
  readonly #outbox: Outbox;
  readonly #pending: PendingCalls;
  readonly #incoming: IncomingCalls;
  readonly #inbox: Inbox;
  readonly #streams: StreamTable | undefined;
  readonly #closed = Promise.withResolvers<void>();
  #closing = false;

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
    this.#codec = options.codec.fork?.({ streams: options.streams !== undefined }) ?? options.codec;
    const limits = resolveLimits(options.limits);
    this.#timeout = options.timeout;
    // #sendCancel, a field, is set by now (fields are, once super() returns).
    this.#callDefaults = { timeout: options.timeout, onCancel: this.#sendCancel };
    this.#closeTimeout = options.closeTimeout ?? 1000;
    this.#onError = options.onError ?? (() => {});
    this.#interceptors = installed(options.interceptors);
    this.#answering = {
      expose: options.exposeErrors ?? false,
      onError: this.#onError,
      interceptors: this.#interceptors,
      connection: options.connection,
    };
    this.#pending = new PendingCalls(limits.maxPending);
    // A stream that offers a batch writer is written without its writable
    // (which it then need not make); its failures reach #writeFailed.
    const direct = directWritesOf(stream);
    const writer = direct === undefined ? stream.writable.getWriter() : undefined;
    this.#writer = direct ?? writer!;
    this.#outbox = new Outbox(writer, limits.maxQueuedBytes, this.#writeFailed, direct);
    this.#streams = streamTable(this.#codec, options, this.#outbox, () => this.#incoming);
    this.#incoming = new IncomingCalls(
      options.service,
      limits.maxInFlight,
      this.#answering,
      this.#streams,
      options.metadata,
    );
    writer?.closed.catch((error) => this.#shutdown(error));
    if (options.signal !== undefined) {
      const signal = options.signal;
      if (signal.aborted) queueMicrotask(() => this.close(signal.reason));
      else signal.addEventListener("abort", () => this.close(signal.reason), { once: true });
    }
    this.#inbox = new Inbox({
      codec: this.#codec,
      answering: this.#answering,
      outbox: this.#outbox,
      pending: this.#pending,
      incoming: this.#incoming,
      onNotification: options.onNotification,
      streams: this.#streams,
      end: this.#end,
    });
    const frames = directFramesOf(stream);
    if (frames !== undefined) this.#inbox.readBatches(frames, this.#end);
    else this.#inbox.read(stream.readable).then(this.#end);
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
    return this.#incoming.inFlight;
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
    return sendThrough(this.#interceptors, method, params, options, this.#send) as Promise<T>;
  }

  // How a call and a notification are sent, made once rather than per call.
  readonly #send: SendCall = (method, params, options, metadata) =>
    this.#call(method, params, options, metadata);
  readonly #sendNotification = (
    method: string,
    params: RpcParams | undefined,
    metadata?: Headers,
  ): Promise<void> => this.#notify(method, params, metadata);

  #call<T>(
    method: string,
    params: RpcParams | undefined,
    options?: CallOptions,
    metadata?: Headers,
  ): Promise<T> {
    if (this.#closing) return Promise.reject(this.#closedError());
    let registered;
    try {
      this.#outbox.checkBudget();
      registered = this.#register(method, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const id = registered.id;
    this.#sendOwn(request(id, method, params, options, metadata), id);
    return registered.result as Promise<T>;
  }

  /**
   * Makes a streaming call, for codecs that carry streams (the protobuf
   * envelope): the server's messages arrive as `messages`, the caller's go
   * out from `options.input`, each way as the receiver grants credit.
   *
   * @param method the method's name
   * @param params the request (`undefined` when the caller streams its requests)
   * @param options the caller's messages, timeout and abort signal
   * @returns the server's messages and the call's reply
   * @throws {TypeError} when the codec carries no streams
   * @throws {ConnectionClosedError} when the connection has ended
   * @see {@linkcode peerStreams} for examples
   */
  openStream(method: string, params?: RpcParams, options: StreamCallOptions = {}): RpcStream {
    const streams = this.#streams;
    if (streams === undefined) {
      throw new TypeError(
        `No streaming calls here (${method}): the codec must carry them (${this.#codec.name}?) and the peer be given \`streams: peerStreams\``,
      );
    }
    if (this.#closing) throw this.#closedError();
    return streams.openCall(method, params, options, {
      interceptors: this.#interceptors,
      register: (method, timeout, signal, onCancel) =>
        this.#pending.add(method, { timeout, signal, onCancel }),
      timeout: this.#timeout,
      checkBudget: () => this.#outbox.checkBudget(),
      send: (request, id) => this.#sendOwn(request, id),
    });
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
    return notifyThrough(this.#interceptors, method, params, this.#sendNotification);
  }

  #notify(method: string, params: RpcParams | undefined, metadata?: Headers): Promise<void> {
    if (this.#closing) return Promise.reject(this.#closedError());
    const notification = message<RpcNotification>(
      { kind: "notification", method },
      params,
      metadata,
    );
    try {
      this.#outbox.checkBudget();
      return this.#outbox.write(this.#codec.encode(notification));
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
  batch(
    entries: readonly BatchEntry[],
    options?: CallOptions,
  ): Promise<PromiseSettledResult<unknown>[]> {
    if (this.#closing) return Promise.reject(this.#closedError());
    try {
      this.#outbox.checkBudget();
    } catch (error) {
      return Promise.reject(error);
    }
    const chain = activeChain(this.#interceptors);
    if (chain === undefined) {
      return Promise.allSettled(this.#sendBatch(entries.map((e) => ({ ...e, options }))));
    }
    // Each entry goes through the chain as a call of its own; those that reach
    // its end still travel in one frame.
    return interceptBatch(chain, entries, options, (items) => this.#sendBatch(items));
  }

  #sendBatch(items: readonly BatchItem[]): Promise<unknown>[] {
    if (this.#closing) return items.map(() => Promise.reject(this.#closedError()));
    return sendBatch(items, {
      codec: this.#codec,
      call: (e) => this.#call(e.method, e.params, e.options, e.metadata),
      notify: (e) => this.#notify(e.method, e.params, e.metadata),
      register: (method, options) => this.#register(method, options),
      write: (frame) => this.#outbox.write(frame),
      fail: (id, error) => this.#pending.settle(id)?.reject(error),
    });
  }

  /**
   * Stops taking new calls (they are answered with a "shutting down" error),
   * waits for the calls in flight to finish, then closes.
   *
   * @returns when the connection has closed
   */
  async drain(): Promise<void> {
    await this.#incoming.drain();
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
    if (options === undefined) return this.#pending.add(method, this.#callDefaults);
    const timeout = options.timeout ?? this.#timeout;
    const signal = options.signal;
    if (signal?.aborted) throw signal.reason;
    return this.#pending.add(method, { timeout, signal, onCancel: this.#sendCancel });
  }

  // A call without options registers with these, made once.
  readonly #callDefaults: PendingOptions;

  // Ends the connection: reading ended, or a frame cannot be read or answered.
  readonly #end = (reason: unknown): void => this.#shutdown(reason);

  readonly #sendCancel = (id: RpcId): void => {
    if (this.#closing || this.#codec.cancelNotification === undefined) return;
    this.#outbox.write(this.#codec.encode(this.#codec.cancelNotification(id)));
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
    this.#outbox.write(frame);
  }

  // Handled once per write rather than once per frame: a stream that fails a
  // write is broken, and closing the peer rejects every pending call.
  readonly #writeFailed = (error: unknown): void => {
    this.#onError(error);
    this.#shutdown(error);
  };

  // The error of a call made once closed: the peer's error, if any, as its cause.
  #closedError(): ConnectionClosedError {
    return ConnectionClosedError.closed(this.#inbox.peerError);
  }

  #shutdown(reason: unknown): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#inbox.stop();
    this.#outbox.release();
    const error = ConnectionClosedError.closed(reason);
    this.#pending.rejectAll(error);
    this.#streams?.failAll(error);
    this.#incoming.abortAll(error);
    closeStream(this.#outbox, this.#writer, this.#stream, {
      closeTimeout: this.#closeTimeout,
      reason,
      onError: this.#onError,
    }).finally(() => this.#closed.resolve());
  }
}
