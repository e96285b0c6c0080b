/**
 * The HTTP server: `Deno.serve`, routes by path, each request body one
 * frame answered by the route's {@linkcode Responder}.
 *
 * @module
 */

import { resolveMaxConnections } from "../_accept.ts";
import { serveListening } from "./_listen.ts";
import { DEFAULT_LIMITS } from "../../limits.ts";
import { attachRequestScope, type Connection, type ConnectionScope } from "../../connection.ts";
import { admit, refused } from "./_auth.ts";
import { createDirectResponder } from "../../responder.ts";
import type { Codec } from "../../types.ts";
import { essence } from "./_body.ts";
import { answerPost, plain, type PostRoute } from "./_post.ts";
import { listenFront } from "./_front.ts";
import { serveMutualTls } from "./_serve_mtls.ts";
import { wantsWebSocket, webSocketRoutes, type WebSocketServing } from "./_websocket.ts";

export type { WebSocketRequest, WebSocketRouteOptions } from "./_websocket.ts";
export type { Authenticate } from "./_auth.ts";
export type {
  HttpRoute,
  HttpServer,
  ServeHttpMutualTlsOptions,
  ServeHttpOptions,
} from "./_server_options.ts";
import type {
  HttpRoute,
  HttpServer,
  ServeHttpMutualTlsOptions,
  ServeHttpOptions,
} from "./_server_options.ts";

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
      respond: createDirectResponder({ ...route, onError }),
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
      const outcome = options.authenticate === undefined
        ? new PostScope(info, postConnection)
        : await admit(
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
    // A handshake is a GET: a POST's headers are not searched for one.
    if (request.method !== "POST") return notPost(request, route);
    // Nothing to decide: no promise to wait for (one fewer turn per call).
    const outcome = options.authenticate === undefined && route.context === undefined
      ? new PostScope(info, postConnection)
      : await admit(
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

// The scope of a POST that needs no hook: its connection, made when a
// handler first asks (`connectionOf(ctx)`; most never do), as reading the
// peer's address is a call into Deno and three objects per request.
class PostScope implements ConnectionScope {
  readonly #info: Deno.ServeHandlerInfo<Deno.NetAddr>;
  readonly #connectionOf: (remote: Deno.NetAddr) => Connection;
  #connection: Connection | undefined;
  constructor(
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    connectionOf: (remote: Deno.NetAddr) => Connection,
  ) {
    this.#info = info;
    this.#connectionOf = connectionOf;
  }
  get connection(): Connection {
    return this.#connection ??= this.#connectionOf(this.#info.remoteAddr);
  }
}

// The answer to a request to a route that is not a POST.
function notPost(request: Request, route: Route): Response {
  if (!wantsWebSocket(request)) return plain(405, "Method Not Allowed", { allow: "POST" });
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
