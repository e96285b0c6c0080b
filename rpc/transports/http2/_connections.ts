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
