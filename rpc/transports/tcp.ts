/**
 * TCP, TLS and Unix-socket transports for Deno: a server with one
 * {@linkcode Peer} per connection, and a client with a connect timeout. TLS
 * is an address with `transport: "tls"` (see `./tls.ts`).
 *
 * @module
 */

import { framedStream } from "../framed.ts";
import { Peer, type PeerOptions } from "../peer.ts";
import type { Service } from "../service.ts";
import type { ByteStream, Framing } from "../types.ts";
import { connectTls, listenTls, type TlsAddress, type TlsListenAddress } from "./tls.ts";

export {
  CertificateError,
  type CertificateFailure,
  type TlsAddress,
  type TlsListenAddress,
} from "./tls.ts";

/** A TCP host and port. */
export interface TcpAddress {
  /** Plain TCP (the default). */
  readonly transport?: "tcp";
  /** The host; `127.0.0.1` by default. */
  readonly hostname?: string;
  /** The port; 0 picks a free one when listening. */
  readonly port: number;
}

/** A Unix socket's path. */
export interface UnixAddress {
  /** A Unix socket. */
  readonly transport: "unix";
  /** The socket's path. */
  readonly path: string;
}

/** Where to connect: a TCP host and port, TLS (with the CAs to trust), or a Unix socket path. */
export type SocketAddress = TcpAddress | UnixAddress | TlsAddress;

/** Where to listen: a TCP host and port, TLS (with a certificate and key), or a Unix socket path. */
export type ListenAddress = TcpAddress | UnixAddress | TlsListenAddress;

/** Options shared by server and client. */
export interface SocketPeerOptions extends Omit<PeerOptions, "service"> {
  /** How frames are delimited on the byte stream. */
  readonly framing: Framing;
}

/** Options of {@linkcode serveTcp}. */
export interface ServeOptions extends SocketPeerOptions {
  /**
   * What every connection serves: one object for all, or a function that
   * makes one per connection (it receives the connection's peer, to call the
   * client back).
   */
  readonly service: Service | ((peer: ConnectionInfo) => Service);
  /** Called with each new connection's peer. */
  readonly onConnection?: (peer: Peer) => void;
}

/** What a per-connection service factory learns about the connection. */
export interface ConnectionInfo {
  /** The remote address, as text. */
  readonly remote: string;
  /** Calls the client back over the same connection. */
  readonly peer: () => Peer;
}

/**
 * Where to connect to a server listening on `A`: a {@linkcode TlsAddress}
 * for a {@linkcode TlsListenAddress} (to which `caCerts` may be added), the
 * same kind of address otherwise.
 */
