/**
 * The NATS client: calls a service's workers by request/reply on its
 * subject, with a deadline on every call and retries of idempotent methods;
 * a notification is a plain publish.
 *
 * @module
 */

import { type BatchEntry, type CallOptions, RpcClientBase } from "../../client.ts";
import {
  ConnectionClosedError,
  ErrorCode,
  FrameSizeError,
  RpcError,
  TimeoutError,
} from "../../errors.ts";
import { installed, type Interceptor } from "../../interceptors.ts";
import { notifyThrough, optionsMetadata, sendThrough } from "../../interceptors_client.ts";
import { resolveLimits, type RpcLimits } from "../../limits.ts";
import { backoffDelay, isIdempotent, type RetryPolicy, sleep } from "../../retry.ts";
import type { Codec, Frame, RpcId, RpcParams } from "../../types.ts";
import { type NatsConnectionLike, NoRespondersError, utf8 } from "./_wire.ts";
import { Replies, type ReplyOutcome } from "./_replies.ts";
import { callHeaders } from "./_headers.ts";

/** Options of {@linkcode natsClient}. */
export interface NatsClientOptions {
  /** The connection to NATS. */
  readonly connection: NatsConnectionLike;
  /** The service's subject. */
  readonly subject: string;
  /** How calls become frames. */
  readonly codec: Codec;
  /** Milliseconds before a call gives up (its deadline); 30 s by default. */
  readonly timeout?: number;
  /**
   * The retry policy every retrying client takes: its `idempotent` methods
   * are tried again, up to `maxCallAttempts` times in all, on another worker
   * when a worker does not answer in its share of the deadline (it died,
   * say), when nobody serves the subject yet, or when a worker answers
   * `ServerBusy` (then after the policy's backoff).
   */
  readonly retry?: RetryPolicy;
  /** `retry.idempotent`, by its older name; `retry` wins where both say. */
  readonly idempotent?: readonly string[] | ((method: string) => boolean);
  /** `retry.maxCallAttempts`, by its older name; 3 by default. */
  readonly attempts?: number;
  /** Limits; a reply over `maxFrameSize` is refused undecoded. */
  readonly limits?: Partial<RpcLimits>;
  /**
   * Run around every call and notification, the first outermost; the
   * metadata they leave (and a call's `headers`) travels as NATS headers.
   */
  readonly interceptors?: readonly Interceptor[];
}

/**
 * Per-call options of a {@linkcode NatsClient}: every client's
 * {@linkcode CallOptions}. Aborting a call gives up on its reply at once; a
 * call already sent still reaches a worker (NATS has no way to take it back).
 */
export type NatsCallOptions = CallOptions;

/**
 * A client of a service on NATS, made by {@linkcode natsClient}: the
 * {@linkcode RpcClient} contract over request/reply, every reply on one
 * subscription of the client's. Closing it fails the
 * calls waiting for a reply and refuses new ones; the NATS connection is the
 * caller's, and stays open.
 *
 * @example A client over a connection that answers every request itself
 * ```ts
 * import assert from "node:assert/strict";
 * import { NatsClient } from "./client.ts";
 * import type { NatsConnectionLike, NatsMessage } from "./_wire.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * const reply = new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"result":3}');
 * let answer = (_: null, _msg: NatsMessage) => {};
 * const connection = {
 *   // The client's one subscription for its replies.
 *   subscribe: (_: string, options: { callback: typeof answer }) => {
 *     answer = options.callback;
 *     return { unsubscribe() {} };
 *   },
 *   publish: (_: string, _payload: Uint8Array, options: { reply: string }) =>
 *     queueMicrotask(() => answer(null, { subject: options.reply, data: reply } as NatsMessage)),
 * } as unknown as NatsConnectionLike;
 * await using client = new NatsClient({ connection, subject: "calculator", codec: jsonRpc() });
 * assert.equal(await client.call("add", [1, 2]), 3);
 * assert.equal(await client.proxy<{ add(a: number, b: number): number }>().add(1, 2), 3);
 * ```
 */
export class NatsClient extends RpcClientBase {
  readonly #options: NatsClientOptions;
  readonly #timeout: number;
  readonly #attempts: number;
  readonly #maxFrameSize: number;
  readonly #policy: RetryPolicy;
  readonly #interceptors: readonly Interceptor[] | undefined;
  // Aborted by close(): the signal of every call that brought none of its own.
  readonly #closer = new AbortController();
  #pending = 0;
  readonly #closed = Promise.withResolvers<void>();
  #closing = false;
  #nextId = 1;
  #replies: Replies;

