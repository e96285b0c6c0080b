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
import type { ConnectAddressOf, ListenAddress } from "./_addresses.ts";
import { connByteStream, noDelay } from "./_conn.ts";
import { listenSocket } from "./_listen.ts";

/** Options of {@linkcode serveRpyc}. */
export interface ServeRpycOptions extends RpycSessionOptions {
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
  const { maxConnections: max, onError = () => {}, onConnection, ...sessionOptions } = options;
  const maxConnections = resolveMaxConnections(max);
  const { listener, tls, url, address: connectTo } = listenSocket(address);
  const sessions = new Set<RpycSession>();
  const stopping = new AbortController();

  const accepted = (conn: Deno.Conn): void => {
    if (!tls && address.transport !== "unix") noDelay(conn);
    let session: RpycSession;
    try {
      session = new RpycSession(connByteStream(conn), sessionOptions);
    } catch (error) {
      closeQuietly(conn);
      return onError(error);
    }
    sessions.add(session);
    session.closed.then(() => {
      sessions.delete(session);
      if (session.closeReason !== undefined) onError(session.closeReason);
    });
    onConnection?.(session);
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
