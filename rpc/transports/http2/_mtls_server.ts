// HTTP/2 over mutual TLS: serveHttp2's connections on sockets accepted by
// node:tls (_mtls_accept.ts), because Deno.listenTls cannot ask a client
// for its certificate. Only verified clients get an HTTP/2 connection; the
// identity rides in each stream's Connection (`peerCertificate`).

import { resolveMaxConnections } from "../_accept.ts";
import { acceptMutualTls } from "../_mtls_accept.ts";
import { resolveTimeouts } from "../_timeouts.ts";
import { http2Connections, type Http2Server, runningServer } from "./_connections.ts";
import { nodeSocket } from "./_node_socket.ts";
import type { ServeHttp2Options } from "./server.ts";

/** serveHttp2's options with the client CAs that mutual TLS trusts. */
export interface ServeHttp2MutualTlsOptions extends ServeHttp2Options {
  readonly cert: string;
  readonly key: string;
  /** The CAs (PEM text) whose client certificates are accepted; at least one. */
  readonly clientCa: readonly string[];
}

/**
 * Serves HTTP/2 over TLS with ALPN `h2` to clients whose certificate a
 * client CA signed; a refused one is told to `onError` as a
 * `ClientCertificateError` and its socket closed right after the
 * handshake. Each stream's connection has transport `h2` and the verified
 * `peerCertificate`.
 */
export async function serveHttp2MutualTls(
  options: ServeHttp2MutualTlsOptions,
): Promise<Http2Server> {
  const timeouts = resolveTimeouts({
    ...(options.firstFrameTimeout === undefined
      ? {}
      : { firstFrameTimeout: options.firstFrameTimeout }),
    ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
  });
  const connections = http2Connections(options, timeouts);
  let stopped = false;
  const acceptor = await acceptMutualTls({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    cert: options.cert,
    key: options.key,
    clientCa: options.clientCa,
    alpnProtocols: ["h2"],
    maxConnections: resolveMaxConnections(options.maxConnections),
    // A client stuck in its handshake is held no longer than one that never opens a stream.
    handshakeTimeout: timeouts.firstFrameTimeout,
    onError: options.onError ?? (() => {}),
    onVerified: (socket, connection) => {
      if (stopped) return void socket.destroy();
      connections.accept(nodeSocket(socket), { ...connection, transport: "h2" });
    },
  });
  const { hostname, port } = acceptor.addr;
  const url = `https://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  return runningServer({
    addr: { hostname, port },
    url,
    connections,
    accepting: acceptor.closed,
    stopAccepting: () => {
      stopped = true;
      acceptor.stop();
      return Promise.resolve();
    },
    afterClose: () => {
      acceptor.destroyAll();
      return acceptor.closed;
    },
  });
}
