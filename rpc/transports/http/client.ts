/**
 * The HTTP client: each call, notification or batch is one `POST` made with
 * `fetch`, its reply the response body. Web-standard only.
 *
 * @module
 */

import { ConnectionClosedError, LimitError } from "../../errors.ts";
import { resolveLimits } from "../../limits.ts";
import { type BatchEntry, type CallOptions, RpcClientBase } from "../../client.ts";
import { activeChain, installed, type Interceptor } from "../../interceptors.ts";
import { notifyThrough, optionsMetadata, sendThrough } from "../../interceptors_client.ts";
import type { PeerOptions } from "../../peer/options.ts";
import type { Codec, DecodedFrame, RpcId, RpcMessage, RpcParams, RpcRequest } from "../../types.ts";
import { HttpEndpoint } from "./_endpoint.ts";
import { batchOutcomes, callOutcome, unexpectedReply } from "./_outcome.ts";
import { Posts } from "./_posts.ts";

export { HttpError } from "./_endpoint.ts";

/** Options of {@linkcode connectHttp}. */
export interface ConnectHttpOptions extends Omit<PeerOptions, "service" | "exposeErrors"> {
  /** Headers sent with every POST (authorization, say). */
  readonly headers?: HeadersInit;
  /**
   * The `fetch` to use; the global one by default. A `fetch` with a private
   * CA (`tlsClient` of `@parley/rpc/tls`) or through a proxy goes here.
   */
  readonly fetch?: typeof fetch;
  /**
   * The path of a Unix domain socket that every request goes to (Deno and
   * Node: over `node:http`): the URL's host is then only the Host header.
   * An `http+unix://` URL says the same in the URL. Plain HTTP only (not
   * with `https://`), and not with `fetch`.
   */
  readonly unixSocket?: string;
  /** Largest response body in bytes, after decompression; 16 MiB by default. */
  readonly maxBodySize?: number;
  /**
   * Request bodies larger than this many bytes are sent gzipped
   * (`Content-Encoding: gzip`), as Python's `encode_threshold` does. Off by
   * default: not every server accepts compressed requests (parley's and
   * Python's do).
   */
  readonly compressThreshold?: number;
}

const NO_PARAMS = undefined;

/**
 * Connects to an HTTP endpoint: every call, notification or batch is one
 * `POST` (keep-alive is `fetch`'s own), so calls made together run
 * concurrently. A 200 reply settles the calls it answers, and a call it does
 * not answer fails with a `ProtocolError`; 204 means nothing to answer; any
 * other status fails the calls of that POST with an {@linkcode HttpError}.
 * A POST that gets no reply (refused, reset, a server killed mid-reply) fails
 * its calls with a `ConnectionClosedError` naming the URL, whose `cause` is
 * fetch's error, as the stream transports' calls fail when their connection
 * ends. A call's timeout or abort aborts its request. The server cannot call
 * back over HTTP.
 *
 * Over a Unix domain socket (Deno and Node), the URL is
 * `http+unix://%2Fpath%2Fto.sock/RPC2` (the socket's path percent-encoded as
 * the host) or `http+unix:///path/to.sock:/RPC2` (the path, then `:` and the
 * request path), or an `http://` URL with the `unixSocket` option.
 *
 * @param url the endpoint, such as `http://127.0.0.1:8080/rpc`
 * @param options the codec, headers, default timeout, closing signal, `fetch`
 * @returns the client; `close()` it when done
 * @throws {TypeError} for a Unix socket outside Deno, with `fetch` or with `https://`
 *
 * @example A client that sends credentials with every POST
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectHttp } from "./client.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * // A server that answers one call, and only with the right credentials.
 * await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) =>
 *   request.headers.get("authorization") === "Basic " + btoa("alice:secret")
 *     ? Response.json({ jsonrpc: "2.0", id: 1, result: 3 })
 *     : new Response("Unauthorized", { status: 401 }));
 * await using client = connectHttp(`http://127.0.0.1:${server.addr.port}/rpc`, {
 *   codec: jsonRpc(),
 *   headers: { authorization: "Basic " + btoa("alice:secret") },
 *   timeout: 5_000,
 * });
 * assert.equal(await client.call("add", [1, 2]), 3);
 * ```
 */
