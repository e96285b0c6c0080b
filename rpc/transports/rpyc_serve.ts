/**
 * `serveRpyc`: serves a TypeScript object to Python's RPyC
 * (`rpyc.connect(host, port).root`) over TCP, TLS or a Unix socket, one
 * {@linkcode RpycSession} per connection, with RPyC's exposure rules.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveRpyc } from "./rpyc_serve.ts";
 *
 * await using server = serveRpyc({ hostname: "127.0.0.1", port: 0 }, {
 *   root: { exposed_add: (a: number, b: number) => a + b },
 * });
 * assert.match(server.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
 * ```
 *
 * @module
 */

import { RpycSession, type RpycSessionOptions } from "../../protocols/rpyc/session.ts";
import { acceptLoop, closeQuietly, resolveMaxConnections } from "./_accept.ts";
import { type ConnectAddressOf, type ListenAddress, urlOf } from "./_addresses.ts";
import { connByteStream, noDelay } from "./_conn.ts";
import { listenSocket } from "./_listen.ts";
import { ConnectionClock, resolveTimeouts } from "./_timeouts.ts";

/** Options of {@linkcode serveRpyc}. */
export interface ServeRpycOptions extends RpycSessionOptions {
  /**
   * Milliseconds from accept to the connection's first complete RPyC
   * message (its TLS handshake included); 30,000 by default, `Infinity` for
   * none. A connection that takes longer (one that connects and never
   * sends, slowloris) is closed and `onError` told.
   */
  readonly firstFrameTimeout?: number;
  /**
   * Milliseconds after which a connection that received no message, with
   * no request in flight either way, is closed; 300,000 (5 minutes) by
   * default, `Infinity` for none. A slow call or a slow callback keeps its
   * connection open.
   */
  readonly idleTimeout?: number;
  /** Most connections held at once; 10 000. One more is closed at once. */
  readonly maxConnections?: number;
  /** Told what went wrong with a connection or the listener. */
  readonly onError?: (error: unknown) => void;
  /** Called with each new connection's session. */
  readonly onConnection?: (session: RpycSession) => void;
}

/** A running RPyC server. */
export interface RpycServer<A = ConnectAddressOf<ListenAddress>> extends AsyncDisposable {
  /** The address bound (the real port when 0 was asked for). */
  readonly addr: Deno.Addr;
  /** Where to connect (`connectRpyc(server.address)`). */
  readonly address: A;
  /** `tcp://127.0.0.1:PORT`, `tls://…` or `unix:/path`. */
  readonly url: string;
  /** The connections open now. */
  readonly sessions: ReadonlySet<RpycSession>;
  /** How many TypeScript objects all connections' Pythons hold references to. */
  readonly liveLocalObjects: number;
  /** Stops accepting and closes every connection. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
}

/**
 * Serves `options.root` (or one root per connection from `makeRoot`) to
 * Python's RPyC clients.
 *
 * @example A root per connection
 * ```ts
 * import { serveRpyc } from "./rpyc_serve.ts";
 *
 * let connections = 0;
 * const server = serveRpyc({ hostname: "127.0.0.1", port: 0 }, {
 *   makeRoot: () => ({ exposed_number: ++connections }),
 * });
 * await server.shutdown();
 * ```
 *
 * @typeParam A the kind of address listened on
 * @param address where to listen; port 0 picks a free port; TLS with its certificate and key
 * @param options the root, exposure rules and limits
 * @returns the running server
 */
export function serveRpyc<A extends ListenAddress>(
  address: A,
  options: ServeRpycOptions,
): RpycServer<ConnectAddressOf<A>> {
  const {
    maxConnections: max,
    onError = () => {},
    onConnection,
    firstFrameTimeout,
    idleTimeout,
    onMessage,
    ...sessionOptions
  } = options;
  const maxConnections = resolveMaxConnections(max);
  const timeouts = resolveTimeouts({
    ...(firstFrameTimeout === undefined ? {} : { firstFrameTimeout }),
    ...(idleTimeout === undefined ? {} : { idleTimeout }),
  });
  const { listener, tls, url, address: connectTo } = listenSocket(address);
  const sessions = new Set<RpycSession>();
  const stopping = new AbortController();

  const accepted = (conn: Deno.Conn): void => {
    if (!tls && address.transport !== "unix") noDelay(conn);
    let session: RpycSession | undefined;
    // The clock starts at accept: a TLS handshake counts against the first message's time.
    const clock = new ConnectionClock(timeouts, urlOf(conn.remoteAddr), (error) => {
      // Idleness is housekeeping; a connection that never sends a message is worth telling.
      if (error.limitName === "firstFrameTimeout") onError(error);
      if (session === undefined) closeQuietly(conn);
      else void session.close();
    });
    try {
      session = new RpycSession(connByteStream(conn), {
        ...sessionOptions,
        onMessage: onMessage === undefined ? clock.frame : () => (clock.frame(), onMessage()),
      });
    } catch (error) {
      clock.stop();
      closeQuietly(conn);
      return onError(error);
    }
    const served = session;
    clock.watch(served);
    sessions.add(served);
    served.closed.then(() => {
      clock.stop();
      sessions.delete(served);
      if (served.closeReason !== undefined) onError(served.closeReason);
    });
    onConnection?.(served);
  };

  const finished = (async () => {
    await acceptLoop(listener, accepted, {
      url,
      maxConnections,
      open: () => sessions.size,
      signal: stopping.signal,
      onError,
    });
    await Promise.all([...sessions].map((s) => s.closed));
  })();

  const shutdown = async (): Promise<void> => {
    if (!stopping.signal.aborted) {
      stopping.abort();
      listener.close();
      await Promise.all([...sessions].map((s) => s.close()));
    }
    await finished;
  };

  return {
    addr: listener.addr,
    address: connectTo,
    url,
    sessions,
    get liveLocalObjects() {
      let n = 0;
      for (const s of sessions) n += s.liveLocalObjects;
      return n;
    },
    shutdown,
    finished,
    [Symbol.asyncDispose]: shutdown,
  };
}
