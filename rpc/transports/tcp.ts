/**
 * TCP, TLS and Unix-socket transports for Deno: a server with one
 * {@linkcode Peer} per connection, and a client with a connect timeout. TLS
 * is an address with `transport: "tls"` (see `./tls.ts`).
 *
 * @module
 */

import { framedStream } from "../framed.ts";
import type { SocketPeerOptions } from "./_connect.ts";
import type { Peer } from "../peer.ts";
import { checkServiceSource, servePeer, type ServiceSource } from "../serve_connection.ts";
import { connByteStream, noDelay } from "./_conn.ts";
import { acceptLoop, closeQuietly, resolveMaxConnections } from "./_accept.ts";
import {
  type ConnectAddressOf,
  type ListenAddress,
  type SocketAddress,
  urlOf,
} from "./_addresses.ts";
import { ConnectionClock, resolveTimeouts } from "./_timeouts.ts";
import { connectionInfo, refuseWithReason, scopeOf } from "./_connection.ts";
import type { ConnectionScope, ContextFunction } from "../connection.ts";
import { listenSocket } from "./_listen.ts";

export type {
  ConnectAddressOf,
  ListenAddress,
  SocketAddress,
  TcpAddress,
  UnixAddress,
} from "./_addresses.ts";
export { connByteStream } from "./_conn.ts";
export {
  type ConnectOptions,
  connectTcp,
  reconnectTcp,
  type ReconnectTcpOptions,
  type SocketPeerOptions,
} from "./_connect.ts";
export { ReconnectingClient, type ReconnectOptions } from "../reconnect.ts";
export type { RetryPolicy } from "../retry.ts";
export {
  type ConnectionInfo,
  type ConnectionRequest,
  type PerConnection,
  perConnection,
  type ServiceFactory,
  type ServiceSource,
} from "../serve_connection.ts";
export {
  CertificateError,
  type CertificateFailure,
  type TlsAddress,
  type TlsListenAddress,
} from "./tls.ts";

/** Options of {@linkcode serveTcp}. */
export interface ServeOptions extends SocketPeerOptions {
  /**
   * What every connection serves: one object for all, or a factory wrapped
   * in {@linkcode perConnection} that makes one per connection (it receives
   * the connection's peer, to call the client back).
   */
  readonly service: ServiceSource;
  /** Called with each new connection's peer. */
  readonly onConnection?: (peer: Peer) => void;
  /**
   * Most connections held at once (TLS handshakes under way included);
   * 10,000 by default. A new connection beyond it is accepted and closed at
   * once, so that its client learns at once that it is refused, and
   * `onError` is told (a `LimitError`, once per episode). Keep it below the
   * process's file descriptor limit (`ulimit -n`, often 1,024): when
   * descriptors run out first, the server keeps serving the connections it
   * has and accepts again once some close, telling `onError` once.
   */
  readonly maxConnections?: number;
  /**
   * Milliseconds from accept to the connection's first complete frame (its
   * TLS handshake included); 30,000 by default, `Infinity` for none. A
   * connection that takes longer (slowloris) is closed and `onError` told.
   */
  readonly firstFrameTimeout?: number;
  /**
   * Milliseconds after which a connection that moved no byte either way,
   * with no call in flight either way, is closed; 300,000 (5 minutes) by
   * default, `Infinity` for none. A slow call keeps its connection open.
   */
  readonly idleTimeout?: number;
  /**
   * Builds each connection's context, once, before its first call: from
   * its {@linkcode Connection} (addresses, TLS). Handlers read it through
   * `typedContext`, and `connectionOf(ctx)` gives the connection itself.
   * What it throws refuses the connection: closed before any call is read,
   * the reason told to `onError`.
   */
  readonly context?: ContextFunction;
}

