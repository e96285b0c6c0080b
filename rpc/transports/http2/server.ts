/**
 * An HTTP/2 server on Deno's sockets, with parley's own HTTP/2
 * (protocols/http2/): cleartext with prior knowledge (h2c) on
 * `Deno.listen`, or TLS with ALPN `h2` on `Deno.listenTls`. Each stream is
 * handed to `onStream`; each connection is held to the guards of
 * docs/http2.md: `maxConnections`, a first stream within
 * `firstFrameTimeout`, an idle connection closed after `idleTimeout`, a
 * stream whose peer goes silent reset, keep-alive pings; what the protocol
 * itself bounds (rapid reset, floods, header sizes) the connection does.
 *
 * @module
 */

import type { Connection } from "../../connection.ts";
import { connectionInfo } from "../_connection.ts";
import type { Http2ConnectionOptions } from "../../../protocols/http2/connection.ts";
import type { Http2Stream } from "../../../protocols/http2/stream.ts";
import { acceptLoop, resolveMaxConnections } from "../_accept.ts";
import { resolveTimeouts } from "../_timeouts.ts";
import { http2Connections, type Http2Server, runningServer } from "./_connections.ts";
import type { KeepAlive } from "./_guard.ts";

/** Options of {@linkcode serveHttp2}. */
export interface ServeHttp2Options extends Http2ConnectionOptions {
  /** The address to bind; `127.0.0.1` by default. */
  readonly hostname?: string;
  /** The port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** A PEM certificate chain: with `key`, serve TLS with ALPN `h2`. */
  readonly cert?: string;
  /** The PEM private key of `cert`. */
  readonly key?: string;
  /**
   * Each request: its headers are in `stream.headers`, its body is read from
   * the stream. A throw or a rejected promise resets the stream
   * (INTERNAL_ERROR) and is told to `onError`. `connection` is the same
   * object for every stream of one connection (transport `h2` over TLS,
   * `h2c` without).
   */
  readonly onStream: (stream: Http2Stream, connection: Connection) => void | Promise<void>;
  /** Connections open at once; more are closed as they arrive. 10,000 by default. */
  readonly maxConnections?: number;
  /**
   * Milliseconds from a connection's start to its first stream; then it is
   * sent GOAWAY and closed (a slowloris, a client that connects and waits).
   * 30 s by default.
   */
  readonly firstFrameTimeout?: number;
  /**
   * Milliseconds a connection may receive nothing while no stream is open
   * (then GOAWAY, closed), and a stream's peer may send nothing while its
   * side is open (then the stream is reset, CANCEL). 5 minutes by default.
   */
  readonly idleTimeout?: number;
  /** The server's own pings; a peer that leaves one unanswered is closed. Off by default. */
  readonly keepAlive?: KeepAlive;
  /** Told about connections that ended with an error, and `onStream`'s throws. */
  readonly onError?: (error: unknown) => void;
}

export type { Http2Server } from "./_connections.ts";

/**
 * Serves HTTP/2: h2c with prior knowledge, or TLS with ALPN `h2` when
 * `cert` and `key` are given. HTTP/1.1 is not spoken: such a client gets
 * GOAWAY PROTOCOL_ERROR.
 *
 * @param options the address, TLS, the stream handler, limits
 * @returns the running server
 * @throws {TypeError} when only one of `cert` and `key` is given
 *
 * @example An echo, called by Node's HTTP/2 client (node:http2 on Deno)
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { serveHttp2 } from "./server.ts";
 *
 * await using server = serveHttp2({
 *   onStream: async (stream) => {
 *     stream.respond({ ":status": 200 });
 *     for await (const chunk of stream) stream.write(chunk);
 *     stream.end({ "x-echoed": "yes" });
 *   },
 * });
 * const session = http2.connect(server.url);
 * const request = session.request({ ":method": "POST", ":path": "/" });
 * request.end("hello");
 * const chunks: Uint8Array[] = [];
 * request.on("data", (chunk: Uint8Array) => chunks.push(chunk));
 * const closed = new Promise((resolve) => request.on("close", resolve));
 * const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve) =>
 *   request.on("trailers", resolve)
 * );
 * await closed;
 * session.close();
 * assert.equal(trailers["x-echoed"], "yes");
 * assert.equal(new TextDecoder().decode(chunks[0]), "hello");
 * ```
 */
export function serveHttp2(options: ServeHttp2Options): Http2Server {
  const tls = options.cert !== undefined || options.key !== undefined;
  if (tls && (options.cert === undefined || options.key === undefined)) {
    throw new TypeError("serveHttp2: TLS needs both cert and key");
  }
  const maxConnections = resolveMaxConnections(options.maxConnections);
  const timeouts = resolveTimeouts({
    ...(options.firstFrameTimeout === undefined
      ? {}
      : { firstFrameTimeout: options.firstFrameTimeout }),
    ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
  });
  const onError = options.onError ?? (() => {});
  const hostname = options.hostname ?? "127.0.0.1";
  const listener: Deno.Listener = tls
    ? Deno.listenTls({
      hostname,
      port: options.port ?? 0,
      cert: options.cert!,
      key: options.key!,
      alpnProtocols: ["h2"],
    })
    : Deno.listen({ hostname, port: options.port ?? 0 });
  const bound = listener.addr as Deno.NetAddr;
  const host = bound.hostname.includes(":") ? `[${bound.hostname}]` : bound.hostname;
  const url = `${tls ? "https" : "http"}://${host}:${bound.port}`;
  const connections = http2Connections(options, timeouts);
  const stop = new AbortController();
  const accepted = (conn: Deno.Conn) =>
    connections.accept(conn, connectionInfo(conn, tls ? "h2" : "h2c"));

  const loop = acceptLoop(listener, accepted, {
    url,
    maxConnections,
    open: () => connections.size,
    signal: stop.signal,
    onError,
  });

  return runningServer({
    addr: { hostname: bound.hostname, port: bound.port },
    url,
    connections,
    accepting: loop,
    stopAccepting: async () => {
      stop.abort();
      try {
        listener.close();
      } catch {
        // Closed already.
      }
      await loop;
    },
  });
}
