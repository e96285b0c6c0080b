// The accepting half of mutual TLS, shared by serveMutualTls (framed
// peers, _mtls.ts) and serveHttp2 (gRPC over mutual TLS): a node:tls
// server that asks every client for a certificate, verifies it against the
// client CAs, and hands each verified socket over with its identity.
//
// Why node:tls and not Deno.listenTls: Deno 2.9's listenTls takes only
// cert, key and alpnProtocols (no client CA, no way to request a client
// certificate, and TlsHandshakeInfo has only alpnProtocol), so a server
// built on it cannot do mutual TLS. Deno's node:tls does: createServer with
// requestCert and ca verifies the client's chain and getPeerCertificate()
// gives its subject and subjectAltNames. The handshake runs with
// rejectUnauthorized off and the verdict is taken here, so that a refused
// client is told to onError with its reason (missing, expired, untrusted):
// with rejectUnauthorized on, Deno's node:tls reports only "socket hang up".
// A refused socket is closed before anything of it is read: no protocol
// state is ever kept for a client that is not trusted.

import tls from "node:tls";
import type { Socket } from "node:net";
import type { Connection, PeerCertificate } from "../connection.ts";
import { Episodes } from "./_accept.ts";
import { LimitError } from "../errors.ts";

/** Why a client certificate was refused. */
export type ClientCertificateFailure = "missing" | "expired" | "untrusted";

/**
 * A client was refused by a mutual-TLS server: it sent no certificate
 * (`missing`), one outside its validity dates (`expired`, checked first),
 * or one no trusted client CA signed (`untrusted`). Told to the server's
 * `onError`; the client sees its connection closed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClientCertificateError } from "./mtls.ts";
 *
 * const error = new ClientCertificateError("missing", "tls://127.0.0.1:50000", "no certificate");
 * assert.match(error.message, /sent no certificate/);
 * ```
 */
export class ClientCertificateError extends Error {
  /** Why the certificate was refused. */
  readonly reason: ClientCertificateFailure;
  /** The client, as a URL. */
  readonly remote: string;

  /**
   * Creates the error.
   *
   * @param reason why the certificate was refused
   * @param remote the client, as a URL
   * @param detail the TLS library's words for it
   */
  constructor(reason: ClientCertificateFailure, remote: string, detail: string) {
    super(
      reason === "missing"
        ? `The TLS client ${remote} sent no certificate, and this server requires one`
        : reason === "expired"
        ? `The TLS client ${remote} sent a certificate outside its validity dates (${detail})`
        : `The TLS client ${remote} sent a certificate no trusted client CA signed (${detail})`,
    );
    this.name = "ClientCertificateError";
    this.reason = reason;
    this.remote = remote;
  }
}

/** What {@linkcode acceptMutualTls} needs. */
export interface MutualTlsAcceptOptions {
  readonly hostname: string;
  readonly port: number;
  readonly cert: string;
  readonly key: string;
  readonly clientCa: readonly string[];
  readonly alpnProtocols?: readonly string[] | undefined;
  /** Milliseconds a client may take over its handshake; node's 120 s when absent. */
  readonly handshakeTimeout?: number | undefined;
  /** Sockets open at once, verified or not; more are closed as they arrive. */
  readonly maxConnections: number;
  readonly onError: (error: unknown) => void;
  /**
   * Each verified client: its socket (the handshake done) and what it is,
   * transport `tls`, `peerCertificate` its verified identity.
   */
  readonly onVerified: (socket: tls.TLSSocket, connection: Connection, remote: string) => void;
}

/** The running acceptor. */
export interface MutualTlsAcceptor {
  readonly addr: Deno.NetAddr;
  /** Stops accepting: the listening socket closes, clients still in their handshake are dropped. */
  stop(): void;
  /** Destroys every socket still open (the last step of a shutdown). */
  destroyAll(): void;
  /** Resolves when the listening socket has closed. */
  readonly closed: Promise<void>;
}

