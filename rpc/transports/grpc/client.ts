/**
 * gRPC's client side over HTTP/2, all four kinds of call, on parley's own
 * HTTP/2 client (`connectHttp2`, rpc/transports/http2/; `fetch` cannot read
 * trailers: docs/grpc.md). One connection carries every call as a stream of
 * its own; calls past the server's SETTINGS_MAX_CONCURRENT_STREAMS wait in
 * HTTP/2's own queue for a free stream; a connection that died is replaced
 * on the next call. A unary call's stream is read by `_call.ts`, a
 * streaming call's by `_client_stream.ts`.
 *
 * @module
 */

import type { ProtoSchema } from "../../../codecs/protobuf.ts";
import { ConnectionClosedError } from "../../errors.ts";
import type { CallOptions, RpcParams, RpcStream, StreamCallOptions } from "../../types.ts";
import { installed, type Interceptor } from "../../interceptors.ts";
import { interceptCall } from "../../interceptors_client.ts";
import { ACCEPT_ENCODING, GZIP, gzipMessage } from "./_compression.ts";
import { formatTimeout } from "../../../protocols/grpc/_wire.ts";
import { framed } from "./_frame.ts";
import { connectHttp2 } from "../http2/client.ts";
import { type GrpcResponseMetadata, unaryOutcome } from "./_call.ts";
import { laterStream, openCall } from "./_client_stream.ts";

export type { GrpcResponseMetadata } from "./_call.ts";

// A stream's window: what a reader that stops leaves in flight (the
// connection's window is HTTP/2's 4 MiB).
const STREAM_WINDOW = 256 * 1024;

/** Options of {@linkcode connectGrpc}. */
export interface GrpcClientOptions {
  /** The services' schema, from `loadProto`. */
  readonly schema: ProtoSchema;
  /** PEM certificates to trust for `grpcs://`, besides the system's. */
  readonly caCerts?: readonly string[];
  /**
   * A client certificate chain (PEM) to present on `grpcs://`, with `key`:
   * for servers that require mutual TLS (`serveGrpc`'s `clientCa`).
   */
  readonly cert?: string;
  /** The PEM private key of `cert`. */
  readonly key?: string;
  /** Metadata sent with every call (`authorization`, say). */
  readonly headers?: HeadersInit;
  /** Milliseconds before a call gives up, sent as `grpc-timeout`; none by default. */
  readonly timeout?: number;
  /** `"gzip"`: requests are sent compressed (`grpc-encoding: gzip`); identity by default. */
  readonly compression?: "gzip" | "identity";
  /** The largest response message in bytes, after decompression; 16 MiB by default. */
  readonly maxMessageSize?: number;
  /**
   * Run around every unary call, the first outermost (see
   * `rpc/interceptors.ts`): what they leave in `call.metadata` is sent as
   * the call's metadata. Streaming calls do not run through them yet.
   */
  readonly interceptors?: readonly Interceptor[];
}

/**
 * Per-call options: every client's {@linkcode CallOptions} (the timeout is
 * sent as `grpc-timeout` and is the local deadline too; aborting the signal
 * resets the stream with CANCEL), request metadata, and a look at the
 * reply's.
 *
 * @example
 * ```ts
 * import type { GrpcCallOptions } from "./client.ts";
 *
 * const options: GrpcCallOptions = {
 *   timeout: 5_000,
 *   headers: { "x-request-tag": "t1" },
 *   onMetadata: ({ headers, trailers }) => console.log(headers, trailers),
 * };
 * console.assert(options.timeout === 5_000);
 * ```
 */
export interface GrpcCallOptions extends CallOptions {
  /** Metadata for this call only (ASCII values; `-bin` names carry base64). */
  readonly headers?: HeadersInit;
  /**
   * Called with the reply's headers and trailers once the reply is whole,
   * before the call settles, failed calls included (not when no reply came).
   */
  readonly onMetadata?: (metadata: GrpcResponseMetadata) => void;
}

/**
 * Options of a streaming call: the caller's messages (`input`, for a method
 * whose request streams), and what a unary call takes. The timeout is the
 * whole call's, sent as `grpc-timeout`; the signal, or leaving the replies'
 * loop early, cancels it.
 *
 * @example
 * ```ts
 * import type { GrpcStreamOptions } from "./client.ts";
 *
 * async function* numbers() {
 *   yield { value: 1 };
 *   yield { value: 2 };
 * }
 * const options: GrpcStreamOptions = { input: numbers(), timeout: 5_000 };
 * console.assert(options.timeout === 5_000);
 * ```
 */
export interface GrpcStreamOptions extends StreamCallOptions, GrpcCallOptions {}

/**
 * A gRPC client: unary and streaming calls by wire name, requests and
 * responses as plain messages. The typed client of one service, streaming
 * methods included, is `protoClient(client, schema, "package.Service")`.
 *
 * Not an `RpcClient`: gRPC has no notifications and no batches (a call
 * without a reply, or several in one message, cannot be said on its wire),
 * and its methods are named `package.Service/Method`, which a property of
 * the shared proxy cannot spell: the same shape as Connect's client.
 */