export function connectHttp(url: string | URL, options: ConnectHttpOptions): HttpClient {
  return new HttpClient(url, options);
}

/**
 * The client {@linkcode connectHttp} makes. Each exchange has a codec
 * instance of its own (`fork()`), so even a codec that matches replies by
 * order, such as XML-RPC, runs its calls concurrently.
 *
 * @example A batch in one POST, against parley's HTTP server
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpClient } from "./client.ts";
 * import { serveHttp } from "./server.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * await using server = serveHttp({
 *   routes: { "/rpc": { codec: jsonRpc(), service: { add: (a: number, b: number) => a + b } } },
 * });
 * await using client = new HttpClient(`${server.url}/rpc`, { codec: jsonRpc() });
 * const [sum, note] = await client.batch([
 *   { method: "add", params: [1, 2] },
 *   { method: "add", params: [3, 4], notification: true },
 * ]);
 * assert.deepEqual(sum, { status: "fulfilled", value: 3 });
 * assert.deepEqual(note, { status: "fulfilled", value: undefined });
 * ```
 */
export class HttpClient extends RpcClientBase {
  /** The endpoint's URL. */
  readonly remote: string;
  readonly #endpoint: HttpEndpoint;
  readonly #codec: Codec;
  readonly #maxPending: number;
  readonly #closeTimeout: number;
  readonly #onError: (error: unknown) => void;
  readonly #interceptors: readonly Interceptor[] | undefined;
  readonly #posts: Posts;
  readonly #closed = Promise.withResolvers<void>();
  #closing = false;
  #pending = 0;
  #nextId = 1;

