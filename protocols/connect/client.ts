/**
 * The Connect protocol's client side on `fetch`: calls protobuf services of
 * any Connect server (connect-go, connect-es, parley's
 * {@linkcode connectHandler}) by wire name, unary calls with `call` and
 * streaming calls (server, client, and bidi where fetch is full duplex)
 * with `openStream` (`_client_stream.ts`).
 *
 * A reply is a result only when it is one: HTTP 200 with the call's media
 * type (`application/proto` or `application/json`, parameters allowed) and a
 * body that decodes. Anything else, such as a gRPC server's answer
 * (`application/grpc`, `grpc-status` in the headers, an empty body that
 * would read as proto3's defaults), rejects with a `ConnectError` that says
 * what came back.
 *
 * @module
 */

import type { ProtoSchema } from "../../codecs/protobuf/schema.ts";
import { unwritten } from "../../rpc/_call_headers.ts";
import { ProtocolError, TimeoutError } from "../../rpc/errors.ts";
import type { CallOptions } from "../../rpc/client.ts";
import type { RpcParams, RpcStream } from "../../rpc/types.ts";
import { installed, type Interceptor } from "../../rpc/interceptors.ts";
import { interceptCall } from "../../rpc/interceptors_client.ts";
import { BodyTooLargeError, gzipStream, readMessageBody } from "./_compress.ts";
import { noReply } from "../../rpc/transports/http/_no_reply.ts";
import { type ConnectFormat, encodeBody, MAX_TIMEOUT_MS, mediaTypeOf } from "./_wire.ts";
import { readReply } from "./_reply.ts";
import {
  type ConnectResponseMetadata,
  type ConnectStreamOptions,
  openConnectStream,
} from "./_client_stream.ts";

export type { ConnectResponseMetadata, ConnectStreamOptions };

/** Options of {@linkcode connectClient}. */
export interface ConnectClientOptions {
  /** The services' schema, from `loadProto`. */
  readonly schema: ProtoSchema;
  /** `"proto"` (the default, `application/proto`) or `"json"` (`application/json`). */
  readonly format?: ConnectFormat;
  /** Headers sent with every call (authorization, say). */
  readonly headers?: HeadersInit;
  /** Milliseconds before a call gives up, sent as `Connect-Timeout-Ms`; none by default. */
  readonly timeout?: number;
  /** The `fetch` to use; the global one by default (pass one with a TLS client for private CAs). */
  readonly fetch?: typeof fetch;
  /**
   * Largest response body in bytes, after decompression, and largest
   * message of a streaming reply; 16 MiB by default.
   */
  readonly maxBodySize?: number;
  /** Request bodies (and request messages of streams) larger than this many bytes are sent gzipped; off by default. */
  readonly compressThreshold?: number;
  /**
   * Run around every unary call, the first outermost (see
   * `rpc/interceptors.ts`): what they leave in `call.metadata` is sent as
   * the call's headers. Streaming calls do not run through them yet.
   */
  readonly interceptors?: readonly Interceptor[];
}

/**
 * Per-call options: every client's {@linkcode CallOptions} (the timeout is
 * sent as `Connect-Timeout-Ms`), and headers for this call only.
 *
 * @example
 * ```ts
 * import type { ConnectCallOptions } from "./client.ts";
 *
 * const options: ConnectCallOptions = { timeout: 5_000, headers: { "x-trace": "1" } };
 * console.assert(options.timeout === 5_000);
 * ```
 */
export interface ConnectCallOptions extends CallOptions {
  /** Headers for this call only. */
  readonly headers?: HeadersInit;
  /** Told the reply's headers and trailers (its `trailer-` headers) when a reply came. */
  readonly onMetadata?: (metadata: ConnectResponseMetadata) => void;
}

/**
 * A Connect client: calls by wire name, request and response as plain messages.
 *
 * Not an `RpcClient`: Connect's unary calls have no notifications
 * and no batches, and its methods are named `package.Service/Method`, which
 * a property of the shared proxy cannot spell; the typed client of one
 * service is `protoClient(client, schema, "package.Service")`, over `call`.
 */
