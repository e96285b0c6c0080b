/**
 * One reconnect policy for every stream client (TCP, TLS, Unix, stdio
 * children, WebSocket): when the connection drops, the calls waiting for a
 * reply fail at once with a clear error, unless their method is idempotent
 * (then they are sent again on the next connection), and a new connection is
 * made with exponential backoff and full jitter; calls made meanwhile wait
 * for it (within their timeout and signal). Portable: the transport is a
 * `connect` function.
 *
 * @module
 */

import { type BatchEntry, type CallOptions, RpcClientBase } from "./client.ts";
import { ConnectionClosedError } from "./errors.ts";
import { activeChain, installed, type Interceptor } from "./interceptors.ts";
import { notifyThrough, sendThrough } from "./interceptors_client.ts";
import type { Peer } from "./peer.ts";
import { backoffDelay, isIdempotent, retriable, type RetryPolicy, sleep } from "./retry.ts";
import { interceptBatch } from "./peer/_intercepted.ts";
import { boundedWait } from "./_bounded_wait.ts";
import type { RpcParams } from "./types.ts";

/**
 * The backoff of a {@linkcode ReconnectingClient}, by its older name: the
 * same {@linkcode RetryPolicy} every retrying client takes.
 */
export type ReconnectOptions = RetryPolicy;

/** Options of {@linkcode ReconnectingClient}. */
export interface ReconnectingClientOptions {
  /**
   * Makes a new connection. `signal` aborts when the client closes while it
   * is under way; a connection made after that is closed.
   */
  readonly connect: (signal: AbortSignal) => Promise<Peer>;
  /** The backoff, and which calls are sent again after a drop (none by default). */
  readonly retry?: RetryPolicy;
  /** The same as `retry`, by its older name; `retry` wins where both say. */
  readonly reconnect?: ReconnectOptions;
  /** Called with each new connection's peer, the first included (to subscribe again, say). */
  readonly onConnect?: (peer: Peer) => void;
  /**
   * Run around every call of this client, once per call whatever the
   * connection it goes out on (give them here, not to the peers `connect`
   * makes: there they would run a second time). The metadata they leave
   * travels as the call's `headers`.
   */
  readonly interceptors?: readonly Interceptor[];
}

/**
 * Connects once (failing as `connect` fails), then keeps reconnecting after
 * drops.
 *
 * @param url where it connects, as text, for errors
 * @param options `connect`, the backoff, `onConnect`
 * @returns the client; `close()` it to stop
 *
 * @example Over an in-memory pair, to show the shape (transports offer their own)
 * ```ts
 * import assert from "node:assert/strict";
 * import { reconnecting } from "./reconnect.ts";
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const servers: Peer[] = [];
 * const connect = () => {
 *   const [a, b] = memoryPair();
 *   servers.push(new Peer(a, { codec: jsonRpc(), service: { n: () => servers.length } }));
 *   return Promise.resolve(new Peer(b, { codec: jsonRpc() }));
 * };
 * const connections: Peer[] = [];
 * await using client = await reconnecting("memory:", {
 *   connect,
 *   reconnect: { initialDelay: 1 },
 *   onConnect: (peer) => connections.push(peer),
 * });
 * assert.equal(await client.call("n"), 1);
 * await servers[0]?.close(); // the connection drops…
 * await connections[0]?.closed; // …the client sees it: calls now wait for the next
 * assert.equal(await client.call("n", [], { timeout: 5_000 }), 2);
 * await Promise.all(servers.map((server) => server.close()));
 * ```
 */
export async function reconnecting(
  url: string,
  options: ReconnectingClientOptions,
): Promise<ReconnectingClient> {
  const peer = await options.connect(new AbortController().signal);
  return new ReconnectingClient(url, options, peer);
}

/**
 * A client that reconnects: see {@linkcode reconnecting}. Calls go to the
 * open connection, or wait for the next one while reconnecting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReconnectingClient } from "./reconnect.ts";
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service: { hi: () => "hi" } });
 * const connect = () => Promise.reject(new Error("no second connection here"));
 * await using client = new ReconnectingClient("memory:", { connect }, new Peer(b, { codec: jsonRpc() }));
 * assert.equal(await client.call("hi"), "hi");
 * assert.equal(client.connections, 1);
 * await server.close();
 * ```
 */
