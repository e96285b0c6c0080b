// Mutual TLS for serveTcp: a TLS listener that asks every client for a
// certificate and verifies it against the given CAs.
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

import tls from "node:tls";
import type { Socket } from "node:net";
import type { Connection, ContextFunction, PeerCertificate } from "../connection.ts";
import { framedStream } from "../framed.ts";
import type { Peer, PeerOptions } from "../peer.ts";
import { servePeer, type ServiceSource } from "../serve_connection.ts";
import type { ByteStream, Framing } from "../types.ts";
import { Episodes } from "./_accept.ts";
import { ConnectionClock, type ConnectionTimeouts } from "./_timeouts.ts";
import { LimitError } from "../errors.ts";
import { refuseWithReason } from "./_connection.ts";

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

/** What serveTcp hands over for a mutual-TLS address. */
export interface MutualTlsSettings {
  readonly hostname: string;
  readonly port: number;
  readonly cert: string;
  readonly key: string;
  readonly clientCa: readonly string[];
  readonly alpnProtocols?: readonly string[];
  readonly framing: Framing;
  readonly service: ServiceSource;
  readonly peerOptions: Omit<PeerOptions, "service">;
  readonly context: ContextFunction | undefined;
  readonly timeouts: ConnectionTimeouts;
  readonly maxConnections: number;
  readonly onConnection: ((peer: Peer) => void) | undefined;
  readonly onError: (error: unknown) => void;
}

/** The running mutual-TLS listener. */
export interface MutualTlsListener {
  readonly addr: Deno.NetAddr;
  readonly peers: ReadonlySet<Peer>;
  shutdown(): Promise<void>;
  readonly finished: Promise<void>;
}

/** Listens for mutual-TLS connections, one peer per verified client. */
export async function listenMutualTls(settings: MutualTlsSettings): Promise<MutualTlsListener> {
  const peers = new Set<Peer>();
  const sockets = new Set<Socket>();
  const { onError } = settings;
  const refusals = new Episodes();
  let stopping = false;
  const server = tls.createServer({
    cert: settings.cert,
    key: settings.key,
    ca: [...settings.clientCa],
    requestCert: true,
    rejectUnauthorized: false,
    ...(settings.alpnProtocols === undefined ? {} : { ALPNProtocols: [...settings.alpnProtocols] }),
  });
  server.on("tlsClientError", (error: Error) => {
    if (!stopping) onError(new Error(`TLS handshake failed: ${error.message}`, { cause: error }));
  });
  server.on("connection", (socket: Socket) => {
    if (stopping || sockets.size >= settings.maxConnections) {
      if (!stopping && refusals.begins()) {
        onError(
          new LimitError(
            "maxConnections",
            settings.maxConnections,
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
    const remote = `tls://${socket.remoteAddress}:${socket.remotePort}`;
    const clock = new ConnectionClock(settings.timeouts, remote, (error) => {
      if (error.limitName === "firstFrameTimeout") onError(error);
      socket.destroy();
    });
    socket.on("close", () => clock.stop());
    const verdict = verify(socket, remote);
    if (verdict instanceof ClientCertificateError) {
      onError(verdict);
      socket.destroy();
      return;
    }
    const connection: Connection = {
      transport: "tls",
      remoteAddr: { hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
      localAddr: { hostname: socket.localAddress ?? "", port: socket.localPort ?? 0 },
      alpnProtocol: typeof socket.alpnProtocol === "string" ? socket.alpnProtocol : null,
      peerCertificate: verdict,
    };
    // Called inside the promise: a context that throws at once is a refusal, not an uncaught throw.
    Promise.resolve().then(() => settings.context?.(connection)).then((context) => {
      if (stopping || socket.destroyed) {
        socket.destroy();
        return;
      }
      const bytes = socketByteStream(socket, clock.touch);
      const stream = framedStream(bytes, settings.framing, {
        remote,
        text: settings.peerOptions.codec.text === true,
      });
      const peer = servePeer(clock.frames(stream), {
        ...settings.peerOptions,
        service: settings.service,
        remote,
        connection: settings.context === undefined ? { connection } : { connection, context },
      });
      clock.watch(peer);
      peers.add(peer);
      peer.closed.then(() => peers.delete(peer));
      settings.onConnection?.(peer);
    }, (error) => {
      const stream = framedStream(socketByteStream(socket, clock.touch), settings.framing, {
        remote,
        text: settings.peerOptions.codec.text === true,
      });
      void refuseWithReason(stream, settings.peerOptions.codec, error)
        .finally(() => socket.destroy());
      onError(
        new Error(`Connection from ${remote} refused by context: ${error?.message}`, {
          cause: error,
        }),
      );
    });
  });
  const listening = Promise.withResolvers<void>();
  server.once("error", listening.reject);
  server.listen(settings.port, settings.hostname, () => listening.resolve());
  await listening.promise;
  server.on("error", onError);
  const closed = Promise.withResolvers<void>();
  server.on("close", () => closed.resolve());
  const address = server.address() as { address: string; port: number };
  const finished = closed.promise.then(() => Promise.all([...peers].map((p) => p.closed)))
    .then(() => {});
  return {
    addr: { transport: "tcp", hostname: address.address, port: address.port },
    peers,
    async shutdown() {
      if (!stopping) {
        stopping = true;
        server.close();
        await Promise.all([...peers].map((peer) => peer.drain()));
        for (const socket of sockets) socket.destroy();
      }
      await finished;
    },
    finished,
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

// A node socket as a byte stream, with backpressure both ways.
function socketByteStream(socket: Socket, activity: () => void): ByteStream {
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      socket.on("data", (chunk: Uint8Array) => {
        activity();
        controller.enqueue(new Uint8Array(chunk));
        if ((controller.desiredSize ?? 0) <= 0) socket.pause();
      });
      const end = () => {
        try {
          controller.close();
        } catch {
          // Closed already.
        }
      };
      socket.on("end", end);
      socket.on("close", end);
    },
    pull() {
      socket.resume();
    },
    cancel() {
      socket.destroy();
    },
  }, { highWaterMark: 4 });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) =>
      new Promise<void>((resolve, reject) => {
        socket.write(chunk, (error) => error ? reject(error) : (activity(), resolve()));
      }),
    close: () => new Promise<void>((resolve) => socket.end(resolve)),
    abort: () => void socket.destroy(),
  });
  return { readable, writable, close: () => void socket.destroy() };
}