export type ConnectAddressOf<A extends ListenAddress> = A extends TlsListenAddress ? TlsAddress
  : A extends UnixAddress ? UnixAddress
  : TcpAddress;

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
 * ```ts ignore
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
  const tls = address.transport === "tls";
  const listener: Deno.Listener = address.transport === "unix"
    ? Deno.listen({ transport: "unix", path: address.path })
    : address.transport === "tls"
    ? listenTls(address)
    : Deno.listen({ hostname: address.hostname ?? "127.0.0.1", port: address.port });
  const peers = new Set<Peer>();
  // TLS connections whose handshake is under way: closed by shutdown.
  const handshaking = new Set<Deno.Conn>();
  const { framing, service, onConnection, ...peerOptions } = options;
  let stopping = false;

  const accept = (conn: Deno.Conn): void => {
    noDelay(conn);
    const remote = urlOf(conn.remoteAddr);
    // The service factory may call the client back, but only once the peer exists.
    const connection: { peer?: Peer } = {};
    const served = typeof service === "function"
      ? (service as (info: ConnectionInfo) => Service)({
        remote,
        peer: () => {
          if (connection.peer === undefined) {
            throw new Error("The connection's peer is not ready yet: call it from a handler");
          }
          return connection.peer;
        },
      })
      : service;
    const peer = new Peer(
      framedStream(connByteStream(conn), framing, { remote, text: options.codec.text === true }),
      { ...peerOptions, service: served },
    );
    connection.peer = peer;
    peers.add(peer);
    peer.closed.then(() => peers.delete(peer));
    onConnection?.(peer);
  };

  const handshake = (conn: Deno.TlsConn): void => {
    handshaking.add(conn);
    conn.handshake().then(() => {
      handshaking.delete(conn);
      if (stopping) conn.close();
      else accept(conn);
    }, (error) => {
      handshaking.delete(conn);
      try {
        conn.close();
      } catch {
        // Closed already.
      }
      if (!stopping) {
        options.onError?.(
          new Error(`TLS handshake with ${urlOf(conn.remoteAddr)} failed: ${error?.message}`, {
            cause: error,
          }),
        );
      }
    });
  };

  const finished = (async () => {
    try {
      for await (const conn of listener) {
        if (stopping) conn.close();
        else if (tls) handshake(conn as Deno.TlsConn);
        else accept(conn);
      }
    } catch (error) {
      // Closing the listener ends the loop; anything else is worth reporting.
      if (!stopping) options.onError?.(error);
    }
    await Promise.all([...peers].map((peer) => peer.closed));
  })();

  const shutdown = async (): Promise<void> => {
    if (!stopping) {
      stopping = true;
      listener.close();
      for (const conn of handshaking) {
        try {
          conn.close();
        } catch {
          // Closed already.
        }
      }
      await Promise.all([...peers].map((peer) => peer.drain()));
    }
    await finished;
  };

  return {
    addr: listener.addr,
    address:
      (tls
        ? { transport: "tls", ...(toSocketAddress(listener.addr) as TcpAddress) }
        : toSocketAddress(listener.addr)) as ConnectAddressOf<A>,
    url: tls ? urlOf(listener.addr).replace(/^tcp:/, "tls:") : urlOf(listener.addr),
    peers,
    shutdown,
    finished,
    [Symbol.asyncDispose]: shutdown,
  };
}

/** Options of {@linkcode connectTcp}. */
export interface ConnectOptions extends SocketPeerOptions {
  /** What this end serves to the server (for callbacks); nothing when absent. */
  readonly service?: Service;
  /** Milliseconds to wait for the connection; 10 000 by default. */
  readonly connectTimeout?: number;
}

/**
 * Connects to a TCP, TLS or Unix-socket server. Over TLS the handshake is
 * part of connecting (and of `connectTimeout`), and the server's certificate
 * must be trusted (`caCerts`, or the built-in roots) and name the `hostname`.
 *
 * @param address where the server listens
 * @param options the codec, the framing, a connect timeout
 * @returns the connected peer
 * @throws {Deno.errors.ConnectionRefused} when nothing listens there
 * @throws {Deno.errors.TimedOut} when the connection takes longer than `connectTimeout`
 * @throws {CertificateError} over TLS, when the server's certificate is not
 * trusted or not issued for `hostname`; its message says what to do
 *
 * @example
 * ```ts ignore
 * import { connectTcp } from "./tcp.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { newline } from "../framing/delimiter.ts";
 * const client = await connectTcp({ hostname: "127.0.0.1", port: 4000 }, {
 *   codec: jsonRpc(),
 *   framing: newline(),
 * });
 * console.log(await client.call("add", [1, 2]));
 * await client.close();
 * ```
 */
export async function connectTcp(address: SocketAddress, options: ConnectOptions): Promise<Peer> {
  const { framing, connectTimeout = 10_000, ...peerOptions } = options;
  const connecting: Promise<Deno.Conn> = address.transport === "unix"
    ? Deno.connect({ transport: "unix", path: address.path })
    : address.transport === "tls"
    ? connectTls(address)
    : Deno.connect({ hostname: address.hostname ?? "127.0.0.1", port: address.port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Deno.errors.TimedOut(
            `Connecting to ${urlOfAddress(address)} timed out after ${connectTimeout} ms`,
          ),
        ),
      connectTimeout,
    );
  });
  let conn: Deno.Conn;
  try {
    conn = await Promise.race([connecting, timeout]);
  } catch (error) {
    // A connection that succeeds after we gave up must not leak.
    connecting.then((late) => late.close(), () => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
  noDelay(conn);
  const stream = framedStream(connByteStream(conn), framing, {
    remote: urlOf(conn.remoteAddr),
    text: options.codec.text === true,
  });
  return new Peer(stream, peerOptions);
}

/**
 * A Deno connection as a {@linkcode ByteStream} that reads into one reused
 * buffer and hands out copies of just the bytes read: `conn.readable`
 * allocates a fresh 64 KiB buffer per read, which costs more than the small
 * messages RPC reads. A reset or closed connection simply ends the stream.
 *
 * @param conn a TCP or Unix connection
 * @returns the byte stream, for {@linkcode framedStream}
 */
export function connByteStream(conn: Deno.Conn): ByteStream {
  const scratch = new Uint8Array(64 * 1024);
  return {
    readable: new ReadableStream<Uint8Array>({
      async pull(controller) {
        let n: number | null;
        try {
          n = await conn.read(scratch);
        } catch (error) {
          // A connection closed by us or reset by the peer simply ends.
          // A TLS peer that closes without close_notify ends it as well.
          if (
            error instanceof Deno.errors.BadResource ||
            error instanceof Deno.errors.ConnectionReset ||
            error instanceof Deno.errors.UnexpectedEof
          ) n = null;
          else throw error;
        }
        if (n === null) controller.close();
        else controller.enqueue(scratch.slice(0, n));
      },
    }, { highWaterMark: 0 }),
    writable: new WritableStream<Uint8Array>({
      async write(chunk) {
        for (let written = 0; written < chunk.length;) {
          written += await conn.write(written === 0 ? chunk : chunk.subarray(written));
        }
      },
      close() {
        try {
          conn.closeWrite();
        } catch {
          // Closed already.
        }
      },
    }),
    close: () => {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    },
  };
}

// Calls are small and latency matters: do not let Nagle hold them back.
function noDelay(conn: Deno.Conn): void {
  if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
}

function urlOf(addr: Deno.Addr): string {
  if (addr.transport === "unix" || addr.transport === "unixpacket") return `unix:${addr.path}`;
  if (addr.transport === "tcp" || addr.transport === "udp") {
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    return `${addr.transport}://${host}:${addr.port}`;
  }
  return String(addr.transport);
}

function toSocketAddress(addr: Deno.Addr): SocketAddress {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return { hostname: addr.hostname, port: addr.port };
  }
  return { transport: "unix", path: (addr as Deno.UnixAddr).path };
}

function urlOfAddress(address: SocketAddress): string {
  return address.transport === "unix"
    ? `unix:${address.path}`
    : `${address.transport ?? "tcp"}://${address.hostname ?? "127.0.0.1"}:${address.port}`;
}
