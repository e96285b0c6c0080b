/**
 * gRPC's server side over HTTP/2, all four kinds of call, on `node:http2`
 * (Deno's `Deno.serve` cannot send trailers: docs/grpc.md, "What the
 * runtime offers"): the server, its connections' guards and its shutdown.
 * Each stream is one call, served by `_server_call.ts` (then
 * `_unary_call.ts` or `_stream_call.ts`).
 *
 * @module
 */

import http2 from "node:http2";
import type { ProtoSchema } from "../../../codecs/protobuf.ts";
import { createDispatcher } from "../../dispatch.ts";
import { resolveLimits, type RpcLimits } from "../../limits.ts";
import type { Service } from "../../service.ts";
import type { RpcErrorObject } from "../../types.ts";
import type { StatusOptions } from "../../../protocols/grpc/_status.ts";
import type { GrpcCallMetadata } from "./metadata.ts";
import { guardConnections } from "./_guard.ts";
import { serveCall } from "./_server_call.ts";
import type { ServerContext } from "./_call_parts.ts";
import { resolveMaxConnections } from "../_accept.ts";

/** Options of {@linkcode serveGrpc}. */
export interface ServeGrpcOptions {
  /** The address to bind; `127.0.0.1` by default. */
  readonly hostname?: string;
  /** The port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** A PEM certificate chain: with `key`, serve TLS with ALPN `h2` (grpcs). */
  readonly cert?: string;
  /** The PEM private key of `cert`. */
  readonly key?: string;
  /** The services' schema, from `loadProto`. */
  readonly schema: ProtoSchema;
  /** What is served, keyed by wire name (`interop.Calculator/Add`): `protoService` makes one. */
  readonly service: Service;
  /**
   * The full name of the message type that an `RpcError`'s `data` travels as,
   * the one detail of `grpc-status-details-bin` (the calculator's
   * `"interop.InvalidOperation"`).
   */
  readonly errorDetails?: string;
  /**
   * The gRPC status of an application error (an `RpcError` whose code is
   * not one of parley's): 2 UNKNOWN when absent or when it returns
   * `undefined`. A handler may also throw a `ConnectError`: its code is the
   * status.
   */
  readonly errorStatus?: (error: RpcErrorObject) => number | undefined;
  /**
   * `maxFrameSize` bounds each request message (larger: 8
   * RESOURCE_EXHAUSTED, refused from its length prefix), `maxInFlight` the
   * calls running across connections (streaming ones until they end);
   * `firstFrameTimeout` is how long a connection may go before its first
   * stream, and a unary or server-streaming request before its first body
   * bytes, `idleTimeout` how long a connection may have no stream open, a
   * request body (a request stream too, its first message included) may
   * stall between chunks while the handler waits for it, and a streaming
   * reply may wait for a client that reads nothing (past these: GOAWAY and
   * close; a call, 4 DEADLINE_EXCEEDED; a stalled reply, RST_STREAM).
   */
  readonly limits?: Partial<RpcLimits>;
  /**
   * Streams one connection may have open at once (HTTP/2's SETTINGS); 100 by
   * default. A peer that opens more loses its connection (GOAWAY).
   */
  readonly maxConcurrentStreams?: number;
  /** Connections open at once; more are closed as they arrive. 10,000 by default. */
  readonly maxConnections?: number;
  /**
   * Streams a connection's peer may reset (cancel) in one second; past it
   * the connection gets GOAWAY ENHANCE_YOUR_CALM and is closed (the "rapid
   * reset" attack, CVE-2023-44487). 200 by default.
   */
  readonly maxStreamResets?: number;
  /**
   * The server's own pings: every `interval` ms, and a peer that has not
   * answered within `timeout` ms is dead (GOAWAY, closed). Off by default;
   * the server always answers the client's pings.
   */
  readonly keepAlive?: { readonly interval: number; readonly timeout: number };
  /**
   * Replies at least this many bytes long are sent gzipped to clients whose
   * `grpc-accept-encoding` lists gzip; 1024 by default (`Infinity`: never).
   */
  readonly compressThreshold?: number;
  /**
   * Called as each call arrives, before anything is checked: it may read
   * the request's metadata and set the reply's headers and trailers, which
   * every reply carries, early errors included (the calculator's
   * `x-request-tag` echo). Handlers reach the same object through
   * `callMetadata(ctx)`.
   */
  readonly onCall?: (metadata: GrpcCallMetadata) => void;
  /** Send the message of unexpected handler errors (development only). */
  readonly exposeErrors?: boolean;
  /** Told about handler errors and broken connections. */
  readonly onError?: (error: unknown) => void;
}

