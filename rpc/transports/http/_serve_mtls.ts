// serveHttp's servers with clientCa: the mutual-TLS relay on the public
// address, in front of the same plain listener and Deno.serve as a server
// with WebSocket routes has (see _mtls_relay.ts for why). Deno only.

import { resolveMaxConnections } from "../_accept.ts";
import { DEFAULT_LIMITS } from "../../limits.ts";
import type { Connection } from "../../connection.ts";
import { serveListening } from "./_listen.ts";
import { listenFront } from "./_front.ts";
import { relayMutualTls } from "./_mtls_relay.ts";
import { plain } from "./_post.ts";
import { webSocketRoutes, type WebSocketServing } from "./_websocket.ts";
import type { Authenticate } from "./_auth.ts";

/** The options of serveHttp this part reads (ServeHttpMutualTlsOptions). */
export interface MutualTlsHttpOptions {
  readonly hostname?: string;
  readonly port?: number;
  readonly cert: string;
  readonly key: string;
  readonly clientCa: readonly string[];
  readonly headerTimeout?: number;
  readonly maxConnections?: number;
  readonly maxWebSockets?: number;
  readonly authenticate?: Authenticate;
}

/** What serveHttp hands over besides its options. */
export interface MutualTlsServing {
  readonly wwwAuthenticate: string;
  readonly onError: (error: unknown) => void;
  /** Tells serveHttp's handler who is behind a relay port. */
  readonly clients: (lookup: (port: number) => Connection | undefined) => void;
}

/** The server, listening: its public address, its shutdown. */
export interface MutualTlsServer {
  readonly addr: Deno.NetAddr;
  shutdown(): Promise<void>;
  readonly finished: Promise<void>;
}

/**
 * Serves `handler` and the WebSocket routes to mutual-TLS clients.
 *
 * @param options serveHttp's options
 * @param websockets the WebSocket routes
 * @param handler serveHttp's request handler
 * @param serving the rest serveHttp decided
 * @returns the server, once it listens
 */
export async function serveMutualTls(
  options: MutualTlsHttpOptions,
  websockets: ReadonlyMap<string, WebSocketServing>,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  serving: MutualTlsServing,
): Promise<MutualTlsServer> {
  const { onError } = serving;
  const headerTimeout = options.headerTimeout ?? DEFAULT_LIMITS.headerTimeout;
  const maxConnections = resolveMaxConnections(options.maxConnections);
  const server = serveListening(
    {
      hostname: "127.0.0.1",
      port: 0,
      onError: (error) => {
        onError(error);
        return plain(500, "Internal Server Error");
      },
    },
    handler,
    () => `https://127.0.0.1:${server.addr.port}`,
    onError,
  );
  // The front sees the relay's loopback port; the relay knows who that is.
  const verified = (port: number): Connection | undefined => relay?.clientOf(port);
  const sockets = webSocketRoutes(websockets, {
    secure: true,
    ...(options.authenticate === undefined ? {} : { authenticate: options.authenticate }),
    wwwAuthenticate: serving.wwwAuthenticate,
    maxWebSockets: resolveMaxConnections(options.maxWebSockets, "maxWebSockets"),
    onError,
    connectionOf: (conn) => {
      const client = verified((conn.remoteAddr as Deno.NetAddr).port);
      return client === undefined ? undefined : { ...client, transport: "websocket" };
    },
  });
  const front = listenFront({
    hostname: "127.0.0.1",
    port: 0,
    upstream: () => server.addr,
    upgrade: sockets.upgrade,
    headerTimeout,
    idleTimeout: DEFAULT_LIMITS.idleTimeout,
    onError,
    // Only the relay's connections: a local process that finds this
    // loopback port must not be served without a verified certificate.
    admit: (remote) => verified(remote.port) !== undefined,
  });
  let relay: Awaited<ReturnType<typeof relayMutualTls>> | undefined;
  try {
    relay = await relayMutualTls({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      cert: options.cert,
      key: options.key,
      clientCa: options.clientCa,
      handshakeTimeout: headerTimeout,
      maxConnections,
      upstream: () => front.addr,
      onError,
    });
  } catch (error) {
    front.close();
    await Promise.all([server.shutdown(), front.finished]);
    throw error;
  }
  const listening = relay;
  // Deno.serve sees the front's relay; the front's client is this relay's.
  serving.clients((port) => {
    const via = front.clientOf(port);
    return via === undefined ? undefined : listening.clientOf(via.port);
  });
  const finished = Promise.withResolvers<void>();
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    // WebSocket sessions finish their calls in flight and close with 1000.
    stopping ??= (async () => {
      listening.stop();
      front.close();
      await sockets.drain();
      await server.shutdown();
      front.closeRelayed();
      await front.finished;
      await listening.close();
    })().then(finished.resolve);
    return stopping;
  };
  return { addr: listening.addr, shutdown, finished: finished.promise };
}
