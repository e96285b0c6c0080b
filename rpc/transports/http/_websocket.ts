// WebSocket routes of the HTTP server: the handshake, and one Peer per socket
// for as long as it is open. Deno only. The sockets are the `ws` package's
// on the raw connection (see _front.ts for why not Deno.upgradeWebSocket):
// its maxPayload counts a fragmented message's bytes as they arrive, and it
// can pause reading while the session has replies queued for a slow reader.

import type { StreamSupport } from "../../peer/options.ts";
import type { Interceptor } from "../../interceptors.ts";
import { Buffer } from "node:buffer";
// @ts-types="@types/ws"
import type { WebSocket as WsSocket, WebSocketServer } from "ws";
import { LimitError } from "../../errors.ts";
import type { Peer } from "../../peer.ts";
import {
  type ConnectionRequest,
  perConnection,
  servePeer,
  type ServiceFactory,
} from "../../serve_connection.ts";
import { resolveLimits, type RpcLimits } from "../../limits.ts";
import type { Service } from "../../service.ts";
import type { Codec } from "../../types.ts";
import { webSocketStream } from "../websocket/stream.ts";
import { Episodes } from "../_accept.ts";
import { urlOf } from "../_addresses.ts";
import { ConnDuplex } from "./_conn_duplex.ts";
import { admit, type Authenticate, refused } from "./_auth.ts";
import { connectionInfo } from "../_connection.ts";
import type { Connection, ConnectionScope, ContextFunction } from "../../connection.ts";
import { answerAndClose, type RequestHead, type Upgrader } from "./_front.ts";

/** The WebSocket side of a route. */
export interface WebSocketRouteOptions {
  /**
   * Largest message accepted, in bytes; 16 MiB by default. Over it: close
   * code 1009, as soon as a frame's header says so (the fragments of a
   * message count together as they arrive).
   */
  readonly maxMessageSize?: number;
  /**
   * Seconds between the server's pings; a socket that has not answered the
   * last one by the next is closed. 30 by default; 0 turns pings off. (Not
   * the `idleTimeout` of the route's `limits`, which closes a socket that
   * sends and receives no message.)
   */
  readonly pingInterval?: number;
  /** @deprecated The former name of {@linkcode WebSocketRouteOptions.pingInterval}. */
  readonly idleTimeout?: number;
  /**
   * Bytes queued in either direction before the socket waits: sending waits
   * while this many are unsent, and reading pauses while this many received
   * are unread. 1 MiB by default.
   */
  readonly highWaterMark?: number;
  /**
   * Called with each connection's peer once the socket is open: keep it to
   * call the other side (server push).
   */
  readonly onConnection?: (peer: Peer, request: WebSocketRequest) => void;
  /**
   * Streaming calls on each connection, for a codec that carries them (the
   * protobuf envelope): `peerStreams` from `@parley/rpc`.
   */
  readonly streams?: StreamSupport;
  /**
   * A service per connection instead of the route's (remote objects'
   * `serveObjects(root)` is one): it receives the connection's peer (to call
   * the other side), its remote address and the handshake (`request`).
   */
  readonly service?: ServiceFactory;
}

/** The handshake request of a WebSocket connection (the `Request` itself is gone by then). */
export type WebSocketRequest = ConnectionRequest;

/** What a WebSocket route serves. */
export interface WebSocketServing {
  readonly codec: Codec;
  readonly service: Service;
  readonly limits?: Partial<RpcLimits>;
  readonly exposeErrors?: boolean;
  readonly interceptors?: readonly Interceptor[];
  /** Builds each socket's context, once, from its handshake. */
  readonly context?: ContextFunction;
  readonly options: WebSocketRouteOptions;
}

/** What the WebSocket routes of a server share. */
export interface WebSocketSettings {
  /** Whether the server is https (the handshake's URL says wss). */
  readonly secure: boolean;
  readonly authenticate?: Authenticate;
  readonly wwwAuthenticate: string;
  /** Most sockets open at once; an upgrade beyond is answered 503. */
  readonly maxWebSockets: number;
  readonly onError: (error: unknown) => void;
  /**
   * Who is on `conn`, when it is not what the connection says: behind the
   * mutual-TLS relay, the verified client (see _mtls_relay.ts).
   */
  readonly connectionOf?: (conn: Deno.Conn) => Connection | undefined;
}

/** The WebSocket routes of a server. */
export interface WebSocketRoutes {
  /** For the listener: which connections to serve as WebSockets. */
  readonly upgrade: Upgrader;
  /** Refuses new sockets (503), lets the open ones finish their calls, closes them (1000). */
  drain(): Promise<void>;
}