/** A running gRPC server. */
export interface GrpcServer {
  /** The address bound (the real port when 0 was asked for). */
  readonly addr: { readonly hostname: string; readonly port: number };
  /** `grpc://host:port`, or `grpcs://` with TLS. */
  readonly url: string;
  /**
   * Graceful shutdown: no new connections, GOAWAY on the open ones (no new
   * calls), the calls in flight finish; then resolves.
   */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
  /** Shuts down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Serves protobuf services over gRPC (HTTP/2, cleartext with prior
 * knowledge, or TLS with ALPN `h2` when `cert` and `key` are given):
 * `POST /package.Service/Method`, `application/grpc`, length-prefixed
 * messages, `grpc-status` and `grpc-message` in trailers. Unary calls, and
 * the three kinds of streaming call of `protoService` handlers: a handler
 * that returns an async iterable streams its replies (sent as the client
 * reads them), one that reads `ctx.input` (its first argument, through
 * `protoService`) gets the request stream at its own pace. An unknown
 * method is 12 UNIMPLEMENTED, a request that does not decode 3
 * INVALID_ARGUMENT, a message over `maxFrameSize` 8 RESOURCE_EXHAUSTED;
 * errors before any reply message are trailers-only replies, after some a
 * status in the trailers. `grpc-timeout` is the handler's deadline (its
 * signal fires; the call answers 4 DEADLINE_EXCEEDED), and a client's
 * RST_STREAM (cancel) fires the signal; either stops a streaming handler's
 * iterator (its `finally` runs).
 *
 * @param options the address, the schema, the service, error mapping, limits
 * @returns the running server
 * @throws {TypeError} when only one of `cert` and `key` is given
 *
 * @example A unary call with node:http2 as the client
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { Buffer } from "node:buffer";
 * import { loadProto, protoService } from "../../../codecs/protobuf.ts";
 * import { serveGrpc } from "./server.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Name { string name = 1; }
 *   service Greeter { rpc Greet(Name) returns (Name); }
 * `);
 * const service = protoService(schema, "demo.Greeter", {
 *   Greet: ({ name }: { name: string }) => ({ name: `Hello, ${name}` }),
 * });
 * await using server = await serveGrpc({ schema, service });
 * const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
 * const call = session.request({
 *   ":method": "POST",
 *   ":path": "/demo.Greeter/Greet",
 *   "content-type": "application/grpc",
 *   "te": "trailers",
 * });
 * const message = schema.message("demo.Name").encode({ name: "Ada" });
 * call.end(new Uint8Array([0, 0, 0, 0, message.length, ...message]));
 * const closed = new Promise((resolve) => call.on("close", resolve));
 * const chunks: Buffer[] = [];
 * call.on("data", (chunk: Buffer) => chunks.push(chunk));
 * const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve) =>
 *   call.on("trailers", resolve)
 * );
 * await closed;
 * session.close();
 * assert.equal(trailers["grpc-status"], "0");
 * const reply = Buffer.concat(chunks).subarray(5);
 * assert.deepEqual(schema.message("demo.Name").decode(reply), { name: "Hello, Ada" });
 * ```
 */
export async function serveGrpc(options: ServeGrpcOptions): Promise<GrpcServer> {
  const { schema } = options;
  const dispatch = createDispatcher(options.service);
  const { maxInFlight, maxFrameSize, firstFrameTimeout, idleTimeout } = resolveLimits(
    options.limits,
  );
  const onError = options.onError ?? (() => {});
  const statusOptions: StatusOptions = {
    schema,
    exposeErrors: options.exposeErrors ?? false,
    onError,
    ...(options.errorDetails === undefined ? {} : { errorDetails: options.errorDetails }),
    ...(options.errorStatus === undefined ? {} : { errorStatus: options.errorStatus }),
  };
  const compressThreshold = options.compressThreshold ?? 1024;
  const settings = { maxConcurrentStreams: options.maxConcurrentStreams ?? 100 };
  const tls = options.cert !== undefined || options.key !== undefined;
  if (tls && (options.cert === undefined || options.key === undefined)) {
    throw new TypeError("serveGrpc: TLS needs both cert and key");
  }
  const server = tls
    ? http2.createSecureServer({ cert: options.cert, key: options.key, settings })
    : http2.createServer({ settings });
  guardConnections(server, {
    maxConnections: resolveMaxConnections(options.maxConnections),
    maxStreamResets: resolveMaxConnections(options.maxStreamResets ?? 200, "maxStreamResets"),
    firstFrameTimeout,
    idleTimeout,
    onError,
    ...(options.keepAlive === undefined ? {} : { keepAlive: options.keepAlive }),
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  const context: ServerContext = {
    schema,
    dispatch,
    maxFrameSize,
    maxInFlight,
    firstFrameTimeout,
    idleTimeout,
    compressThreshold,
    statusOptions,
    onCall: options.onCall,
    onError,
    calls: { inFlight: 0 },
  };

  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    // A broken or hostile connection ends alone; the server keeps serving.
    session.on("error", onError);
  });
  server.on("sessionError", onError);
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    serveCall(stream, headers, context);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.hostname ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", onError);
  const bound = server.address() as { address: string; port: number };
  const addr = { hostname: bound.address, port: bound.port };
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const finished = new Promise<void>((resolve) => server.once("close", () => resolve()));
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      server.close();
      // GOAWAY: each session refuses new streams, closes once its calls are answered.
      for (const session of sessions) session.close();
      await finished;
    })();
  return {
    addr,
    url: `${tls ? "grpcs" : "grpc"}://${host}:${addr.port}`,
    shutdown,
    finished,
    [Symbol.asyncDispose]: shutdown,
  };
}
