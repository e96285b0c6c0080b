/**
 * The HTTP server: `Deno.serve`, routes by path, each request body one
 * frame answered by the route's {@linkcode Responder}.
 *
 * @module
 */

import { resolveMaxConnections } from "../_accept.ts";
import { serveListening } from "./_listen.ts";
import { DEFAULT_LIMITS, type RpcLimits } from "../../limits.ts";
import type { Interceptor } from "../../interceptors.ts";
import { attachRequestScope, type Connection, type ContextFunction } from "../../connection.ts";
import { admit, type Authenticate, refused } from "./_auth.ts";
import { createResponder } from "../../responder.ts";
import type { Service } from "../../service.ts";
import type { Codec } from "../../types.ts";
import { essence } from "./_body.ts";
import { answerPost, plain, type PostRoute } from "./_post.ts";
import { listenFront } from "./_front.ts";
import { serveMutualTls } from "./_serve_mtls.ts";
import {
  wantsWebSocket,
  type WebSocketRouteOptions,
  webSocketRoutes,
  type WebSocketServing,
} from "./_websocket.ts";

export type { WebSocketRequest, WebSocketRouteOptions } from "./_websocket.ts";
export type { Authenticate } from "./_auth.ts";

/** One endpoint of {@linkcode serveHttp}: a codec and the service it serves. */
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

/** Options of {@linkcode serveHttp}. */
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
 * Options of {@linkcode serveHttp} over mutual TLS: HTTPS and WSS for
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

/**
 * Serves services over HTTPS and WSS to clients with a certificate from
 * `clientCa` only (mutual TLS): as the other form, but asynchronous, since
 * the TLS listener (node:tls; Deno.serve cannot ask for client
 * certificates) binds asynchronously. A client without a certificate, with
 * another CA's or an expired one is closed after its handshake and
 * `onError` is told why; handlers read the verified certificate as
 * `connectionOf(ctx).peerCertificate`.
 *
 * @param options the routes, the certificates and the client CAs
 * @returns the running server, once it listens
 *
 * @example Who is calling, by the certificate it showed
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectHttp, serveHttp } from "../http.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 * import { connectionOf } from "../../connection.ts";
 * import { withContext } from "../../service.ts";
 * import { makeMutualTlsCertificates } from "../../../testing/mtls_certificates.ts";
 *
 * await using certs = await makeMutualTlsCertificates();
 * const whoami = withContext((ctx) => connectionOf(ctx)?.peerCertificate?.commonName);
 * const server = await serveHttp({
 *   ...certs.server,
 *   clientCa: [certs.ca],
 *   routes: { "/rpc": { codec: jsonRpc(), service: { whoami } } },
 * });
 * const tls = Deno.createHttpClient({ caCerts: [certs.ca], ...certs.client });
 * const client = connectHttp(`${server.url}/rpc`, {
 *   codec: jsonRpc(),
 *   fetch: (input, init) => fetch(input, { ...init, client: tls }),
 * });
 * assert.equal(await client.call("whoami", []), "alice");
 * await client.close();
 * tls.close();
 * await server.shutdown();
 * ```
 */
export function serveHttp(options: ServeHttpMutualTlsOptions): Promise<HttpServer>;
/**
 * Serves services over HTTP: each route is a path with its own codec, so
 * several codecs share one port. A request is one `POST` whose body is one
 * frame; its reply frame is the response body (HTTP 200, error replies
 * included), and a frame of notifications only gets 204. Other answers: 404
 * for an unknown path, 405 for another method, 401 when `authenticate`
 * refuses, 415 for a wrong `Content-Type` or `Content-Encoding`, 413 over
 * `maxBodySize` (checked while reading, after gzip decompression), 400 for a
 * body that cannot be a frame (empty, invalid UTF-8 for a text codec, corrupt
 * gzip). A handler's `signal` fires when the client aborts the request.
 *
 * @param options the routes, the address, the body limit, the auth hook
 * @returns the running server
 *
 * @example JSON-RPC on /rpc, with HTTP Basic or a bearer token
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectHttp, serveHttp } from "../http.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * const basic = "Basic " + btoa("alice:secret");
 * const server = serveHttp({
 *   routes: { "/rpc": { codec: jsonRpc(), service: { add: (a: number, b: number) => a + b } } },
 *   authenticate: (request) => {
 *     const auth = request.headers.get("authorization");
 *     return auth === basic || auth === "Bearer token-123";
 *   },
 * });
 * const client = connectHttp(`${server.url}/rpc`, {
 *   codec: jsonRpc(),
 *   headers: { authorization: "Bearer token-123" },
 * });
 * assert.equal(await client.call("add", [1, 2]), 3);
 * await client.close();
 * await server.shutdown();
 * ```
 */
