/**
 * One reconnect policy for every stream client (TCP, TLS, Unix, WebSocket):
 * when the connection drops, the calls waiting for a reply fail at once with
 * a clear error, and a new connection is made with exponential backoff and
 * jitter; calls made meanwhile wait for it (within their timeout and
 * signal). Portable: the transport is a `connect` function.
 *
 * @module
 */

import { type BatchEntry, type CallOptions, RpcClientBase } from "./client.ts";
import { ConnectionClosedError } from "./errors.ts";
import { installed, type Interceptor, interceptSent } from "./interceptors.ts";
import type { Peer } from "./peer.ts";
import { interceptBatch } from "./peer/_intercepted.ts";
import type { RpcParams } from "./types.ts";

/** How a {@linkcode ReconnectingClient} waits between attempts, and when it gives up. */
export interface ReconnectOptions {
  /** Milliseconds before the first new attempt; 100 by default. */
  readonly initialDelay?: number;
  /** The longest wait between attempts; 10 000 ms by default. */
  readonly maxDelay?: number;
  /** Each wait is this many times the one before; 2 by default. */
  readonly factor?: number;
  /** Attempts in a row before giving up (the client then closes); unlimited by default. */
  readonly maxAttempts?: number;
  /**
   * Whether a failed attempt is worth another: false gives up at once (the
   * client closes, the error as the cause). Every error retries by default.
   */
  readonly retryOn?: (error: unknown) => boolean;
}

/** Options of {@linkcode ReconnectingClient}. */
export interface ReconnectingClientOptions {
  /**
   * Makes a new connection. `signal` aborts when the client closes while it
   * is under way; a connection made after that is closed.
   */
  readonly connect: (signal: AbortSignal) => Promise<Peer>;
  /** The backoff. */
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
   * reconnecting.
   *
   * @param method the method's name
   * @param params its params
   * @param options timeout and abort signal (the wait for a connection counts)
   * @returns the result
   * @throws {ConnectionClosedError} when the connection drops before the reply
   */
  call<T = unknown>(method: string, params?: RpcParams, options?: CallOptions): Promise<T> {
    if (this.#interceptors === undefined) return this.#call(method, params, options);
    return interceptSent(
      this.#interceptors,
      "call",
      method,
      params,
      options,
      (method, params, options, headers) => this.#call(method, params, { ...options, headers }),
    ) as Promise<T>;
  }

  async #call<T>(method: string, params?: RpcParams, options?: CallOptions): Promise<T> {
    const started = Date.now();
    const peer = await this.#connection(options);
    const timeout = options?.timeout === undefined
      ? undefined
      : Math.max(0, options.timeout - (Date.now() - started));
    try {
      return await peer.call<T>(
        method,
        params,
        timeout === undefined ? options : { ...options, timeout },
      );
    } catch (error) {
      throw this.#dropped(error, method);
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
    if (this.#interceptors === undefined) return this.#notify(method, params, undefined);
    return interceptSent(
      this.#interceptors,
      "notification",
      method,
      params,
      undefined,
      (method, params, _options, headers) => this.#notify(method, params, headers),
    ).then(() => undefined);
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
    const results = this.#interceptors === undefined
      ? await peer.batch(entries, options)
      : await interceptBatch(this.#interceptors, entries, options, (items) =>
        items.map((item) =>
          item.notification
            ? this.#notify(item.method, item.params, item.metadata)
            : this.#call(item.method, item.params, {
              ...item.options,
              headers: item.metadata ?? [],
            })
        ));
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
    const backoff = this.#options.reconnect ?? {};
    const initial = backoff.initialDelay ?? 100;
    const max = backoff.maxDelay ?? 10_000;
    const factor = backoff.factor ?? 2;
    const attempts = backoff.maxAttempts ?? Infinity;
    const retryOn = backoff.retryOn ?? (() => true);
    let lastError: unknown;
    let attempt = 0;
    for (; attempt < attempts && !this.#closing; attempt++) {
      // Jitter spreads the clients of one server that went down together.
      const delay = Math.min(max, initial * factor ** attempt) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, delay));
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
  #connection(options: CallOptions | undefined): Promise<Peer> {
    if (this.#peer !== undefined) return Promise.resolve(this.#peer);
    if (this.#closing) return Promise.reject(new ConnectionClosedError("The client was closed"));
    const waits: Promise<Peer>[] = [this.#next.promise];
    const cleanups: (() => void)[] = [];
    if (options?.timeout !== undefined) {
      const timeout = options.timeout;
      waits.push(
        new Promise((_, reject) => {
          const timer = setTimeout(
            () =>
              reject(
                new ConnectionClosedError(
                  `Not connected to ${this.url} within ${timeout} ms (reconnecting)`,
                ),
              ),
            timeout,
          );
          cleanups.push(() => clearTimeout(timer));
        }),
      );
    }
    const signal = options?.signal;
    if (signal !== undefined) {
      waits.push(
        new Promise((_, reject) => {
          if (signal.aborted) return reject(signal.reason);
          const onAbort = () => reject(signal.reason);
          signal.addEventListener("abort", onAbort, { once: true });
          cleanups.push(() => signal.removeEventListener("abort", onAbort));
        }),
      );
    }
    return Promise.race(waits).finally(() => cleanups.forEach((cleanup) => cleanup()));
  }

  #dropped(error: unknown, method: string): unknown {
    if (!(error instanceof ConnectionClosedError) || this.#closing) return error;
    return new ConnectionClosedError(
      `The connection to ${this.url} dropped before "${method}" was answered; reconnecting`,
      { cause: error },
    );
  }
}
