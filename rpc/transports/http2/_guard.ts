/**
 * The clocks of one HTTP/2 connection (docs/http2.md, "Hostile input"): a
 * server's connection that opens no stream within `firstFrameTimeout` is
 * sent GOAWAY and closed; every `idleTimeout` a sweep resets the streams
 * whose peer sent nothing since the last one while its side was open
 * (CANCEL), and closes the connection (GOAWAY) when it received nothing and
 * had no stream open; keep-alive pings find a dead peer sooner. A few
 * timers per connection, none per stream.
 *
 * @module
 */

import type { Http2Connection } from "../../../protocols/http2/connection.ts";
import { ConnectionClosedError } from "../../errors.ts";

/** Keep-alive pings. */
export interface KeepAlive {
  /** Milliseconds between pings. */
  readonly interval: number;
  /** Milliseconds a ping's answer may take; then the connection is ended. */
  readonly timeout: number;
}

/** What {@linkcode guardConnection} watches for. */
export interface GuardOptions {
  /** Milliseconds to the first stream (a server's); `Infinity` for none. */
  readonly firstFrameTimeout: number;
  /** Milliseconds of silence (see the module); `Infinity` for none. */
  readonly idleTimeout: number;
  /** Pings of this side's own. */
  readonly keepAlive?: KeepAlive | undefined;
}

/** A connection's clocks. */
export interface Guard {
  /** A stream opened: the first-stream clock stops. */
  streamOpened(): void;
  /** Stops every clock (the connection is gone). */
  stop(): void;
}

/**
 * Starts the clocks of `connection`.
 *
 * @param connection the connection
 * @param options the timeouts and pings
 * @returns the guard, to stop with the connection
 *
 * @example An idle connection is closed
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2Connection } from "../../../protocols/http2/connection.ts";
 * import { guardConnection } from "./_guard.ts";
 *
 * const closed = Promise.withResolvers<void>();
 * const connection = new Http2Connection("server", {
 *   onOutput: () => {},
 *   onClose: () => closed.resolve(),
 * });
 * const guard = guardConnection(connection, { firstFrameTimeout: 20, idleTimeout: 1000 });
 * await closed.promise; // no stream within 20 ms: GOAWAY, and the end
 * guard.stop();
 * assert.equal(connection.closed, true);
 * ```
 */
export function guardConnection(connection: Http2Connection, options: GuardOptions): Guard {
  const timers: ReturnType<typeof setTimeout>[] = [];
  let first: ReturnType<typeof setTimeout> | undefined;
  if (options.firstFrameTimeout !== Infinity) {
    first = setTimeout(() => connection.close(), options.firstFrameTimeout);
  }
  if (options.idleTimeout !== Infinity) {
    timers.push(setInterval(() => {
      if (connection.sweep()) connection.close();
    }, options.idleTimeout));
  }
  const keepAlive = options.keepAlive;
  if (keepAlive !== undefined) {
    let waiting = false;
    timers.push(setInterval(() => {
      if (waiting || connection.closed) return;
      waiting = true;
      const dead = setTimeout(() => {
        connection.close();
        connection.destroy(
          new ConnectionClosedError(`No answer to a ping within ${keepAlive.timeout} ms`),
        );
      }, keepAlive.timeout);
      connection.ping().then(() => waiting = false, () => {}).finally(() => clearTimeout(dead));
    }, keepAlive.interval));
  }
  return {
    streamOpened() {
      clearTimeout(first);
      first = undefined;
    },
    stop() {
      clearTimeout(first);
      for (const timer of timers) clearInterval(timer);
    },
  };
}