export interface ConnectClient extends AsyncDisposable {
  /** The base URL the method paths are appended to. */
  readonly baseUrl: string;
  /**
   * Calls a unary method.
   *
   * @param method the wire name, such as `"interop.Calculator/Add"`
   * @param params the request message (or an array holding it)
   * @param options timeout, abort signal, headers
   * @returns the response message
   * @throws {ConnectError} the server's error (code, message, details); or a
   * reply that is not a Connect reply of the call's format, never read as a
   * message: an error status without a Connect error body (the status's code,
   * `unavailable` for 503), another media type than the call's (`unknown`; the
   * other Connect format, `internal`), a body that does not decode
   * (`internal`). Its message names the URL, the HTTP status, the content
   * type, `grpc-status` and `grpc-message` when present (a gRPC server's
   * reply), and the start of the body
   * @throws {ConnectionClosedError} when no HTTP reply arrived (refused, reset,
   * a server that does not speak the HTTP version fetch uses, such as a gRPC
   * server without TLS); its cause is fetch's error
   * @throws {ProtocolError} for a reply larger than `maxBodySize`
   * @throws {TimeoutError} when the timeout passed first
   * @throws {TypeError} for an unknown method or a request that does not fit its type
   */
  call<T = unknown>(method: string, params?: RpcParams, options?: ConnectCallOptions): Promise<T>;
  /**
   * Makes a streaming call (`application/connect+proto` or `+json`): the
   * request message, or the caller's messages (`options.input`, sent as a
   * streaming body as fetch takes them); the reply's messages as the loop
   * reads them. Leaving the loop early, the timeout (also sent as
   * `Connect-Timeout-Ms`) or the signal aborts the fetch. A bidi call needs
   * a full-duplex fetch (Deno's is, over HTTP/1.1 and HTTP/2; browsers'
   * is not).
   *
   * @param method the wire name, such as `"interop.Calculator/Range"`
   * @param params the request message, for a method whose request does not stream
   * @param options the caller's messages, timeout, signal, headers, `onMetadata`
   * @returns the reply's messages, and the result: the one reply message of
   *   a client-streaming method, `null` once a server stream has ended
   * @throws {TypeError} for an unknown or unary method, or a request message
   *   that does not fit its type
   */
  openStream(method: string, params?: RpcParams, options?: ConnectStreamOptions): RpcStream;
  /** Aborts the calls in flight. */
  close(): Promise<void>;
}

/**
 * Creates a Connect client for the server at `baseUrl` (the part before
 * `/package.Service/Method`, such as `http://127.0.0.1:8080`).
 *
 * @param baseUrl the server's base URL
 * @param options the schema, the format, headers, timeout
 * @returns the client
 *
 * @example Calling a Connect server (here parley's own handler)
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoService } from "../../codecs/protobuf.ts";
 * import { connectClient, connectHandler } from "../connect.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Name { string name = 1; }
 *   service Greeter { rpc Greet(Name) returns (Name); }
 * `);
 * const handler = connectHandler({
 *   schema,
 *   service: protoService(schema, "demo.Greeter", {
 *     Greet: ({ name }: { name: string }) => ({ name: `Hello, ${name}` }),
 *   }),
 * });
 * await using server = Deno.serve({ port: 0, onListen() {} }, handler);
 * await using client = connectClient(`http://localhost:${server.addr.port}`, {
 *   schema,
 *   format: "json",
 * });
 * assert.deepEqual(await client.call("demo.Greeter/Greet", { name: "Ada" }), {
 *   name: "Hello, Ada",
 * });
 * ```
 *
 * @example Streaming calls: a server stream, and a client stream fed by it
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoClient, protoService } from "../../codecs/protobuf.ts";
 * import { connectClient, connectHandler } from "../connect.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message N { int64 n = 1; }
 *   service Counter {
 *     rpc Count(N) returns (stream N);
 *     rpc Total(stream N) returns (N);
 *   }
 * `);
 * type Counter = {
 *   Count(request: { n: bigint }): AsyncIterable<{ n: bigint }>;
 *   Total(requests: AsyncIterable<{ n: bigint }>): { n: bigint };
 * };
 * const service = protoService<Counter>(schema, "demo.Counter", {
 *   Count: async function* ({ n }) {
 *     for (let i = 1n; i <= n; i++) yield { n: i };
 *   },
 *   Total: async (requests) => {
 *     let n = 0n;
 *     for await (const request of requests) n += request.n;
 *     return { n };
 *   },
 * });
 * await using server = Deno.serve({ port: 0, onListen() {} }, connectHandler({ schema, service }));
 * await using client = connectClient(`http://localhost:${server.addr.port}`, { schema });
 * const counter = protoClient<Counter>(client, schema, "demo.Counter");
 * const seen = [];
 * for await (const { n } of counter.Count({ n: 3n })) seen.push(n);
 * assert.deepEqual(seen, [1n, 2n, 3n]);
 * assert.deepEqual(await counter.Total(counter.Count({ n: 4n })), { n: 10n });
 * ```
 */