/** Whether a request asks to become a WebSocket. */
export function wantsWebSocket(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/**
 * The WebSocket routes of a server, by path.
 *
 * @param routes the routes that accept WebSocket connections
 * @param settings authentication and error reporting
 * @returns the upgrader for the listener, and the drain for shutdown
 */
export function webSocketRoutes(
  routes: ReadonlyMap<string, WebSocketServing>,
  settings: WebSocketSettings,
): WebSocketRoutes {
  const peers = new Set<Peer>();
  // `ws` is loaded by the first handshake, not with the module: it reads
  // environment variables as it loads (WS_NO_BUFFER_UTIL), which a program
  // serving only HTTP should not need `--allow-env` for.
  let servers: Promise<Map<WebSocketServing, WebSocketServer>> | undefined;
  const serversOf = () =>
    servers ??= import("ws").catch((error) => {
      throw new Error(
        "WebSocket routes run on the ws package, which reads WS_NO_BUFFER_UTIL and " +
          "WS_NO_UTF_8_VALIDATE as it loads: run with " +
          "--allow-env=WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE (or --allow-env)",
        { cause: error },
      );
    }).then(({ WebSocketServer }) =>
      new Map([...routes.values()].map((serving) => [
        serving,
        new WebSocketServer({
          noServer: true,
          clientTracking: false,
          perMessageDeflate: false,
          maxPayload: serving.options.maxMessageSize ??
            resolveLimits(serving.limits).maxFrameSize,
        }),
      ]))
    );
  let draining = false;
  const refusals = new Episodes();

  const accept = async (conn: Deno.Conn, rest: Uint8Array, head: RequestHead) => {
    const serving = routes.get(pathOf(head.target))!;
    if (draining) return answerAndClose(conn, 503, "Service Unavailable: shutting down");
    if (peers.size >= settings.maxWebSockets) {
      const error = new LimitError(
        "maxWebSockets",
        settings.maxWebSockets,
        `the server refuses WebSocket connections while it holds ${peers.size}`,
      );
      if (refusals.begins()) settings.onError(error);
      return answerAndClose(conn, 503, `Service Unavailable: ${error.message}`);
    }
    if (head.method !== "GET") {
      return answerAndClose(conn, 400, "Bad Request: a WebSocket handshake is a GET");
    }
    if (!/(^|,)\s*upgrade\s*(,|$)/i.test(head.headers.get("connection") ?? "")) {
      return answerAndClose(
        conn,
        400,
        'Bad Request: a WebSocket handshake needs "Connection: Upgrade"',
      );
    }
    const host = head.headers.get("host") ?? "localhost";
    const handshake: WebSocketRequest = {
      url: `${settings.secure ? "https" : "http"}://${host}${head.target}`,
      headers: head.headers,
    };
    let scope: ConnectionScope = {
      connection: settings.connectionOf?.(conn) ?? connectionInfo(conn, "websocket"),
    };
    if (settings.authenticate !== undefined || serving.context !== undefined) {
      let request: Request;
      try {
        request = new Request(handshake.url, { headers: head.headers });
      } catch {
        return answerAndClose(conn, 400, "Bad Request: the handshake's URL is invalid");
      }
      const outcome = await admit(
        request,
        scope.connection,
        settings.authenticate,
        serving.context,
        settings.onError,
      );
      if (refused(outcome)) {
        return answerAndClose(
          conn,
          outcome.status,
          outcome.text,
          outcome.status === 401 ? { "www-authenticate": settings.wwwAuthenticate } : {},
        );
      }
      scope = outcome;
      if (draining) return answerAndClose(conn, 503, "Service Unavailable: shutting down");
    }
    const server = (await serversOf()).get(serving)!;
    const duplex = new ConnDuplex(conn);
    // Nothing a connection does may become an unhandled 'error' event.
    duplex.on("error", () => {});
    const request = {
      method: head.method,
      url: head.target,
      headers: Object.fromEntries(head.headers),
    };
    server.handleUpgrade(
      request as never,
      duplex as never,
      Buffer.from(rest),
      (ws) =>
        serve(
          ws,
          duplex,
          serving,
          handshake,
          scope,
          urlOf(conn.remoteAddr),
          peers,
          settings.onError,
        ),
    );
  };

  return {
    upgrade(head) {
      if (head.headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
      if (!routes.has(pathOf(head.target))) return undefined;
      return (conn, rest) => {
        accept(conn, rest, head).catch((error) => {
          settings.onError(error);
          answerAndClose(conn, 500, "Internal Server Error");
        });
      };
    },
    async drain() {
      draining = true;
      await Promise.all([...peers].map((peer) => peer.drain()));
    },
  };
}

// Serves one open socket with a peer of its own, kept in `peers` until it closes.
function serve(
  ws: WsSocket,
  duplex: ConnDuplex,
  serving: WebSocketServing,
  handshake: WebSocketRequest,
  connection: ConnectionScope,
  remote: string,
  peers: Set<Peer>,
  onError: (error: unknown) => void,
): void {
  ws.on("error", onError);
  const limits = resolveLimits(serving.limits);
  let lastActivity: number | undefined;
  const stream = webSocketStream(ws as unknown as WebSocket, {
    text: serving.codec.text === true,
    remote: handshake.headers.get("origin") ?? "websocket",
    maxMessageSize: serving.options.maxMessageSize ?? limits.maxFrameSize,
    ...(serving.options.highWaterMark === undefined
      ? {}
      : { highWaterMark: serving.options.highWaterMark }),
    pause: () => ws.pause(),
    cork: () => duplex.cork(),
    uncork: () => duplex.uncork(),
    resume: () => ws.resume(),
    onActivity: () => lastActivity = Date.now(),
  });
  const source = serving.options.service;
  const peer = servePeer(stream, {
    codec: serving.codec,
    // The route's own `service` option is a factory whatever its mark.
    service: source === undefined ? serving.service : perConnection(source),
    remote,
    request: handshake,
    // The handshake's headers are every call's metadata (under a call's own `meta`).
    metadata: new Headers(handshake.headers),
    connection,
    onError,
    limits: serving.limits ?? {},
    ...(serving.exposeErrors === undefined ? {} : { exposeErrors: serving.exposeErrors }),
    ...(serving.interceptors === undefined ? {} : { interceptors: serving.interceptors }),
    ...(serving.options.streams === undefined ? {} : { streams: serving.options.streams }),
  });
  peers.add(peer);
  const stopTimers = [keepAlive(ws, serving.options), idleTimer(peer, limits, () => lastActivity)];
  peer.closed.then(() => {
    peers.delete(peer);
    for (const stop of stopTimers) stop();
  });
  serving.options.onConnection?.(peer, handshake);
}

// Pings every interval; a socket that has not answered the last ping is ended.
function keepAlive(ws: WsSocket, options: WebSocketRouteOptions): () => void {
  const seconds = options.pingInterval ?? options.idleTimeout ?? 30;
  if (seconds <= 0) return () => {};
  let answered = true;
  ws.on("pong", () => answered = true);
  const timer = setInterval(() => {
    if (!answered) return ws.terminate();
    answered = false;
    try {
      ws.ping();
    } catch {
      // Closing already.
    }
  }, seconds * 1000);
  return () => clearInterval(timer);
}

// Closes a connection that has carried no message for `idleTimeout` ms
// (`firstFrameTimeout` before its first) while no call was in flight either
// way. One timer, pushed back lazily rather than reset on every message.
function idleTimer(
  peer: Peer,
  limits: RpcLimits,
  lastActivity: () => number | undefined,
): () => void {
  const opened = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Infinity is off: setTimeout would fire at once instead.
  const arm = (ms: number): void => {
    if (ms !== Infinity) timer = setTimeout(check, ms);
  };
  const check = (): void => {
    const last = lastActivity();
    const [name, limit, since] = last === undefined
      ? ["firstFrameTimeout", limits.firstFrameTimeout, opened] as const
      : ["idleTimeout", limits.idleTimeout, last] as const;
    const left = since + limit - Date.now();
    if (left > 0) {
      arm(left);
      return;
    }
    if (peer.inFlight > 0 || peer.pending > 0) {
      // Busy, not idle: look again one period later.
      arm(limits.idleTimeout);
      return;
    }
    const what = last === undefined ? "no message since it opened" : "no message";
    peer.close(new LimitError(name, limit, `${what} for ${Date.now() - since} ms`));
  };
  arm(Math.min(limits.firstFrameTimeout, limits.idleTimeout));
  return () => clearTimeout(timer);
}

// The path of a request target, without its query.
function pathOf(target: string): string {
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  // An absolute-form target (a proxy's): its path.
  if (!path.startsWith("/")) {
    const slash = path.indexOf("/", path.indexOf("//") + 2);
    return slash === -1 ? "/" : path.slice(slash);
  }
  return path;
}