export interface GrpcClient extends AsyncDisposable {
  /** The URL given, `grpc://host:port` or `grpcs://host:port`. */
  readonly url: string;
  /**
   * Calls a unary method.
   *
   * @param method the wire name, such as `"interop.Calculator/Add"`
   * @param params the request message (or an array holding it)
   * @param options timeout, abort signal, metadata
   * @returns the response message
   * @throws {ConnectError} the server's status: `code` the gRPC status,
   *   `connectCode` its name, `message` the decoded `grpc-message`, `data`
   *   the first detail of `grpc-status-details-bin` whose type the schema
   *   knows (all of them in `details`); also a reply that is not gRPC (the
   *   HTTP status's code), or one that breaks the protocol (`internal`), or
   *   a response over `maxMessageSize` (`resource_exhausted`)
   * @throws {ConnectionClosedError} when the connection failed or closed
   *   before the reply, or the client was closed
   * @throws {TimeoutError} when the timeout passed first
   * @throws {TypeError} for an unknown or streaming method, or a request
   *   that does not fit its type
   */
  call<T = unknown>(method: string, params?: RpcParams, options?: GrpcCallOptions): Promise<T>;
  /**
   * Makes a streaming call. A server stream's messages are read with `for
   * await` at the caller's pace (the server waits while the caller is
   * behind); leaving the loop early cancels the call (RST_STREAM CANCEL),
   * and a status other than 0 ends the loop with a thrown `ConnectError`.
   * A client stream's messages are `options.input`'s, sent as the server
   * reads them; its one reply is `result`.
   *
   * @param method the wire name, such as `"interop.Calculator/Range"`
   * @param params the request message, when the request does not stream
   * @param options the caller's messages, timeout, signal, metadata
   * @returns the server's messages (none when only the request streams)
   *   and `result`: the one reply, or `null` once a server stream ended
   *   with status 0; it rejects as `call` does
   * @throws {TypeError} for an unknown or unary method
   */
  openStream(method: string, params?: RpcParams, options?: GrpcStreamOptions): RpcStream;
  /** Calls (unary and streaming) awaiting their end. */
  readonly pending: number;
  /** Resolves when the client has closed. */
  readonly closed: Promise<void>;
  /**
   * Closes: GOAWAY to the server, the calls awaiting a reply fail with a
   * `ConnectionClosedError` (their streams cancelled), later calls too.
   *
   * @param reason the `cause` of those errors
   */
  close(reason?: unknown): Promise<void>;
}

/**
 * Creates a gRPC client of the server at `url`: `grpc://host:port` is
 * cleartext HTTP/2 with prior knowledge (h2c), `grpcs://host:port` TLS with
 * ALPN `h2` (`caCerts` to trust a private CA). The connection opens on the
 * first call and carries every call after it; if it dies, the next call
 * opens another.
 *
 * @param url the server, `grpc://` or `grpcs://`
 * @param options the schema, metadata, timeout, compression
 * @returns the client
 * @throws {TypeError} for a URL of another scheme, or only one of `cert` and `key`
 *
 * @example Calling parley's own gRPC server, with metadata both ways
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoClient, protoService } from "../../../codecs/protobuf.ts";
 * import { withContext } from "../../service.ts";
 * import { callMetadata, connectGrpc, serveGrpc } from "../grpc.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Name { string name = 1; }
 *   service Greeter { rpc Greet(Name) returns (Name); }
 * `);
 * const service = protoService(schema, "demo.Greeter", {
 *   Greet: withContext((ctx, { name }: { name: string }) => {
 *     const metadata = callMetadata(ctx)!;
 *     metadata.trailers.set("x-greeted", metadata.request.get("x-who") ?? "");
 *     return { name: `Hello, ${name}` };
 *   }),
 * });
 * await using server = await serveGrpc({ schema, service });
 * await using client = connectGrpc(server.url, { schema });
 * type Greeter = { Greet(request: { name: string }): { name: string } };
 * const greeter = protoClient<Greeter>(client, schema, "demo.Greeter");
 * assert.deepEqual(await greeter.Greet({ name: "Ada" }), { name: "Hello, Ada" });
 *
 * let greeted: string | null = null;
 * await client.call("demo.Greeter/Greet", { name: "Bo" }, {
 *   headers: { "x-who": "Bo" },
 *   onMetadata: ({ trailers }) => greeted = trailers.get("x-greeted"),
 * });
 * assert.equal(greeted, "Bo");
 * ```
 */