export function connectClient(baseUrl: string, options: ConnectClientOptions): ConnectClient {
  const base = baseUrl.replace(/\/+$/, "");
  const { schema } = options;
  const format = options.format ?? "proto";
  const doFetch = options.fetch ?? fetch;
  const maxBodySize = options.maxBodySize ?? 16 * 1024 * 1024;
  const compressThreshold = options.compressThreshold ?? Infinity;
  const inFlight = new Set<AbortController>();
  // Every unary POST's own headers as a plain record, made once: fetch
  // copies a record faster than a `Headers` (its conversion was ~5% of a call).
  const fixed: Record<string, string> = {
    ...Object.fromEntries(new Headers(options.headers)),
    "content-type": mediaTypeOf(format),
    "connect-protocol-version": "1",
  };

  const send = async <T>(
    name: string,
    params?: RpcParams,
    callOptions: ConnectCallOptions = {},
  ): Promise<T> => {
    const method = schema.unary(name);
    if (Array.isArray(params) && params.length > 1) {
      throw new TypeError(
        `${name} takes one ${method.request.name} message, not ${params.length} params`,
      );
    }
    const request = Array.isArray(params) ? params[0] ?? {} : params ?? {};
    let body: Uint8Array = encodeBody(method.request, request, format);
    const gzip = body.length > compressThreshold;
    if (gzip) body = await new Response(gzipStream(body)).bytes();
    const timeout = callOptions.timeout ?? options.timeout;
    const timed = timeout !== undefined && timeout !== Infinity;
    const headers = postHeaders(fixed, callOptions.headers, gzip, timed ? timeout : undefined);
    const controller = new AbortController();
    const timer = timed
      ? setTimeout(() => controller.abort(new TimeoutError(name, timeout)), timeout)
      : undefined;
    const signal = callOptions.signal;
    signal?.throwIfAborted();
    const onAbort = () => controller.abort(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    inFlight.add(controller);
    try {
      const url = `${base}/${method.name}`;
      let response: Response;
      let bytes: Uint8Array;
      try {
        response = await doFetch(url, {
          method: "POST",
          headers,
          body: body as Uint8Array<ArrayBuffer>,
          signal: controller.signal,
        });
        // fetch asks for compressed replies and inflates them itself.
        bytes = await readMessageBody(response, maxBodySize, false);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          throw new ProtocolError(`The reply of ${name} exceeds ${maxBodySize} bytes`, {
            cause: error,
          });
        }
        // fetch's own failures are TypeErrors; others (a CertificateError
        // from tlsClient's fetch, say) already say what happened.
        if (controller.signal.aborted || !(error instanceof TypeError)) throw error;
        throw noReply(url, error);
      }
      callOptions.onMetadata?.(responseMetadata(response.headers));
      return readReply(response, bytes, { url, format, type: method.response, schema }) as T;
    } catch (error) {
      throw controller.signal.aborted ? controller.signal.reason : error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      inFlight.delete(controller);
    }
  };

  const interceptors = installed(options.interceptors);
  const call = interceptors === undefined
    ? send
    : <T>(name: string, params?: RpcParams, callOptions: ConnectCallOptions = {}) =>
      interceptCall(interceptors, name, params, callOptions, send) as Promise<T>;

  const close = (): Promise<void> => {
    for (const controller of inFlight) controller.abort(new ProtocolError("The client was closed"));
    return Promise.resolve();
  };
  const streams = {
    base,
    schema,
    format,
    fetch: doFetch,
    headers: options.headers,
    timeout: options.timeout,
    maxMessageSize: maxBodySize,
    compressThreshold,
    inFlight,
    noReply,
  };
  const openStream = (name: string, params?: RpcParams, callOptions: ConnectStreamOptions = {}) =>
    openConnectStream(streams, name, params, callOptions);
  return { baseUrl: base, call, openStream, close, [Symbol.asyncDispose]: close };
}

// A unary reply's headers, and its trailers from the `trailer-` headers.
function responseMetadata(received: Headers): ConnectResponseMetadata {
  const headers = new Headers();
  const trailers = new Headers();
  for (const [name, value] of received) {
    if (name.startsWith("trailer-")) trailers.append(name.slice(8), value);
    else headers.append(name, value);
  }
  return { headers, trailers };
}

// A unary POST's headers: `fixed` itself, unless the call brings headers
// of its own (over the client's, under the protocol's), a gzipped body or
// a timeout.
function postHeaders(
  fixed: Record<string, string>,
  own: HeadersInit | undefined,
  gzip: boolean,
  timeout: number | undefined,
): Record<string, string> {
  const written = own !== undefined && !(own instanceof Headers && unwritten(own));
  if (!written && !gzip && timeout === undefined) return fixed;
  const headers = { ...fixed };
  if (written) new Headers(own).forEach((value, key) => headers[key] = value);
  headers["content-type"] = fixed["content-type"]!;
  headers["connect-protocol-version"] = "1";
  if (gzip) headers["content-encoding"] = "gzip";
  if (timeout !== undefined) {
    headers["connect-timeout-ms"] = String(
      Math.max(1, Math.min(Math.ceil(timeout), MAX_TIMEOUT_MS)),
    );
  }
  return headers;
}