export class ReconnectingClient extends RpcClientBase {
  /** Where it connects, as text. */
  readonly url: string;
  readonly #options: ReconnectingClientOptions;
  readonly #policy: RetryPolicy;
  readonly #interceptors: readonly Interceptor[] | undefined;
  #peer: Peer | undefined;
  // Settled with the next connection, or rejected when the client closes.
  #next = Promise.withResolvers<Peer>();
  #closing = false;
  readonly #stopping = new AbortController();
  readonly #closed = Promise.withResolvers<void>();
  #connections = 0;

  /**
   * Wraps a first, open connection; prefer {@linkcode reconnecting} or a
   * transport's `reconnect…` function.
   *
   * @param url where it connects, for errors
   * @param options `connect`, the backoff, `onConnect`
   * @param peer the first connection
   */
  constructor(url: string, options: ReconnectingClientOptions, peer: Peer) {
    super();
    this.url = url;
    this.#options = options;
    this.#policy = { ...options.reconnect, ...options.retry };
    this.#interceptors = installed(options.interceptors);
    this.#next.promise.catch(() => {});
    this.#adopt(peer);
  }

  /** Connections made so far, the first included. */
  get connections(): number {
    return this.#connections;
  }

  /** Whether a connection is open now. */
  get connected(): boolean {
    return this.#peer !== undefined;
  }

  /** Calls awaiting their reply on the current connection. */
  get pending(): number {
    return this.#peer?.pending ?? 0;
  }

  /** Resolves when `close()` has released everything. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * Calls a method on the current connection, waiting for one while
   * reconnecting. An idempotent call (the policy's `idempotent`, or
   * `options.idempotent`) that meets a dropped connection or a busy server
   * is sent again after a backoff, within its timeout, signal and
   * `maxCallAttempts`; any other call is sent once.
   *
   * @param method the method's name
   * @param params its params
   * @param options timeout, abort signal, `idempotent` (the wait for a connection counts)
   * @returns the result
   * @throws {ConnectionClosedError} when the connection drops before the reply
   */
  call<T = unknown>(method: string, params?: RpcParams, options?: CallOptions): Promise<T> {
    return sendThrough(
      this.#interceptors,
      method,
      params,
      options,
      (method, params, options, headers) =>
        this.#call(method, params, headers === undefined ? options : { ...options, headers }),
    ) as Promise<T>;
  }

  async #call<T>(method: string, params?: RpcParams, options?: CallOptions): Promise<T> {
    const started = Date.now();
    const left = () =>
      options?.timeout === undefined
        ? undefined
        : Math.max(0, options.timeout - (Date.now() - started));
    const tries = isIdempotent(this.#policy, method, options)
      ? Math.max(1, this.#policy.maxCallAttempts ?? 3)
      : 1;
    for (let attempt = 1;; attempt++) {
      const peer = await this.#connection(options, left());
      const timeout = left();
      try {
        return await peer.call<T>(
          method,
          params,
          timeout === undefined ? options : { ...options, timeout },
        );
      } catch (error) {
        const failure = this.#dropped(error, method);
        if (attempt >= tries || this.#closing || !retriable(error)) throw failure;
        const delay = backoffDelay(this.#policy, attempt - 1);
        const remaining = left();
        // No time for another try: the caller learns why the last one failed.
        if (remaining !== undefined && remaining <= delay) throw failure;
        this.#policy.onRetry?.({ method, attempt, error, delay });
        await sleep(delay, options?.signal);
      }
    }
  }

  /**
   * Sends a notification on the current connection, waiting for one while
   * reconnecting.
   *
   * @param method the method's name
   * @param params its params
   */
  notify(method: string, params?: RpcParams): Promise<void> {
    return notifyThrough(
      this.#interceptors,
      method,
      params,
      (method, params, headers) => this.#notify(method, params, headers),
    );
  }

  async #notify(method: string, params: RpcParams | undefined, headers: Headers | undefined) {
    const peer = await this.#connection(undefined);
    try {
      // A notification's metadata goes out as a batch of one (the only way to give it headers).
      if (headers === undefined || headers.keys().next().done === true) {
        await peer.notify(method, params);
      } else {
        const [outcome] = await peer.batch([{
          method,
          ...(params === undefined ? {} : { params }),
          notification: true,
        }], {
          headers,
        });
        if (outcome?.status === "rejected") throw outcome.reason;
      }
    } catch (error) {
      throw this.#dropped(error, method);
    }
  }

  /**
   * Sends a batch on the current connection.
   *
   * @param entries the calls, in order
   * @param options timeout and abort signal
   * @returns each entry's outcome
   */
  async batch(
    entries: readonly BatchEntry[],
    options?: CallOptions,
  ): Promise<PromiseSettledResult<unknown>[]> {
    const peer = await this.#connection(options);
    const chain = activeChain(this.#interceptors);
    const results = chain === undefined ? await peer.batch(entries, options) : await interceptBatch(
      chain,
      entries,
      options,
      (items) =>
        items.map((item) =>
          item.notification
            ? this.#notify(item.method, item.params, item.metadata)
            : this.#call(item.method, item.params, {
              ...item.options,
              headers: item.metadata ?? [],
            })
        ),
    );
    return results.map((r) =>
      r.status === "rejected" ? { status: "rejected", reason: this.#dropped(r.reason, "batch") } : r
    );
  }

  /**
   * Stops reconnecting and closes the current connection; calls waiting for
   * a connection fail with a `ConnectionClosedError`.
   *
   * @param reason why, as the `cause` of the errors
   */
  async close(reason?: unknown): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#stopping.abort(reason);
      this.#next.reject(
        new ConnectionClosedError(
          "The client was closed",
          reason === undefined ? {} : { cause: reason },
        ),
      );
      const peer = this.#peer;
      this.#peer = undefined;
      (peer?.close(reason) ?? Promise.resolve()).finally(() => this.#closed.resolve());
    }
    await this.#closed.promise;
  }