  /**
   * Creates the client; nothing is sent until the first call.
   *
   * @param url the endpoint
   * @param options as for {@linkcode connectHttp}
   * @throws {TypeError} as {@linkcode connectHttp} does
   */
  constructor(url: string | URL, options: ConnectHttpOptions) {
    super();
    this.#codec = options.codec;
    this.#maxPending = resolveLimits(options.limits).maxPending;
    this.#closeTimeout = options.closeTimeout ?? 1000;
    this.#onError = options.onError ?? (() => {});
    this.#interceptors = installed(options.interceptors);
    // Last, once nothing else can throw: over a Unix socket it holds
    // connections until close().
    this.#endpoint = new HttpEndpoint(url, {
      mediaType: options.codec.mediaType,
      headers: options.headers,
      fetch: options.fetch,
      unixSocket: options.unixSocket,
      maxBodySize: options.maxBodySize,
      compressThreshold: options.compressThreshold,
    });
    this.remote = this.#endpoint.remote;
    this.#posts = new Posts(this.#endpoint, options.timeout);
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) queueMicrotask(() => this.close(signal.reason));
      else signal.addEventListener("abort", () => this.close(signal.reason), { once: true });
    }
  }

  /** Calls awaiting their reply. */
  get pending(): number {
    return this.#pending;
  }

  /** Resolves when the client has closed. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.#closing;
  }

  /**
   * Calls a method: one POST.
   *
   * @param method the method's name
   * @param params positional (array) or named (object) params
   * @param options timeout and abort signal
   * @returns the result
   * @throws {RpcError} the server's error reply
   * @throws {HttpError} a status other than 200 and 204
   * @throws {TimeoutError} when no reply came in time
   * @throws {ProtocolError} a reply that does not answer the call
   * @throws {ConnectionClosedError} when the client was closed, or the POST
   * got no reply (refused, reset, the server gone mid-reply)
   */
  call<T = unknown>(method: string, params?: RpcParams, options?: CallOptions): Promise<T> {
    return sendThrough(
      this.#interceptors,
      method,
      params,
      options,
      (method, params, options, metadata) => this.#call(method, params, options, metadata),
    ) as Promise<T>;
  }

  async #call<T>(
    method: string,
    params: RpcParams | undefined,
    options?: CallOptions,
    metadata?: Headers,
  ): Promise<T> {
    this.#checkOpen(1);
    const id = this.#id();
    const request: RpcRequest = params === NO_PARAMS
      ? { kind: "request", id, method }
      : { kind: "request", id, method, params };
    const codec = this.#codec.fork?.() ?? this.#codec;
    const frame = codec.encode(request);
    this.#pending++;
    try {
      const reply = await this.#posts.send(
        codec,
        frame,
        options,
        method,
        false,
        metadata ?? optionsMetadata(options),
      );
      return callOutcome(reply, id, this.remote) as T;
    } finally {
      this.#pending--;
    }
  }

  /**
   * Sends a notification: one POST, answered by 204.
   *
   * @param method the method's name
   * @param params positional (array) or named (object) params
   * @returns when the server has taken it
   * @throws {HttpError} a status other than 200 and 204
   */
  notify(method: string, params?: RpcParams): Promise<void> {
    return notifyThrough(
      this.#interceptors,
      method,
      params,
      (method, params, metadata) => this.#notify(method, params, metadata),
    );
  }

  async #notify(
    method: string,
    params: RpcParams | undefined,
    metadata?: Headers,
  ): Promise<void> {
    this.#checkOpen(0);
    const codec = this.#codec.fork?.() ?? this.#codec;
    const frame = codec.encode(
      params === NO_PARAMS
        ? { kind: "notification", method }
        : { kind: "notification", method, params },
    );
    const reply = await this.#posts.send(codec, frame, undefined, method, true, metadata);
    if (reply !== undefined) this.#onError(unexpectedReply(reply, this.remote));
  }

  /**
   * Sends several calls and notifications in one POST where the codec has
   * batches (one POST each otherwise) and waits for every outcome.
   *
   * @param entries the calls, in order
   * @param options timeout and abort signal, for every call of the batch
   * @returns each entry's outcome, in order (`undefined` for notifications)
   */
  async batch(
    entries: readonly BatchEntry[],
    options?: CallOptions,
  ): Promise<PromiseSettledResult<unknown>[]> {
    const calls = entries.filter((entry) => entry.notification !== true).length;
    this.#checkOpen(calls);
    // With interceptors each entry is a call of its own, through the chain
    // and in a POST of its own: headers (its metadata) belong to one POST.
    if (!this.#codec.features.batch || activeChain(this.#interceptors) !== undefined) {
      return Promise.allSettled(
        entries.map((e) =>
          e.notification ? this.notify(e.method, e.params) : this.call(e.method, e.params, options)
        ),
      );
    }
    const messages: RpcMessage[] = entries.map((entry): RpcMessage => {
      const params = entry.params === NO_PARAMS ? {} : { params: entry.params };
      return entry.notification
        ? { kind: "notification", method: entry.method, ...params }
        : { kind: "request", id: this.#id(), method: entry.method, ...params };
    });
    const codec = this.#codec.fork?.() ?? this.#codec;
    const frame = codec.encode(messages);
    this.#pending += calls;
    let reply: DecodedFrame | undefined;
    try {
      reply = await this.#posts.send(
        codec,
        frame,
        options,
        "batch",
        false,
        optionsMetadata(options),
      );
    } catch (error) {
      return messages.map(() => ({ status: "rejected", reason: error }));
    } finally {
      this.#pending -= calls;
    }
    return batchOutcomes(messages, reply, this.remote);
  }

  /**
   * Closes: calls waiting for their reply are rejected with a
   * `ConnectionClosedError` and their requests aborted; notifications under
   * way get `closeTimeout` to arrive.
   *
   * @param reason why, given as the `cause` of the calls' errors
   * @returns when everything is released
   */
  async close(reason?: unknown): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#posts.close(ConnectionClosedError.closed(reason), this.#closeTimeout).finally(() => {
        this.#endpoint.release();
        this.#closed.resolve();
      });
    }
    await this.#closed.promise;
  }

  #checkOpen(calls: number): void {
    if (this.#closing) throw new ConnectionClosedError("Connection closed");
    if (this.#pending + calls > this.#maxPending) {
      throw new LimitError("maxPending", this.#maxPending, "Too many calls awaiting a reply");
    }
  }

  #id(): RpcId {
    const id = this.#nextId;
    this.#nextId = id >= Number.MAX_SAFE_INTEGER ? 1 : id + 1;
    return id;
  }
}