/** A running server. */
export interface SocketServer<A extends SocketAddress = SocketAddress> {
  /** The address bound (the real port when 0 was asked for). */
  readonly addr: Deno.Addr;
  /**
   * Where to connect to this server, for {@linkcode connectTcp} (for TLS, add
   * the `caCerts` that trust its certificate).
   */
  readonly address: A;
  /** The address as a URL: `tcp://127.0.0.1:40123`, `tls://127.0.0.1:40123` or `unix:/path`. */
  readonly url: string;
  /** The connections open now. */
  readonly peers: ReadonlySet<Peer>;
  /**
   * Graceful shutdown: stops accepting, lets every connection finish the
   * calls in flight (new calls are refused), then closes them.
   */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
  /** Shuts down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Serves a service over TCP, TLS or a Unix socket, one peer per connection.
 * Over TLS a connection becomes a peer once its handshake succeeds; a failed
 * handshake is told to `onError`.
 *
 * @param address where to listen; port 0 picks a free port; for TLS the
 * certificate and key as PEM text
 * @param options the codec, the framing, the service and the limits
 * @returns the running server
 *
 * @example
 * ```ts
 * import { serveTcp } from "./tcp.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { newline } from "../framing/delimiter.ts";
 * const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
 *   codec: jsonRpc(),
 *   framing: newline(),
 *   service: { add: (a: number, b: number) => a + b },
 * });
 * console.log(`listening ${server.url}`);
 * await server.shutdown();
 * ```
 */
export function serveTcp<A extends ListenAddress>(
  address: A,
  options: ServeOptions,
): SocketServer<ConnectAddressOf<A>> {
  const {
    framing,
    service,
    onConnection,
    firstFrameTimeout,
    idleTimeout,
    context,
    ...peerOptions
  } = options;
  const maxConnections = resolveMaxConnections(options.maxConnections);
  checkServiceSource(service);
  const timeouts = resolveTimeouts({
    ...(firstFrameTimeout === undefined ? {} : { firstFrameTimeout }),
    ...(idleTimeout === undefined ? {} : { idleTimeout }),
  });
  const { listener, tls, url, address: connectTo } = listenSocket(address);
  const peers = new Set<Peer>();
  // TLS connections whose handshake is under way: closed by shutdown.
  const handshaking = new Set<Deno.Conn>();
  const onError = options.onError ?? (() => {});
  const stopping = new AbortController();

  const kind = address.transport === "unix" ? "unix" : tls ? "tls" : "tcp";
  const accept = (
    conn: Deno.Conn,
    remote: string,
    clock: ConnectionClock,
    connection: ConnectionScope,
  ): Peer => {
    noDelay(conn);
    const bytes = connByteStream(conn, { onActivity: clock.touch });
    // The clock hears of the first frame from the reader itself: no wrapper
    // around each read (a suspended read per connection costs memory).
    const stream = framedStream(bytes, framing, {
      remote,
      text: options.codec.text === true,
      onFirstFrame: clock.frame,
    });
    const peer = servePeer(stream, { ...peerOptions, service, remote, connection });
    clock.watch(peer);
    peers.add(peer);
    peer.closed.then(() => {
      clock.stop();
      peers.delete(peer);
    });
    onConnection?.(peer);
    return peer;
  };

  // The clock starts at accept: a TLS handshake counts against the first frame's time.
  const start = (conn: Deno.Conn): void => {
    let peer: Peer | undefined;
    // Made once: the clock, the stream and the peer share it.
    const remote = urlOf(conn.remoteAddr);
    const clock = new ConnectionClock(timeouts, remote, (error) => {
      // Idleness is housekeeping; a connection that never sends a frame is worth telling.
      if (error.limitName === "firstFrameTimeout") onError(error);
      if (peer === undefined) closeQuietly(conn);
      else void peer.close(error);
    });
    const serve = (ready: Deno.Conn, alpn?: string | null) => {
      const info = connectionInfo(ready, kind, alpn);
      if (context === undefined) {
        return void (peer = accept(ready, remote, clock, { connection: info }));
      }
      // Held like a handshake while the context is built: counted, closed by shutdown.
      handshaking.add(ready);
      scopeOf(info, context).then((scope) => {
        handshaking.delete(ready);
        if (stopping.signal.aborted || clock.expired) {
          clock.stop();
          closeQuietly(ready);
        } else peer = accept(ready, remote, clock, scope);
      }, (error) => {
        handshaking.delete(ready);
        clock.stop();
        const stream = framedStream(connByteStream(ready), framing, {
          remote: urlOf(ready.remoteAddr),
          text: options.codec.text === true,
        });
        void refuseWithReason(stream, options.codec, error).finally(() => closeQuietly(ready));
        onError(
          new Error(
            `Connection from ${urlOf(ready.remoteAddr)} refused by context: ${error?.message}`,
            {
              cause: error,
            },
          ),
        );
      });
    };
    if (tls) handshake(conn as Deno.TlsConn, clock, serve);
    else serve(conn);
  };

  const handshake = (
    conn: Deno.TlsConn,
    clock: ConnectionClock,
    served: (conn: Deno.Conn, alpn: string | null) => void,
  ): void => {
    handshaking.add(conn);
    conn.handshake().then((info) => {
      handshaking.delete(conn);
      if (stopping.signal.aborted || clock.expired) {
        clock.stop();
        closeQuietly(conn);
      } else served(conn, info.alpnProtocol);
    }, (error) => {
      handshaking.delete(conn);
      clock.stop();
      closeQuietly(conn);
      // A handshake cut short by the first-frame timeout was reported as that.
      if (!stopping.signal.aborted && !clock.expired) {
        onError(
          new Error(`TLS handshake with ${urlOf(conn.remoteAddr)} failed: ${error?.message}`, {
            cause: error,
          }),
        );
      }
    });
  };

  const finished = (async () => {
    await acceptLoop(listener, start, {
      url,
      maxConnections,
      open: () => peers.size + handshaking.size,
      signal: stopping.signal,
      onError,
    });
    await Promise.all([...peers].map((peer) => peer.closed));
  })();

  const shutdown = async (): Promise<void> => {
    if (!stopping.signal.aborted) {
      stopping.abort();
      listener.close();
      for (const conn of handshaking) closeQuietly(conn);
      await Promise.all([...peers].map((peer) => peer.drain()));
    }
    await finished;
  };

  return {
    addr: listener.addr,
    address: connectTo,
    url,
    peers,
    shutdown,
    finished,
    [Symbol.asyncDispose]: shutdown,
  };
}