/** Listens for TLS clients, verifies their certificates, hands over the trusted ones. */
export async function acceptMutualTls(options: MutualTlsAcceptOptions): Promise<MutualTlsAcceptor> {
  if (options.clientCa.length === 0) {
    throw new TypeError("mutual TLS needs clientCa: the CAs (PEM text) of accepted clients");
  }
  const sockets = new Set<Socket>();
  const { onError, maxConnections } = options;
  const refusals = new Episodes();
  let stopping = false;
  const server = tls.createServer({
    cert: options.cert,
    key: options.key,
    ca: [...options.clientCa],
    requestCert: true,
    rejectUnauthorized: false,
    ...(options.handshakeTimeout === undefined
      ? {}
      : { handshakeTimeout: options.handshakeTimeout }),
    ...(options.alpnProtocols === undefined ? {} : { ALPNProtocols: [...options.alpnProtocols] }),
  });
  server.on("tlsClientError", (error: Error, socket: tls.TLSSocket) => {
    // Deno's node:tls reports a handshake timeout here but leaves the socket open.
    socket?.destroy();
    if (!stopping) onError(new Error(`TLS handshake failed: ${error.message}`, { cause: error }));
  });
  server.on("connection", (socket: Socket) => {
    if (stopping || sockets.size >= maxConnections) {
      if (!stopping && refusals.begins()) {
        onError(
          new LimitError(
            "maxConnections",
            maxConnections,
            `the server refuses connections while it holds ${sockets.size}`,
          ),
        );
      }
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    if (stopping) return void socket.destroy();
    const remote = `tls://${socket.remoteAddress}:${socket.remotePort}`;
    const verdict = verify(socket, remote);
    if (verdict instanceof ClientCertificateError) {
      onError(verdict);
      socket.destroy();
      return;
    }
    options.onVerified(socket, {
      transport: "tls",
      remoteAddr: { hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
      localAddr: { hostname: socket.localAddress ?? "", port: socket.localPort ?? 0 },
      alpnProtocol: typeof socket.alpnProtocol === "string" ? socket.alpnProtocol : null,
      peerCertificate: verdict,
    }, remote);
  });
  const listening = Promise.withResolvers<void>();
  server.once("error", listening.reject);
  server.listen(options.port, options.hostname, () => listening.resolve());
  await listening.promise;
  server.on("error", onError);
  const closed = Promise.withResolvers<void>();
  server.on("close", () => closed.resolve());
  const address = server.address() as { address: string; port: number };
  return {
    addr: { transport: "tcp", hostname: address.address, port: address.port },
    stop() {
      if (stopping) return;
      stopping = true;
      server.close();
    },
    destroyAll() {
      for (const socket of sockets) socket.destroy();
    },
    closed: closed.promise,
  };
}

// The verified certificate, or why it is refused.
function verify(
  socket: tls.TLSSocket,
  remote: string,
): PeerCertificate | ClientCertificateError {
  const cert = socket.getPeerCertificate();
  if (cert === null || cert === undefined || cert.subject === undefined) {
    return new ClientCertificateError("missing", remote, String(socket.authorizationError));
  }
  const now = Date.now();
  const from = Date.parse(cert.valid_from);
  const to = Date.parse(cert.valid_to);
  if (!(from <= now && now <= to)) {
    return new ClientCertificateError(
      "expired",
      remote,
      `valid from ${cert.valid_from} to ${cert.valid_to}`,
    );
  }
  if (!socket.authorized) {
    return new ClientCertificateError("untrusted", remote, String(socket.authorizationError));
  }
  const dn = (name: Record<string, string | string[]> | undefined): string =>
    Object.entries(name ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : v}`)
      .join(", ");
  const cn = cert.subject.CN;
  return {
    subject: dn(cert.subject as unknown as Record<string, string>),
    ...(cn === undefined ? {} : { commonName: Array.isArray(cn) ? cn[0]! : cn }),
    subjectAltNames: cert.subjectaltname === undefined
      ? []
      : cert.subjectaltname.split(/,\s*/).filter((s) => s !== ""),
    issuer: dn(cert.issuer as unknown as Record<string, string>),
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    validTo: new Date(to),
  };
}
