/**
 * An HTTP/2 client on Deno's sockets, with parley's own HTTP/2
 * (protocols/http2/): `http://` is cleartext with prior knowledge (h2c) on
 * `Deno.connect`, `https://` TLS with ALPN `h2` on `Deno.connectTls`. One
 * connection carries every request as a stream of its own; it opens with
 * the first request (which is queued meanwhile, so `request()` never
 * waits), and when it goes away (GOAWAY, an error, the server gone) the
 * next request opens another.
 *
 * @module
 */

import {
  Http2Connection,
  type Http2ConnectionOptions,
} from "../../../protocols/http2/connection.ts";
import type { Http2HeadersInit, Http2Stream } from "../../../protocols/http2/stream.ts";
import { ConnectionClosedError } from "../../errors.ts";
import { certificateError } from "../_certificate.ts";
import { driveSocket } from "./_driver.ts";
import { type Guard, guardConnection, type KeepAlive } from "./_guard.ts";

/** Options of {@linkcode connectHttp2}. */
export interface Http2ClientOptions extends Omit<Http2ConnectionOptions, "authority" | "scheme"> {
  /** PEM certificates to trust for `https://`, besides the system's. */
  readonly caCerts?: readonly string[];
  /** A client certificate chain (PEM) to present, with `key`: mutual TLS. */
  readonly cert?: string;
  /** The PEM private key of `cert`. */
  readonly key?: string;
  /** Pings of the client's own; a server that leaves one unanswered is dropped. Off by default. */
  readonly keepAlive?: KeepAlive;
  /** Told why a connection ended, when it was not graceful. */
  readonly onError?: (error: unknown) => void;
  /**
   * Milliseconds from opening a connection to the server's SETTINGS (TCP,
   * TLS and HTTP/2's preface together); past it the connection's requests
   * fail with a `ConnectionClosedError`. 30 s by default.
   */
  readonly connectTimeout?: number;
}

/** An HTTP/2 client of one origin. */
export interface Http2Client extends AsyncDisposable {
  /** The origin, `http://host:port` or `https://host:port`. */
  readonly url: string;
  /**
   * Sends a request: `:method` and `:path` at least (`:scheme` and
   * `:authority` come from the URL). The response's headers are
   * `stream.response`, its body `stream.read()`, its trailers
   * `stream.trailers` after the end.
   *
   * @throws {ConnectionClosedError} after `close()`
   */
  request(headers: Http2HeadersInit, options?: { readonly endStream?: boolean }): Http2Stream;
  /**
   * A PING on the current connection; the round trip in ms.
   *
   * @throws {ConnectionClosedError} when there is no connection, or it ends first
   */
  ping(): Promise<number>;
  /** Requests in flight. */
  readonly streams: number;
  /** Graceful: GOAWAY, the streams in flight finish, then the socket closes. */
  close(): Promise<void>;
}

/**
 * Makes an HTTP/2 client of `url`'s origin.
 *
 * @param url `http://host:port` (h2c, prior knowledge) or `https://host:port` (TLS, ALPN h2)
 * @param options TLS trust, windows, limits, pings
 * @returns the client
 * @throws {TypeError} for another scheme, or only one of `cert` and `key`
 *
 * @example Against parley's own server
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectHttp2 } from "./client.ts";
 * import { serveHttp2 } from "./server.ts";
 *
 * await using server = serveHttp2({
 *   onStream: (stream) => {
 *     stream.respond({ ":status": 200, "content-type": "text/plain" });
 *     stream.write(new TextEncoder().encode(`you asked for ${stream.headers[":path"]}`));
 *     stream.end();
 *   },
 * });
 * await using client = connectHttp2(server.url);
 * const stream = client.request({ ":method": "GET", ":path": "/x" }, { endStream: true });
 * assert.equal((await stream.response)[":status"], "200");
 * const chunks = await Array.fromAsync(stream);
 * assert.equal(new TextDecoder().decode(chunks[0]), "you asked for /x");
 * ```
 */
export function connectHttp2(url: string, options: Http2ClientOptions = {}): Http2Client {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`connectHttp2: ${url} is not an http:// or https:// URL`);
  }
  const tls = parsed.protocol === "https:";
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new TypeError(`${url}: a client certificate needs both cert and key`);
  }
  const hostname = parsed.hostname.replace(/^\[|\]$/g, "");
  const port = Number(parsed.port || (tls ? 443 : 80));
  const onError = options.onError ?? (() => {});
  const connectTimeout = options.connectTimeout ?? 30_000;
  let current: { connection: Http2Connection; guard: Guard; done: Promise<void> } | undefined;
  const all = new Set<Promise<void>>();
  let closed = false;

  const open = () => {
    const driven = driveSocket(() => connection);
    const connection: Http2Connection = new Http2Connection("client", {
      onOutput: driven.onOutput,
      onEstablished: () => clearTimeout(silent),
      onClose: (error) => {
        clearTimeout(silent);
        driven.ended();
        if (error !== undefined) onError(error);
      },
    }, { ...options, authority: parsed.host, scheme: tls ? "https" : "http" });
    // A server that accepts and says nothing (or not HTTP/2) fails the requests in time.
    const silent = connectTimeout === Infinity ? undefined : setTimeout(() => {
      connection.destroy(
        new ConnectionClosedError(
          `No HTTP/2 SETTINGS from ${parsed.host} within ${connectTimeout} ms`,
        ),
      );
    }, connectTimeout);
    const guard = guardConnection(connection, {
      firstFrameTimeout: Infinity,
      idleTimeout: Infinity,
      keepAlive: options.keepAlive,
    });
    const done = driven.done.then(() => {
      guard.stop();
      all.delete(done);
      if (current?.connection === connection) current = undefined;
    });
    all.add(done);
    current = { connection, guard, done };
    connect().then(
      (conn) => {
        if (connection.closed) {
          conn.close();
          driven.abandon();
        } else {
          driven.attach(conn);
        }
      },
      (error) => {
        connection.socketEnded(error);
        driven.abandon();
      },
    );
    return connection;
  };

  const connect = async (): Promise<Deno.Conn> => {
    if (!tls) return await Deno.connect({ hostname, port });
    const conn = await Deno.connectTls({
      hostname,
      port,
      alpnProtocols: ["h2"],
      ...(options.caCerts === undefined ? {} : { caCerts: [...options.caCerts] }),
      ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key! }),
    });
    try {
      const { alpnProtocol } = await conn.handshake();
      if (alpnProtocol !== "h2") {
        throw new ConnectionClosedError(
          `${parsed.host} did not agree to HTTP/2 (ALPN ${alpnProtocol ?? "none"})`,
        );
      }
    } catch (error) {
      conn.close();
      throw certificateError(error, parsed.host) ?? error;
    }
    return conn;
  };

  const connection = () => {
    const now = current?.connection;
    return now !== undefined && now.open ? now : open();
  };

  return {
    url: parsed.origin,
    request(headers, requestOptions = {}) {
      if (closed) throw new ConnectionClosedError("The HTTP/2 client is closed");
      return connection().request(headers, requestOptions);
    },
    ping() {
      const now = current?.connection;
      if (now === undefined) return Promise.reject(new ConnectionClosedError("No connection"));
      return now.ping();
    },
    get streams() {
      return current?.connection.streams ?? 0;
    },
    async close() {
      closed = true;
      current?.connection.close();
      while (all.size > 0) await Promise.all(all);
    },
    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };
}
