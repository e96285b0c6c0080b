// serveHttp with clientCa: HTTPS and WSS with client certificates. Deno only.
//
// Deno 2.9's Deno.serve and Deno.listenTls cannot ask a client for a
// certificate (see ../_mtls_accept.ts), and a node:tls TLSSocket wrapped
// around a connection of ours does not verify the client's chain (it says
// `authorized: false` for a good certificate and a foreign one alike). So the
// public address is the shared mutual-TLS acceptor (node:tls, requestCert,
// the verdict with its reason), and each verified socket is relayed, in
// clear over loopback, to the plain listener serveHttp already has for
// WebSocket routes (_front.ts: head timeout, `ws` for handshakes, the rest
// to Deno.serve). Everything HTTP (limits, bodies, timeouts, WebSockets)
// stays the code of the plain server; what this adds is the TLS handshake
// and who the client is: the relay's local port → the verified
// `Connection`, looked up by the port the front sees the relay come from.
// The relay's cost is one loopback hop more per connection.

import net from "node:net";
import type tls from "node:tls";
import type { Connection } from "../../connection.ts";
import { acceptMutualTls, type MutualTlsAcceptor } from "../_mtls_accept.ts";

/** What {@linkcode relayMutualTls} needs. */
export interface MutualTlsRelayOptions {
  readonly hostname: string;
  readonly port: number;
  readonly cert: string;
  readonly key: string;
  readonly clientCa: readonly string[];
  /** Milliseconds for the TLS handshake. */
  readonly handshakeTimeout: number;
  readonly maxConnections: number;
  /** The plain listener to relay verified clients to (loopback). */
  readonly upstream: () => Deno.NetAddr;
  readonly onError: (error: unknown) => void;
}

/** The running relay. */
export interface MutualTlsRelay {
  /** The public address. */
  readonly addr: Deno.NetAddr;
  /** The verified client whose relay reaches the upstream from `port`. */
  clientOf(port: number): Connection | undefined;
  /** Stops accepting; relays already open go on. */
  stop(): void;
  /** Closes every socket still open, and resolves when the listener has closed. */
  close(): Promise<void>;
}

/**
 * Accepts mutual-TLS clients on the public address and relays the verified
 * ones to `upstream`.
 *
 * @param options the address, the certificates, the limits, the upstream
 * @returns the relay, listening
 */
export async function relayMutualTls(options: MutualTlsRelayOptions): Promise<MutualTlsRelay> {
  const clients = new Map<number, Connection>();
  const acceptor: MutualTlsAcceptor = await acceptMutualTls({
    hostname: options.hostname,
    port: options.port,
    cert: options.cert,
    key: options.key,
    clientCa: options.clientCa,
    alpnProtocols: ["http/1.1"],
    handshakeTimeout: options.handshakeTimeout,
    maxConnections: options.maxConnections,
    onError: options.onError,
    onVerified: (socket, connection) =>
      relay(socket, { ...connection, transport: "https" }, clients, options),
  });
  return {
    addr: acceptor.addr,
    clientOf: (port) => clients.get(port),
    stop: () => acceptor.stop(),
    close: async () => {
      acceptor.stop();
      acceptor.destroyAll();
      await acceptor.closed;
    },
  };
}

function relay(
  socket: tls.TLSSocket,
  connection: Connection,
  clients: Map<number, Connection>,
  options: MutualTlsRelayOptions,
): void {
  const { hostname, port } = options.upstream();
  const upstream = net.connect(port, hostname);
  let via: number | undefined;
  const end = () => {
    if (via !== undefined) clients.delete(via);
    via = undefined;
    socket.destroy();
    upstream.destroy();
  };
  // Either end going away ends both; errors only say that it went.
  socket.on("error", end).on("close", end);
  upstream.on("error", (error) => {
    if (via === undefined) options.onError(error);
    end();
  }).on("close", end);
  upstream.once("connect", () => {
    // Known before a byte is relayed: the upstream cannot see a request
    // from this port before the client's bytes are piped.
    via = upstream.localPort;
    if (via !== undefined) clients.set(via, connection);
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
}
