// The options and the running server of serveHttp (./server.ts), which
// re-exports them.

import type { RpcLimits } from "../../limits.ts";
import type { Interceptor } from "../../interceptors.ts";
import type { ContextFunction } from "../../connection.ts";
import type { Authenticate } from "./_auth.ts";
import type { Service } from "../../service.ts";
import type { Codec } from "../../types.ts";
import type { WebSocketRouteOptions } from "./_websocket.ts";

/** One endpoint of `serveHttp`: a codec and the service it serves. */
export interface HttpRoute {
  /** How bodies become messages; its `mediaType` is the accepted Content-Type. */
  readonly codec: Codec;
  /** What this path serves. */
  readonly service: Service;
  /** Further accepted Content-Types (without parameters), e.g. `application/json-rpc`. */
  readonly mediaTypes?: readonly string[];
  /** Limits; `maxInFlight` counts the calls running on this route across requests. */
  readonly limits?: Partial<RpcLimits>;
  /** Send the message and stack of unexpected handler errors (development only). */
  readonly exposeErrors?: boolean;
  /**
   * Run around every call this route serves, POSTed or over its WebSocket,
   * the first outermost (see `rpc/interceptors.ts`).
   */
  readonly interceptors?: readonly Interceptor[];
  /**
   * Builds the context of each POST (from its connection and request) and
   * of each WebSocket connection (once, from its handshake), which handlers
   * read through `typedContext` (see `rpc/connection.ts`). What it throws
   * refuses: 401, or 403 when the error has `status: 403`.
   */
  readonly context?: ContextFunction;
  /**
   * The status of a POST that needs no reply (notifications only, Thrift's
   * oneway calls): 204 by default; 200 with an empty body for protocols whose
   * clients accept nothing else (Apache Thrift's HTTP clients).
   */
  readonly noReplyStatus?: 200 | 204;
  /**
   * Also accept WebSocket connections on this path (a `GET` with
   * `Upgrade: websocket`): one message per frame, calls both ways.
   */
  readonly websocket?: boolean | WebSocketRouteOptions;
}

/** Options of `serveHttp`. */
export interface ServeHttpOptions {
  /** The endpoints by path, such as `{ "/rpc": {...}, "/RPC2": {...} }`. */
  readonly routes: Readonly<Record<string, HttpRoute>>;
  /** Interface to listen on; `127.0.0.1` by default. */
  readonly hostname?: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  readonly port?: number;
  /**
   * The certificate chain as PEM text (the server's certificate first): with
   * `key`, the routes are served over https:// and wss://.
   */
  readonly cert?: string;
  /** The certificate's private key as PEM text, with `cert`. */
  readonly key?: string;
  /**
   * With WebSocket routes: milliseconds for the head of each connection's
   * first request to arrive whole (a slow handshake gets 408);
   * `DEFAULT_LIMITS.headerTimeout` (10 s) by default.
   */
  readonly headerTimeout?: number;
  /** Largest request body in bytes, after decompression; 16 MiB by default. */
  readonly maxBodySize?: number;
  /** Replies larger than this many bytes are gzipped for clients that accept it; 1024 by default. */
  readonly compressThreshold?: number;
  /**
   * Runs before anything is read or dispatched; `false` (or `null`,
   * `undefined`) answers 401. Receives the request with its headers (the
   * body is not read yet). Any other truthy value than `true` is the
   * caller's principal, which handlers and interceptors read with
   * `principalOf(ctx)`.
   */
  readonly authenticate?: Authenticate;
  /**
   * Most WebSocket connections open at once, over every route; 10,000 by
   * default. An upgrade beyond it is answered 503, and `onError` is told (a
   * `LimitError`, once per episode). Plain HTTP connections have no such
   * limit: `Deno.serve` neither counts nor exposes them.
   */
  readonly maxWebSockets?: number;
  /** The `WWW-Authenticate` header of a 401; `Basic realm="parley"` by default. */
  readonly wwwAuthenticate?: string;
  /** Told about handler errors, bad frames and failed requests. */
  readonly onError?: (error: unknown) => void;
  /**
   * Request handlers by path prefix (such as `"/"` or `"/api/"`), for
   * protocols that route by path themselves: the Connect protocol's
   * `connectHandler` serves `/package.Service/Method`. A request whose path
   * is not a route goes to the handler of the longest prefix of its path,
   * after `authenticate`.
   */
  readonly handlers?: Readonly<Record<string, (request: Request) => Response | Promise<Response>>>;
  /**
   * Answers requests for paths that are neither routes nor under a handler
   * (static files, a web page); 404 when absent.
   */
  readonly fallback?: (request: Request) => Response | Promise<Response>;
}

/**
 * Options of `serveHttp` over mutual TLS: HTTPS and WSS for
 * clients with a certificate from `clientCa` only.
 */
export interface ServeHttpMutualTlsOptions extends ServeHttpOptions {
  /** The server's certificate chain as PEM text. */
  readonly cert: string;
  /** Its private key as PEM text. */
  readonly key: string;
  /**
   * The CAs (PEM text) whose client certificates are accepted. A client
   * without one, with another CA's or with an expired one is closed after
   * its handshake, and `onError` is told why (a `ClientCertificateError`,
   * see `rpc/transports/mtls.ts`). Handlers, interceptors and routes'
   * `context` read the verified certificate as
   * `connectionOf(ctx).peerCertificate`. `headerTimeout` bounds the TLS
   * handshake too.
   */
  readonly clientCa: readonly string[];
  /**
   * Most client connections open at once, verified or in their handshake;
   * 10,000 by default. More are closed as they arrive, `onError` told once
   * per episode.
   */
  readonly maxConnections?: number;
}

/** A running HTTP server. */
export interface HttpServer {
  /** The address bound (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /**
   * The origin, such as `http://127.0.0.1:40123` (`https://` with `cert` and
   * `key`); append a route's path.
   */
  readonly url: string;
  /**
   * Graceful shutdown: stops accepting connections and requests, lets the
   * requests in flight finish, then resolves.
   */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
  /** Shuts down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