export function connectGrpc(url: string, options: GrpcClientOptions): GrpcClient {
  const parsed = new URL(url);
  if (parsed.protocol !== "grpc:" && parsed.protocol !== "grpcs:") {
    throw new TypeError(`connectGrpc: ${url} is not a grpc:// or grpcs:// URL`);
  }
  const tls = parsed.protocol === "grpcs:";
  const http2 = connectHttp2(`${tls ? "https" : "http"}://${parsed.host}`, {
    initialWindowSize: STREAM_WINDOW,
    ...(options.caCerts === undefined ? {} : { caCerts: options.caCerts }),
    ...(options.cert === undefined ? {} : { cert: options.cert }),
    ...(options.key === undefined ? {} : { key: options.key }),
  });
  const { schema } = options;
  const maxMessageSize = options.maxMessageSize ?? 16 * 1024 * 1024;
  const compress = options.compression === GZIP;
  const calls = new Set<(error: Error) => void>();
  const { promise: closed, resolve: resolveClosed } = Promise.withResolvers<void>();
  let closing: Promise<void> | undefined;
  let closeReason: unknown;

  // What gRPC itself sends, after the metadata: it cannot be overridden.
  const fixed: Record<string, string> = {
    ":method": "POST",
    "content-type": "application/grpc",
    "te": "trailers",
    "grpc-accept-encoding": ACCEPT_ENCODING,
    ...(compress ? { "grpc-encoding": GZIP } : {}),
  };
  const clientHeaders = options.headers === undefined ? [] : [...new Headers(options.headers)];
  // The common call (no metadata of its own, no timeout): its fields made once per method.
  const plain = new Map<string, Record<string, string>>();
  const headersOf = (name: string, callOptions: GrpcCallOptions, timeout: number | undefined) => {
    if (callOptions.headers === undefined && timeout === undefined) {
      const known = plain.get(name);
      if (known !== undefined) return known;
    }
    const fields: Record<string, string> = {};
    for (const [key, value] of clientHeaders) fields[key] = value;
    if (callOptions.headers !== undefined) {
      for (const [key, value] of new Headers(callOptions.headers)) fields[key] = value;
    }
    Object.assign(fields, fixed);
    fields[":path"] = `/${name}`;
    if (timeout !== undefined) fields["grpc-timeout"] = formatTimeout(timeout);
    else if (callOptions.headers === undefined && plain.size < 1000) plain.set(name, fields);
    return fields;
  };
  const timeoutOf = (callOptions: GrpcCallOptions) => {
    const requested = callOptions.timeout ?? options.timeout;
    return requested === Infinity ? undefined : requested;
  };

  const track = (fail: (error: Error) => void) => {
    calls.add(fail);
    return () => calls.delete(fail);
  };

  const send = async <T>(
    name: string,
    params?: RpcParams,
    callOptions: GrpcCallOptions = {},
  ): Promise<T> => {
    if (closing !== undefined) throw ConnectionClosedError.closed(closeReason);
    const method = schema.unary(name);
    let message = method.request.encode(requestOf(name, method.request.name, params));
    if (compress) message = await gzipMessage(message);
    callOptions.signal?.throwIfAborted();
    const timeout = timeoutOf(callOptions);
    const stream = http2.request(headersOf(name, callOptions, timeout));
    return await unaryOutcome(stream, framed(message, compress), {
      method,
      schema,
      maxMessageSize,
      timeout,
      signal: callOptions.signal,
      onMetadata: callOptions.onMetadata,
      track,
    }) as T;
  };

  const interceptors = installed(options.interceptors);
  const call = interceptors === undefined
    ? send
    : <T>(name: string, params?: RpcParams, callOptions: GrpcCallOptions = {}) =>
      interceptCall(interceptors, name, params, callOptions, send) as Promise<T>;

  const openStream = (
    name: string,
    params?: RpcParams,
    streamOptions: GrpcStreamOptions = {},
  ): RpcStream => {
    const method = schema.method(name);
    if (method === undefined) throw new TypeError(`The schema has no method "${name}"`);
    if (!method.clientStreaming && !method.serverStreaming) {
      throw new TypeError(`"${name}" is a unary method: call it with call()`);
    }
    const input = method.clientStreaming
      ? streamOptions.input ?? []
      : [requestOf(name, method.request.name, params)];
    try {
      if (closing !== undefined) throw ConnectionClosedError.closed(closeReason);
      streamOptions.signal?.throwIfAborted();
      const timeout = timeoutOf(streamOptions);
      const stream = http2.request(headersOf(name, streamOptions, timeout));
      return openCall(stream, {
        method,
        schema,
        maxMessageSize,
        timeout,
        signal: streamOptions.signal,
        onMetadata: streamOptions.onMetadata,
        track,
        compress,
        input,
      });
    } catch (error) {
      // The call cannot start: its messages and result fail alike.
      return laterStream(Promise.reject(error));
    }
  };

  const close = (reason?: unknown) =>
    closing ??= (async () => {
      closeReason = reason;
      // Their streams are reset (CANCEL); then GOAWAY, and the connection ends.
      for (const fail of [...calls]) fail(ConnectionClosedError.closed(reason));
      await http2.close();
      resolveClosed();
    })();

  return {
    url,
    call,
    openStream,
    get pending() {
      return calls.size;
    },
    closed,
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

// The one request message of a call: the message, or an array holding it.
function requestOf(name: string, type: string, params: RpcParams | undefined): unknown {
  if (Array.isArray(params) && params.length > 1) {
    throw new TypeError(`${name} takes one ${type} message, not ${params.length} params`);
  }
  return Array.isArray(params) ? params[0] ?? {} : params ?? {};
}
