// The client side of the TCP, TLS and Unix-socket transports: connectTcp,
// and reconnectTcp on top of it. Exported by ./tcp.ts.

import { framedStream } from "../framed.ts";
import { Peer, type PeerOptions } from "../peer.ts";
import { reconnecting, type ReconnectingClient, type ReconnectOptions } from "../reconnect.ts";
import type { RetryPolicy } from "../retry.ts";
import type { Service } from "../service.ts";
import type { Framing } from "../types.ts";
import { connByteStream, noDelay } from "./_conn.ts";
import { type SocketAddress, urlOf, urlOfAddress } from "./_addresses.ts";
import { connectTls } from "./tls.ts";

/** Options shared by server and client. */
export interface SocketPeerOptions extends Omit<PeerOptions, "service"> {
  /** How frames are delimited on the byte stream. */
  readonly framing: Framing;
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
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectTcp, serveTcp } from "./tcp.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { newline } from "../framing/delimiter.ts";
 * const options = { codec: jsonRpc(), framing: newline() };
 * await using server = serveTcp({ port: 0 }, { ...options, service: { add: (a: number, b: number) => a + b } });
 * await using client = await connectTcp(server.address, options);
 * assert.equal(await client.call("add", [1, 2]), 3);
 * ```
 */
export async function connectTcp(address: SocketAddress, options: ConnectOptions): Promise<Peer> {
  const { framing, connectTimeout = 10_000, ...peerOptions } = options;
  const conn = await dialSocket(address, connectTimeout);
  const stream = framedStream(connByteStream(conn), framing, {
    remote: urlOf(conn.remoteAddr),
    text: options.codec.text === true,
  });
  return new Peer(stream, peerOptions);
}

/**
 * Opens a TCP, TLS or Unix-socket connection within `connectTimeout` ms
 * (Nagle off): what connectTcp and connectRpyc share. A connection that
 * succeeds after the timeout is closed, not leaked.
 *
 * @param address where to connect
 * @param connectTimeout milliseconds to wait
 * @returns the connection
 * @throws {Deno.errors.TimedOut} when it takes longer
 */
export async function dialSocket(
  address: SocketAddress,
  connectTimeout: number,
): Promise<Deno.Conn> {
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
  try {
    const conn = await Promise.race([connecting, timeout]);
    noDelay(conn);
    return conn;
  } catch (error) {
    // A connection that succeeds after we gave up must not leak.
    connecting.then((late) => late.close(), () => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@linkcode reconnectTcp}. */
export interface ReconnectTcpOptions extends ConnectOptions {
  /**
   * The backoff, which connection errors retry, and which calls are sent
   * again after a drop or a busy refusal (`idempotent`).
   */
  readonly retry?: RetryPolicy;
  /** The same as `retry`, by its older name; `retry` wins where both say. */
  readonly reconnect?: ReconnectOptions;
  /** Called with each new connection's peer, the first included (to subscribe again, say). */
  readonly onConnect?: (peer: Peer) => void;
}

/**
 * Connects to a TCP, TLS or Unix-socket server and keeps reconnecting after
 * drops, as `reconnectWebSocket` does: calls waiting for a reply when the
 * connection drops fail at once with a `ConnectionClosedError`, calls made
 * meanwhile wait for the next connection (within their timeout), and new
 * connections are tried with exponential backoff and jitter. The first
 * connection is made before it resolves.
 *
 * @param address where the server listens
 * @param options as for {@linkcode connectTcp}, plus the backoff
 * @returns the client; `close()` it to stop
 * @throws {Deno.errors.ConnectionRefused} when the first connection is refused
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reconnectTcp, serveTcp } from "./tcp.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { newline } from "../framing/delimiter.ts";
 *
 * const options = { codec: jsonRpc(), framing: newline() };
 * await using server = serveTcp({ port: 0 }, { ...options, service: { hi: () => "hi" } });
 * await using client = await reconnectTcp(server.address, {
 *   ...options,
 *   reconnect: { initialDelay: 50, maxDelay: 2_000 },
 * });
 * assert.equal(await client.call("hi", [], { timeout: 5_000 }), "hi");
 * ```
 */
export function reconnectTcp(
  address: SocketAddress,
  options: ReconnectTcpOptions,
): Promise<ReconnectingClient> {
  // The interceptors run once per call, in the reconnecting client, not in each connection.
  const { interceptors: _, ...connection } = options;
  return reconnecting(urlOfAddress(address), {
    ...options,
    connect: () => connectTcp(address, connection),
  });
}
