// WebSocket routes of the HTTP server: the upgrade, and one Peer per socket
// for as long as it is open. Deno only (Deno.upgradeWebSocket).

import { Peer } from "../../peer.ts";
import type { RpcLimits } from "../../limits.ts";
import type { Service } from "../../service.ts";
import type { Codec } from "../../types.ts";
import { webSocketStream } from "../websocket.ts";

/** The WebSocket side of a route. */
export interface WebSocketRouteOptions {
  /** Largest message accepted, in bytes; 16 MiB by default. Over it: close code 1009. */
  readonly maxMessageSize?: number;
  /**
   * Seconds without a pong before the connection is closed; the server
   * pings to keep it alive. 30 by default; 0 turns keep-alive off.
   */
  readonly idleTimeout?: number;
  /** Sending waits while this many bytes are queued; 1 MiB by default. */
  readonly highWaterMark?: number;
  /**
   * Called with each connection's peer once the socket is open: keep it to
   * call the other side (server push).
   */
  readonly onConnection?: (peer: Peer, request: WebSocketRequest) => void;
  /**
   * A service per connection instead of the route's (remote objects'
   * `serveObjects(root)` is one): it receives the connection's peer (to call
   * the other side) and the handshake.
   */
  readonly service?: (
    connection: { readonly peer: () => Peer; readonly request: WebSocketRequest },
  ) => Service;
}

/** The handshake request of a WebSocket connection (the `Request` itself is gone by then). */
export interface WebSocketRequest {
  /** The URL asked for. */
  readonly url: string;
  /** Its headers: authorization, origin, cookies. */
  readonly headers: Headers;
}

/** What a WebSocket connection is served with. */
export interface WebSocketServing {
  readonly codec: Codec;
  readonly service: Service;
  readonly limits?: Partial<RpcLimits>;
  readonly exposeErrors?: boolean;
  readonly options: WebSocketRouteOptions;
}

/** Whether a request asks to become a WebSocket. */
export function wantsWebSocket(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/**
 * Upgrades the request and serves the socket with a peer of its own, kept
 * in `peers` until it closes.
 */
export function acceptWebSocket(
  request: Request,
  serving: WebSocketServing,
  peers: Set<Peer>,
  onError: (error: unknown) => void,
): Response {
  // The request's headers cannot be read once it has been upgraded.
  const handshake: WebSocketRequest = { url: request.url, headers: new Headers(request.headers) };
  let upgraded;
  try {
    upgraded = Deno.upgradeWebSocket(request, { idleTimeout: serving.options.idleTimeout ?? 30 });
  } catch (error) {
    // A handshake without its required headers (Sec-WebSocket-Key, Connection: Upgrade).
    return new Response(`Bad Request: ${(error as Error).message}\n`, {
      status: 400,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  const { socket, response } = upgraded;
  socket.addEventListener("open", () => {
    const stream = webSocketStream(socket, {
      text: serving.codec.text === true,
      remote: handshake.headers.get("origin") ?? "websocket",
      ...(serving.options.maxMessageSize === undefined
        ? {}
        : { maxMessageSize: serving.options.maxMessageSize }),
      ...(serving.options.highWaterMark === undefined
        ? {}
        : { highWaterMark: serving.options.highWaterMark }),
    });
    // The per-connection service may ask for its peer once it exists.
    const made: { peer?: Peer } = {};
    const service = serving.options.service === undefined
      ? serving.service
      : serving.options.service({
        peer: () => {
          if (made.peer === undefined) throw new Error("The peer is not ready yet");
          return made.peer;
        },
        request: handshake,
      });
    const opened = made.peer = new Peer(stream, {
      codec: serving.codec,
      service,
      onError,
      ...(serving.limits === undefined ? {} : { limits: serving.limits }),
      ...(serving.exposeErrors === undefined ? {} : { exposeErrors: serving.exposeErrors }),
    });
    peers.add(opened);
    opened.closed.then(() => peers.delete(opened));
    serving.options.onConnection?.(opened, handshake);
  }, { once: true });
  return response;
}
