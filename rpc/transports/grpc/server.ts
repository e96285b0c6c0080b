/**
 * gRPC's server side over HTTP/2, all four kinds of call, on parley's own
 * HTTP/2 (`serveHttp2`, rpc/transports/http2/: Deno's `Deno.serve` cannot
 * send trailers, and its `node:http2` is slow and can abort the process:
 * docs/grpc.md, "What the runtime offers"). HTTP/2 guards the connections
 * (their number, rapid resets, silent and idle ones, pings); each stream is
 * one call, served by `_server_call.ts` (then `_unary_call.ts` or
 * `_stream_call.ts`).
 *
 * @module
 */

import type { ProtoSchema } from "../../../codecs/protobuf.ts";
import { createDispatcher } from "../../dispatch.ts";
import { installed, interceptDispatch, type Interceptor } from "../../interceptors.ts";
import { resolveLimits, type RpcLimits } from "../../limits.ts";
import type { Service } from "../../service.ts";
import type { RpcErrorObject } from "../../types.ts";
import type { StatusOptions } from "../../../protocols/grpc/_status.ts";
import type { GrpcCallMetadata } from "./metadata.ts";
import { serveCall } from "./_server_call.ts";
import { trailersOnly } from "./_respond.ts";
import { LazyMetadata } from "./metadata.ts";
import type { Connection, ConnectionScope, ContextFunction } from "../../connection.ts";
import type { ServerContext } from "./_call_parts.ts";
import { Waits } from "./_watch.ts";
import { resolveMaxConnections } from "../_accept.ts";
import { serveHttp2, type ServeHttp2Options } from "../http2/server.ts";
import { serveHttp2MutualTls } from "../http2/_mtls_server.ts";
import type { KeepAlive } from "../http2/_guard.ts";

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
  /**
   * Mutual TLS: the CAs (PEM text) whose client certificates are accepted
   * (with `cert` and `key`). Every client must present a certificate that
   * one of them signed, within its dates; its verified identity is
   * `connectionOf(ctx).peerCertificate` in every call of the connection, and
   * `context` gets it. A refused client (no certificate, an expired one,
   * another CA's) is told to `onError` as a `ClientCertificateError` with
   * its `reason`, and its socket is closed right after the TLS handshake,
   * before any HTTP/2: it sees the connection fail (14 UNAVAILABLE).
   */
  readonly clientCa?: readonly string[];
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
   * default. A peer that opens more has each extra stream refused
   * (RST_STREAM REFUSED_STREAM).
   */
  readonly maxConcurrentStreams?: number;
  /** Connections open at once; more are closed as they arrive. 10,000 by default. */
  readonly maxConnections?: number;
  /**
   * Streams a connection's peer may reset (cancel), or have refused, in one
   * second; past it the connection gets GOAWAY ENHANCE_YOUR_CALM and is
   * closed (the "rapid reset" attack, CVE-2023-44487). 200 by default.
   */
  readonly maxStreamResets?: number;
  /**
   * The server's own pings: every `interval` ms, and a peer that has not
   * answered within `timeout` ms is dead (GOAWAY, closed). Off by default;
   * the server always answers the client's pings.
   */
  readonly keepAlive?: KeepAlive;
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
  /**
   * Run around every call's handler, the first outermost (see
   * `rpc/interceptors.ts`); their `metadata` is the call's gRPC metadata.
   */
  readonly interceptors?: readonly Interceptor[];
  /**
   * Builds the context of each HTTP/2 connection, once, from its
   * {@linkcode Connection} (transport `grpc`, addresses); handlers read it
   * through `typedContext` (rpc/connection.ts). Per-call credentials travel
   * in metadata: read them in an interceptor. What it throws answers every
   * call on the connection with 16 UNAUTHENTICATED, and is told to `onError`.
   */
  readonly context?: ContextFunction;
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
 * @throws {TypeError} when only one of `cert` and `key` is given, or
 *   `clientCa` without them or empty
 *
 * @example A unary call from Python's grpcio, or any gRPC client; here the raw bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoService } from "../../../codecs/protobuf.ts";
 * import { connectHttp2 } from "../http2.ts";
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
 * await using http = connectHttp2(`http://127.0.0.1:${server.addr.port}`);
 * const call = http.request({
 *   ":method": "POST",
 *   ":path": "/demo.Greeter/Greet",
 *   "content-type": "application/grpc",
 *   "te": "trailers",
 * });
 * const message = schema.message("demo.Name").encode({ name: "Ada" });
 * call.write(new Uint8Array([0, 0, 0, 0, message.length, ...message]));
 * call.end();
 * const [chunk] = await Array.fromAsync(call);
 * assert.equal(call.trailers?.["grpc-status"], "0");
 * assert.deepEqual(schema.message("demo.Name").decode(chunk!.subarray(5)), { name: "Hello, Ada" });
 * ```
 */
export function serveGrpc(options: ServeGrpcOptions): Promise<GrpcServer> {
  return startGrpc(options);
}

// Stream windows smaller than HTTP/2's default here: a reader that stops holds
// at most this much of a stream in flight (gRPC messages are small; the
// connection's window is HTTP/2's 4 MiB).
const STREAM_WINDOW = 256 * 1024;

async function startGrpc(options: ServeGrpcOptions): Promise<GrpcServer> {
  const { schema } = options;
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new TypeError("serveGrpc: TLS needs both cert and key");
  }
  if (options.clientCa !== undefined && options.cert === undefined) {
    throw new TypeError("serveGrpc: clientCa (mutual TLS) needs cert and key");
  }
  const dispatch = interceptDispatch(
    createDispatcher(options.service),
    installed(options.interceptors),
  );
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
  // Eight sweeps per timeout: a stalled body is answered at most a quarter of it late.
  const waits = new Waits(Math.min(firstFrameTimeout, idleTimeout) / 8);
  const context: ServerContext = {
    schema,
    dispatch,
    maxFrameSize,
    maxInFlight,
    firstFrameTimeout,
    idleTimeout,
    waits,
    compressThreshold: options.compressThreshold ?? 1024,
    statusOptions,
    onCall: options.onCall,
    onError,
    calls: { inFlight: 0 },
  };
  // One scope per HTTP/2 connection; a context still being built is shared by its streams.
  const scopes = new WeakMap<Connection, ConnectionScope | Promise<ConnectionScope>>();
  const scopeOf = (info: Connection): ConnectionScope | Promise<ConnectionScope> => {
    let scope = scopes.get(info);
    if (scope === undefined) {
      const connection: Connection = { ...info, transport: "grpc" };
      const build = options.context;
      scope = build === undefined
        ? { connection }
        : Promise.resolve().then(() => build(connection)).then((built) => ({
          connection,
          context: built,
        }));
      if (scope instanceof Promise) scope.catch(onError);
      scopes.set(info, scope);
    }
    return scope;
  };
  const http2: ServeHttp2Options = {
    ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.cert === undefined ? {} : { cert: options.cert }),
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(options.keepAlive === undefined ? {} : { keepAlive: options.keepAlive }),
    maxConcurrentStreams: options.maxConcurrentStreams ?? 100,
    maxConnections: resolveMaxConnections(options.maxConnections),
    maxResetsPerSecond: resolveMaxConnections(options.maxStreamResets ?? 200, "maxStreamResets"),
    firstFrameTimeout,
    idleTimeout,
    initialWindowSize: STREAM_WINDOW,
    onError,
    onStream: (stream, info) => {
      const scope = scopeOf(info);
      if (!(scope instanceof Promise)) return serveCall(stream, context, scope);
      return scope.then(
        (ready) => serveCall(stream, context, ready),
        (error) =>
          trailersOnly(stream, {
            code: 16,
            message: `Unauthenticated: ${(error as Error)?.message ?? error}`,
          }, new LazyMetadata(stream.headers)),
      );
    },
  };
  const server = options.clientCa === undefined ? serveHttp2(http2) : await serveHttp2MutualTls({
    ...http2,
    cert: options.cert!,
    key: options.key!,
    clientCa: options.clientCa,
  });
  const finished = server.finished.then(() => waits.stop());
  const shutdown = async () => {
    // GOAWAY: each connection refuses new streams, closes once its calls are answered.
    await server.shutdown();
    waits.stop();
  };
  return {
    addr: server.addr,
    url: server.url.replace(/^http(s?):/, "grpc$1:"),
    shutdown,
    finished,
    [Symbol.asyncDispose]: shutdown,
  };
}
