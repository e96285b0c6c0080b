// The connections of an HTTP/2 server, whatever accepted their sockets
// (Deno.listen or Deno.listenTls in server.ts, node:tls for mutual TLS in
// _mtls_server.ts): each socket becomes an Http2Connection, driven and
// guarded, its streams handed to onStream; a shutdown sends every one
// GOAWAY and waits for them to close.

import type { Connection } from "../../connection.ts";
import {
  Http2Connection,
  type Http2ConnectionOptions,
} from "../../../protocols/http2/connection.ts";
import type { Http2Stream } from "../../../protocols/http2/stream.ts";
import { Http2ErrorCode } from "../../../protocols/http2/errors.ts";
import type { ConnectionTimeouts } from "../_timeouts.ts";
import { type DriverSocket, driveSocket } from "./_driver.ts";
import { guardConnection, type KeepAlive } from "./_guard.ts";

/** What the connections take of serveHttp2's options. */
export interface ConnectionsOptions extends Http2ConnectionOptions {
  readonly onStream: (stream: Http2Stream, connection: Connection) => void | Promise<void>;
  readonly keepAlive?: KeepAlive | undefined;
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** A running HTTP/2 server. */
export interface Http2Server extends AsyncDisposable {
  /** The address bound (the real port when 0 was asked for). */
  readonly addr: { readonly hostname: string; readonly port: number };
  /** `http://host:port` (h2c) or `https://host:port`. */
  readonly url: string;
  /** Connections open now. */
  readonly connections: number;
  /**
   * Graceful shutdown: no new connections, GOAWAY on the open ones, the
   * streams in flight finish; then resolves.
   */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/** The open connections of one server. */
export interface Http2Connections {
  /** Serves HTTP/2 on a new socket; `info` is the same object for all its streams. */
  accept(socket: DriverSocket, info: Connection): void;
  /** Connections open now. */
  readonly size: number;
  /** GOAWAY to every connection, now and to any accepted later; resolves when all are closed. */
  closeAll(): Promise<void>;
}

/** The connections of a server with `options`. */
export function http2Connections(
  options: ConnectionsOptions,
  timeouts: ConnectionTimeouts,
): Http2Connections {
  const onError = options.onError ?? (() => {});
  const open = new Set<Http2Connection>();
  const closing = new Set<Promise<void>>();
  let stopping = false;

  const onStream = (stream: Http2Stream, info: Connection) => {
    try {
      const handled = options.onStream(stream, info);
      if (handled instanceof Promise) {
        handled.catch((error) => {
          onError(error);
          stream.reset(Http2ErrorCode.INTERNAL_ERROR);
        });
      }
    } catch (error) {
      onError(error);
      stream.reset(Http2ErrorCode.INTERNAL_ERROR);
    }
  };

  return {
    accept(socket, info) {
      const driven = driveSocket(() => connection);
      const connection: Http2Connection = new Http2Connection("server", {
        onOutput: driven.onOutput,
        onStream: (stream) => {
          guard.streamOpened();
          onStream(stream, info);
        },
        onClose: (error) => {
          driven.ended();
          if (error !== undefined) onError(error);
        },
      }, options);
      const guard = guardConnection(connection, { ...timeouts, keepAlive: options.keepAlive });
      open.add(connection);
      if (stopping) connection.close();
      const done = driven.done.then(() => {
        guard.stop();
        open.delete(connection);
        closing.delete(done);
      });
      closing.add(done);
      driven.attach(socket);
    },
    get size() {
      return open.size;
    },
    async closeAll() {
      stopping = true;
      // GOAWAY: each connection refuses new streams and ends once its streams are done.
      for (const connection of open) connection.close();
      while (closing.size > 0) await Promise.all(closing);
    },
  };
}

/** How a server's listener stops, for {@linkcode runningServer}. */
export interface Listening {
  readonly addr: { readonly hostname: string; readonly port: number };
  readonly url: string;
  readonly connections: Http2Connections;
  /** Resolves when the listener stops accepting, for whatever reason. */
  readonly accepting: Promise<void>;
  /** Stops accepting; resolves once no socket will be accepted any more. */
  stopAccepting(): Promise<void>;
  /** After every connection has closed (the sockets the listener still holds). */
  afterClose?(): Promise<void>;
}

/** The server: its shutdown stops the listener, then sends GOAWAY and waits for the connections. */
export function runningServer(listening: Listening): Http2Server {
  const { connections } = listening;
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      await listening.stopAccepting();
      await connections.closeAll();
      await listening.afterClose?.();
    })();
  const finished = (async () => {
    await listening.accepting;
    await stopping;
  })();
  return {
    addr: listening.addr,
    url: listening.url,
    get connections() {
      return connections.size;
    },
    shutdown,
    finished,
    [Symbol.asyncDispose]: shutdown,
  };
}
