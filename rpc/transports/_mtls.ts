// Mutual TLS for serveMutualTls: each client that _mtls_accept.ts verified
// becomes a framed peer, its identity in the peer's connection.

import type { Socket } from "node:net";
import type { ContextFunction } from "../connection.ts";
import { framedStream } from "../framed.ts";
import type { Peer, PeerOptions } from "../peer.ts";
import { servePeer, type ServiceSource } from "../serve_connection.ts";
import type { ByteStream, Framing } from "../types.ts";
import { ConnectionClock, type ConnectionTimeouts } from "./_timeouts.ts";
import { refuseWithReason } from "./_connection.ts";
import { acceptMutualTls } from "./_mtls_accept.ts";

/** What serveMutualTls hands over. */
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
  const { onError } = settings;
  let stopping = false;
  const acceptor = await acceptMutualTls({
    hostname: settings.hostname,
    port: settings.port,
    cert: settings.cert,
    key: settings.key,
    clientCa: settings.clientCa,
    alpnProtocols: settings.alpnProtocols,
    maxConnections: settings.maxConnections,
    // A client stuck in its handshake is held no longer than one that sends no first frame.
    handshakeTimeout: settings.timeouts.firstFrameTimeout,
    onError,
    onVerified: (socket, connection, remote) => {
      const clock = new ConnectionClock(settings.timeouts, remote, (error) => {
        if (error.limitName === "firstFrameTimeout") onError(error);
        socket.destroy();
      });
      socket.on("close", () => clock.stop());
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
          onFirstFrame: clock.frame,
        });
        const peer = servePeer(stream, {
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
    },
  });
  const finished = acceptor.closed.then(() => Promise.all([...peers].map((p) => p.closed)))
    .then(() => {});
  return {
    addr: acceptor.addr,
    peers,
    async shutdown() {
      if (!stopping) {
        stopping = true;
        acceptor.stop();
        await Promise.all([...peers].map((peer) => peer.drain()));
        acceptor.destroyAll();
      }
      await finished;
    },
    finished,
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