export function serveHttp(options: ServeHttpOptions): HttpServer;
export function serveHttp(
  options: ServeHttpOptions & Partial<ServeHttpMutualTlsOptions>,
): HttpServer | Promise<HttpServer> {
  const maxBodySize = options.maxBodySize ?? 16 * 1024 * 1024;
  const threshold = options.compressThreshold ?? 1024;
  const onError = options.onError ?? (() => {});
  const wwwAuthenticate = options.wwwAuthenticate ?? 'Basic realm="parley"';
  const routes = new Map<string, Route>();
  const websockets = new Map<string, WebSocketServing>();
  for (const [path, route] of Object.entries(options.routes)) {
    routes.set(path, {
      ...route,
      accepted: new Set([route.codec.mediaType, ...(route.mediaTypes ?? [])].map(essence)),
      contentType: contentTypeOf(route.codec),
      respond: createResponder({ ...route, onError }),
    });
    if (route.websocket !== undefined && route.websocket !== false) {
      websockets.set(path, { ...route, options: route.websocket === true ? {} : route.websocket });
    }
  }

  // Longest prefix first.
  const mounted = Object.entries(options.handlers ?? {}).sort(([a], [b]) => b.length - a.length);
  let stopping: Promise<void> | undefined;
  // Behind the WebSocket front (and the mutual-TLS relay), Deno.serve sees
  // the relay: the client is the one that relay port stands for.
  let clientOf: (port: number) => Deno.NetAddr | Connection | undefined = () => undefined;
  const mutual = options.clientCa !== undefined;
  const handler = async (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
    // Over mutual TLS every request comes through the verified relay: one
    // that reached the loopback listener another way has no certificate.
    if (mutual && clientOf(info.remoteAddr.port) === undefined) {
      return plain(403, "Forbidden: no verified client certificate");
    }
    const path = pathOf(request.url);
    const route = routes.get(path);
    if (route === undefined) {
      const mount = mounted.find(([prefix]) => path.startsWith(prefix));
      if (mount === undefined) return options.fallback?.(request) ?? plain(404, "Not Found");
      const outcome = await admit(
        request,
        postConnection(info.remoteAddr),
        options.authenticate,
        undefined,
        onError,
      );
      if (refused(outcome)) {
        return plain(401, "Unauthorized", { "www-authenticate": wwwAuthenticate });
      }
      // The protocol handler finds it by the request's headers (connectHandler does).
      attachRequestScope(request, outcome);
      return mount[1](request);
    }
    if (wantsWebSocket(request)) {
      if (route.websocket === undefined || route.websocket === false) {
        return plain(400, "Bad Request: this path does not accept WebSocket connections");
      }
      // The listener serves the handshakes that open a connection; one that
      // follows other requests on a kept-alive connection reaches this server.
      return plain(
        400,
        "Bad Request: a WebSocket handshake must be the first request of its connection",
      );
    }
    if (request.method !== "POST") return plain(405, "Method Not Allowed", { allow: "POST" });
    const outcome = await admit(
      request,
      postConnection(info.remoteAddr),
      options.authenticate,
      route.context,
      onError,
    );
    if (refused(outcome)) {
      return plain(
        outcome.status,
        outcome.text,
        outcome.status === 401 ? { "www-authenticate": wwwAuthenticate } : {},
      );
    }
    return answerPost(request, route, maxBodySize, threshold, outcome);
  };

  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new TypeError("serveHttp needs both cert and key (PEM text) to serve https");
  }
  const tls = options.cert !== undefined && options.key !== undefined
    ? { cert: options.cert, key: options.key }
    : {};
  const serveOnError = (error: unknown) => {
    onError(error);
    return plain(500, "Internal Server Error");
  };
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const secure = "cert" in tls;
  let local: Deno.NetAddr | undefined;
  const postConnection = (remote: Deno.NetAddr): Connection => {
    const client = clientOf(remote.port) ?? remote;
    if (!("hostname" in client)) return client;
    return {
      transport: secure ? "https" : "http",
      remoteAddr: { hostname: client.hostname, port: client.port },
      ...(local === undefined ? {} : { localAddr: { hostname: local.hostname, port: local.port } }),
    };
  };
  // Deno.serve's accept loop dies at the first failed accept (EMFILE):
  // serveListening listens again (see http/_listen.ts).
  const urlOf = (addr: Deno.NetAddr) =>
    `${secure ? "https" : "http"}://${
      addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname
    }:${addr.port}`;
  if (options.clientCa !== undefined) {
    if (!secure) throw new TypeError("serveHttp: clientCa (mutual TLS) needs cert and key");
    const relayed = serveMutualTls(options as ServeHttpMutualTlsOptions, websockets, handler, {
      wwwAuthenticate,
      onError,
      clients: (lookup) => clientOf = lookup,
    });
    return relayed.then(({ addr, shutdown, finished }) => {
      local = addr;
      return running(addr, true, shutdown, finished);
    });
  }
  if (websockets.size === 0) {
    const server = serveListening(
      { hostname, port, ...tls, onError: serveOnError },
      handler,
      () => urlOf(server.addr),
      onError,
    );
    const finished = Promise.withResolvers<void>();
    local = server.addr;
    const shutdown = (): Promise<void> => {
      stopping ??= server.shutdown().then(finished.resolve);
      return stopping;
    };
    return running(server.addr, secure, shutdown, finished.promise);
  }

  // WebSocket routes: a listener of parley's own on the public address
  // serves the handshakes and relays everything else to Deno.serve on a
  // loopback port (see _front.ts for why).
  const server = serveListening(
    { hostname: "127.0.0.1", port: 0, onError: serveOnError },
    handler,
    () => urlOf(server.addr),
    onError,
  );
  const sockets = webSocketRoutes(websockets, {
    secure,
    ...(options.authenticate === undefined ? {} : { authenticate: options.authenticate }),
    wwwAuthenticate,
    maxWebSockets: resolveMaxConnections(options.maxWebSockets, "maxWebSockets"),
    onError,
  });
  const front = listenFront({
    hostname,
    port,
    ...tls,
    upstream: () => server.addr,
    upgrade: sockets.upgrade,
    headerTimeout: options.headerTimeout ?? DEFAULT_LIMITS.headerTimeout,
    idleTimeout: DEFAULT_LIMITS.idleTimeout,
    onError,
  });
  local = front.addr;
  clientOf = front.clientOf;
  const finished = Promise.withResolvers<void>();
  const shutdown = (): Promise<void> => {
    // WebSocket sessions finish their calls in flight and close with 1000.
    stopping ??= (async () => {
      front.close();
      await sockets.drain();
      await server.shutdown();
      front.closeRelayed();
      await front.finished;
    })().then(finished.resolve);
    return stopping;
  };
  return running(front.addr, secure, shutdown, finished.promise);
}

function running(
  addr: Deno.NetAddr,
  secure: boolean,
  shutdown: () => Promise<void>,
  finished: Promise<void>,
): HttpServer {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    addr,
    url: `${secure ? "https" : "http"}://${host}:${addr.port}`,
    shutdown,
    finished,
    [Symbol.asyncDispose]: shutdown,
  };
}

type Route = HttpRoute & PostRoute;

// The path of an absolute URL, without parsing all of it: `request.url` is
// always absolute, and parsing it whole costs more than the rest of routing.
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x3f || c === 0x23) { // ? or #
      end = i;
      break;
    }
  }
  return url.slice(start, end);
}

function contentTypeOf(codec: Codec): string {
  return codec.text === true && codec.mediaType.startsWith("text/")
    ? `${codec.mediaType}; charset=utf-8`
    : codec.mediaType;
}