  /**
   * Creates the client; nothing is sent until the first call.
   *
   * @param options the connection, the subject, the codec, deadlines, retries
   */
  constructor(options: NatsClientOptions) {
    super();
    this.#options = options;
    this.#timeout = options.timeout ?? 30_000;
    this.#policy = {
      ...(options.idempotent === undefined ? {} : { idempotent: options.idempotent }),
      ...(options.attempts === undefined ? {} : { maxCallAttempts: options.attempts }),
      ...options.retry,
    };
    this.#attempts = Math.max(1, this.#policy.maxCallAttempts ?? 3);
    this.#maxFrameSize = resolveLimits(options.limits).maxFrameSize;
    this.#interceptors = installed(options.interceptors);
    this.#replies = new Replies(options.connection);
  }

  /** Calls awaiting their reply. */
  get pending(): number {
    return this.#pending;
  }

  /** Resolves when the client has closed. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * Calls a method: request/reply through NATS to one worker.
   *
   * @param method the method's name
   * @param params positional (array) or named (object) params
   * @param options timeout (the call's deadline), abort signal, `idempotent` (over the policy)
   * @returns the result
   * @throws {RpcError} the worker's error
   * @throws {TimeoutError} when no answer came before the deadline
   * @throws {NoRespondersError} when no worker serves the subject
   * @throws {FrameSizeError} when the reply is over `limits.maxFrameSize`
   * @throws {ConnectionClosedError} when the client was closed
   */
  call<T = unknown>(method: string, params?: RpcParams, options?: CallOptions): Promise<T> {
    return sendThrough(
      this.#interceptors,
      method,
      params,
      options,
      (method, params, options, metadata) => this.#callWith(method, params, options, metadata),
    ) as Promise<T>;
  }

  // Not async: one async step per call (#call's) is enough.
  #callWith<T>(
    method: string,
    params: RpcParams | undefined,
    options: CallOptions | undefined,
    metadata = optionsMetadata(options),
  ): Promise<T> {
    if (this.#closing) return Promise.reject(new ConnectionClosedError("Connection closed"));
    const own = options?.signal;
    if (own?.aborted) return Promise.reject(own.reason);
    // No controller per call: close() ends the replies waiting itself, so
    // only a call with a signal of its own needs one joined to the client's.
    const signal = own === undefined ? undefined : AbortSignal.any([own, this.#closer.signal]);
    const tries = isIdempotent(this.#policy, method, options) ? this.#attempts : 1;
    return this.#call<T>(method, params, options?.timeout, signal, tries, metadata);
  }

  async #call<T>(
    method: string,
    params: RpcParams | undefined,
    timeout: number | undefined,
    signal: AbortSignal | undefined,
    tries: number,
    metadata: Headers | undefined,
  ): Promise<T> {
    this.#pending++;
    try {
      const codec = this.#options.codec.fork?.() ?? this.#options.codec;
      const id: RpcId = this.#nextId++;
      // Text as it is: the connection writes it (parley's own writes it
      // straight into its buffer, cheaper than a TextEncoder's new array).
      const frame = codec.encode(
        params === undefined
          ? { kind: "request", id, method }
          : { kind: "request", id, method, params },
      );
      const limit = timeout ?? this.#timeout;
      const deadline = Date.now() + limit;
      let last: unknown;
      for (let attempt = 1; attempt <= tries; attempt++) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        // Each try gets its share of what is left: a dead worker costs one share.
        const wait = left / (tries - attempt + 1);
        const reply = await this.#exchange(frame, deadline, wait, signal, metadata);
        if (reply.kind !== "reply") {
          last = reply.kind === "timeout"
            ? new TimeoutError(method, limit)
            : new NoRespondersError(this.#options.subject);
          if (attempt < tries) this.#policy.onRetry?.({ method, attempt, error: last, delay: 0 });
          continue;
        }
        try {
          if (reply.data.length > this.#maxFrameSize) {
            throw new FrameSizeError(reply.data.length, this.#maxFrameSize);
          }
          let data: Frame = reply.data;
          if (codec.text === true) {
            data = reply.msg.text === undefined ? utf8.decode(reply.data) : reply.msg.text();
          }
          const decoded = codec.decode(data);
          if (decoded.kind === "result") return decoded.result as T;
          if (decoded.kind === "error") throw RpcError.from(decoded.error);
          throw new RpcError(-32603, `An unexpected ${decoded.kind} reply from a worker`);
        } catch (error) {
          if (signal?.aborted || !(error instanceof RpcError)) throw error;
          // A busy worker did not run the call: an idempotent one waits its backoff and tries again.
          const delay = backoffDelay(this.#policy, attempt - 1);
          if (
            error.code !== ErrorCode.ServerBusy || attempt >= tries ||
            Date.now() + delay >= deadline
          ) throw error;
          this.#policy.onRetry?.({ method, attempt, error, delay });
          await sleep(delay, signal ?? this.#closer.signal);
          last = error;
        }
      }
      throw last ?? new TimeoutError(method, limit);
    } finally {
      this.#pending--;
    }
  }

  // Not async: a call without a signal of its own takes the request's
  // promise as it is (an async step per call costs more than the rest here).
  #exchange(
    frame: Frame,
    deadline: number,
    wait: number,
    signal: AbortSignal | undefined,
    metadata: Headers | undefined,
  ): Promise<ReplyOutcome> {
    const request = this.#replies.request(
      this.#options.subject,
      frame,
      callHeaders(deadline, metadata),
      wait,
    );
    return signal === undefined ? request : this.#abortable(request, signal);
  }

  async #abortable(request: Promise<ReplyOutcome>, signal: AbortSignal): Promise<ReplyOutcome> {
    // Aborting gives up on the reply at once (the worker may still run the call).
    signal.throwIfAborted();
    const { promise: aborted, reject } = Promise.withResolvers<never>();
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await Promise.race([request, aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
      request.catch(() => {});
    }
  }

  /**
   * Sends a notification: a publish, taken by one worker.
   *
   * @param method the method's name
   * @param params positional (array) or named (object) params
   * @returns when it was handed to the NATS connection
   * @throws {ConnectionClosedError} when the client was closed
   */
  notify(method: string, params?: RpcParams): Promise<void> {
    return notifyThrough(
      this.#interceptors,
      method,
      params,
      (method, params, metadata) => this.#notify(method, params, metadata),
    );
  }

  #notify(method: string, params: RpcParams | undefined, metadata: Headers | undefined) {
    if (this.#closing) return Promise.reject(new ConnectionClosedError("Connection closed"));
    const codec = this.#options.codec.fork?.() ?? this.#options.codec;
    const frame = codec.encode({
      kind: "notification",
      method,
      ...(params === undefined ? {} : { params }),
    });
    const headers = callHeaders(Date.now() + this.#timeout, metadata);
    this.#options.connection.publish(this.#options.subject, frame, { headers });
    return Promise.resolve();
  }

  /**
   * Sends several calls and notifications and waits for every outcome. Each
   * is a message of its own: NATS hands each message to one worker, and a
   * batch in one message would run on one worker only.
   *
   * @param entries the calls, in order
   * @param options timeout and abort signal, for every call of the batch
   * @returns each entry's outcome, in order (`undefined` for notifications)
   */
  batch(
    entries: readonly BatchEntry[],
    options?: CallOptions,
  ): Promise<PromiseSettledResult<unknown>[]> {
    return Promise.allSettled(
      entries.map((e) =>
        e.notification ? this.notify(e.method, e.params) : this.call(e.method, e.params, options)
      ),
    );
  }

  /**
   * Closes: calls waiting for a reply fail with a `ConnectionClosedError`
   * (their workers may still run them) and new ones are refused. The NATS
   * connection stays open.
   *
   * @param reason why, given as the `cause` of the calls' errors
   * @returns when everything is released
   */
  close(reason?: unknown): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      const error = ConnectionClosedError.closed(reason);
      this.#closer.abort(error);
      this.#replies.close(error);
      this.#closed.resolve();
    }
    return this.#closed.promise;
  }
}

/**
 * A client of the workers serving `subject`: it needs no address of any
 * worker, and more workers mean more capacity without any change here.
 *
 * @param options the connection, the subject, the codec, deadlines, retries
 * @returns the client
 *
 * @example Deadlines, retries of idempotent methods, and a worker's errors
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "../../../testing/nats_server.ts";
 * import { RpcError } from "../../errors.ts";
 * import { connectNats, natsClient, serveNats } from "../nats.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * await using natsServer = await startNatsServer(); // Debian package nats-server
 * const nc = await connectNats(natsServer.url);
 * const worker = serveNats({
 *   connection: nc,
 *   subject: "calculator",
 *   codec: jsonRpc(),
 *   service: {
 *     divide: (a: number, b: number) => {
 *       if (b === 0) throw new RpcError(1, "division by zero");
 *       return a / b;
 *     },
 *   },
 * });
 * await worker.ready;
 * const calculator = natsClient({
 *   connection: nc,
 *   subject: "calculator",
 *   codec: jsonRpc(),
 *   timeout: 5_000, // each call's deadline, unless the call says otherwise
 *   idempotent: ["divide"], // tried again on another worker if one does not answer
 * });
 * assert.equal(await calculator.call("divide", [6, 3], { timeout: 1_000 }), 2);
 * await assert.rejects(calculator.call("divide", [1, 0]), { name: "RpcError", code: 1 });
 * await worker.drain();
 * await nc.drain();
 * ```
 */
export function natsClient(options: NatsClientOptions): NatsClient {
  return new NatsClient(options);
}