  #adopt(peer: Peer): void {
    this.#peer = peer;
    this.#connections++;
    this.#next.resolve(peer);
    this.#options.onConnect?.(peer);
    peer.closed.then(() => {
      if (this.#peer !== peer) return;
      this.#peer = undefined;
      if (this.#closing) return;
      this.#next = Promise.withResolvers<Peer>();
      this.#next.promise.catch(() => {});
      this.#reconnect();
    });
  }

  async #reconnect(): Promise<void> {
    const attempts = this.#policy.maxAttempts ?? Infinity;
    const retryOn = this.#policy.retryOn ?? (() => true);
    let lastError: unknown;
    let attempt = 0;
    for (; attempt < attempts && !this.#closing; attempt++) {
      // close() cuts the wait short.
      await sleep(backoffDelay(this.#policy, attempt), this.#stopping.signal).catch(() => {});
      if (this.#closing) return;
      try {
        const peer = await this.#options.connect(this.#stopping.signal);
        if (this.#closing) {
          await peer.close();
          return;
        }
        this.#adopt(peer);
        return;
      } catch (error) {
        lastError = error;
        if (!retryOn(error)) {
          attempt++;
          break;
        }
      }
    }
    if (!this.#closing) {
      const why = attempt < attempts
        ? `after an error that does not retry (attempt ${attempt})`
        : `after ${attempts} attempts`;
      await this.close(
        new ConnectionClosedError(`Gave up reconnecting to ${this.url} ${why}`, {
          cause: lastError,
        }),
      );
    }
  }

  // The open connection, or the next one; bounded by the call's timeout and signal.
  #connection(options: CallOptions | undefined, timeout = options?.timeout): Promise<Peer> {
    const peer = this.#peer;
    if (peer !== undefined && !peer.isClosed) return Promise.resolve(peer);
    if (this.#closing) return Promise.reject(new ConnectionClosedError("The client was closed"));
    // A connection already closing would refuse the call unsent: wait for the next one instead.
    return boundedWait(
      peer === undefined ? this.#next.promise : peer.closed.then(() => this.#next.promise),
      timeout,
      options?.signal,
      () =>
        new ConnectionClosedError(
          `Not connected to ${this.url} within ${timeout} ms (reconnecting)`,
        ),
    );
  }

  #dropped(error: unknown, method: string): unknown {
    if (!(error instanceof ConnectionClosedError) || this.#closing) return error;
    return new ConnectionClosedError(
      `The connection to ${this.url} dropped before "${method}" was answered; reconnecting`,
      { cause: error },
    );
  }
}
