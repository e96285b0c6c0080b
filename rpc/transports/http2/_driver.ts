/**
 * Moves an HTTP/2 connection's bytes over a Deno socket: one read loop into
 * one reused buffer (each read handed to the connection whole, every frame
 * in it handled in one pass), and one write pump that takes everything the
 * connection produced meanwhile as one buffer: one `write` per batch, and
 * while a write is in flight the next batch gathers. Reading pauses while
 * the output is backed up (a peer that sends but does not read).
 *
 * The end: once the connection has ended, what is left of its output (its
 * GOAWAY) is written, the write side shut (FIN), and the socket closed
 * when the peer closes too or a second later: closing at once, with the
 * peer's bytes unread, would send a TCP reset that can destroy the GOAWAY
 * on its way.
 *
 * @module
 */

import type { Http2Connection } from "../../../protocols/http2/connection.ts";
import { noDelay } from "../_conn.ts";

/** Milliseconds an ended connection's socket waits for the peer's close. */
const GRACE = 1000;
/** Output bytes waiting beyond which reading pauses. */
const PAUSE_READING = 4 << 20;

/**
 * What the driver needs of a socket: a `Deno.Conn` is one; a `node:tls`
 * socket (mutual TLS, which Deno's own TLS cannot do) becomes one through
 * `_node_socket.ts`.
 */
export type DriverSocket = Pick<Deno.Conn, "read" | "write" | "closeWrite" | "close">;

/** A socket being driven; what a transport keeps of each connection. */
export interface Driven {
  /** Resolves when the socket is closed. */
  readonly done: Promise<void>;
  /** Wakes the write pump: the connection's `onOutput`. */
  readonly onOutput: () => void;
  /** Starts reading and writing on `conn` (a client may queue output before it connects). */
  attach(conn: DriverSocket): void;
  /**
   * The connection has ended (its `onClose`): the socket is closed within
   * a second however things stand, even with a write stuck on a peer that
   * reads nothing (or a TLS handshake that never ends).
   */
  ended(): void;
  /** Closes the socket now (no connection, or a connect that failed). */
  abandon(): void;
}

/**
 * Drives `connection()` over a socket attached later; the connection's
 * `onOutput` must call the returned `onOutput`.
 *
 * @param connection the connection, asked for once the socket is attached
 * @returns what drives it
 *
 * @example A client's and a server's connections over a real TCP socket pair
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2Connection } from "../../../protocols/http2/connection.ts";
 * import { driveSocket } from "./_driver.ts";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const serverSide = driveSocket(() => server);
 * const server = new Http2Connection("server", {
 *   onOutput: serverSide.onOutput,
 *   onStream: (stream) => {
 *     stream.respond({ ":status": 204 }, { endStream: true });
 *   },
 * });
 * const clientSide = driveSocket(() => client);
 * const client = new Http2Connection("client", { onOutput: clientSide.onOutput });
 * const accepted = listener.accept();
 * clientSide.attach(await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }));
 * serverSide.attach(await accepted);
 * const stream = client.request({ ":method": "GET", ":path": "/" }, { endStream: true });
 * assert.equal((await stream.response)[":status"], "204");
 * client.close();
 * await Promise.all([clientSide.done, serverSide.done]);
 * ```
 */
export function driveSocket(connection: () => Http2Connection): Driven {
  let socket: DriverSocket | undefined;
  let writing = false;
  let closed = false;
  let drained: PromiseWithResolvers<void> | undefined;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const { promise: done, resolve: resolveDone } = Promise.withResolvers<void>();

  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(graceTimer);
    try {
      socket?.close();
    } catch {
      // Closed already.
    }
    drained?.resolve();
    resolveDone();
  };

  const pump = async () => {
    const conn = connection();
    try {
      for (;;) {
        const out = conn.takeOutput();
        if (out.length === 0) break;
        for (let written = 0; written < out.length;) {
          written += await socket!.write(written === 0 ? out : out.subarray(written));
        }
        conn.flushed();
      }
    } catch (error) {
      // The peer is gone: nothing more can be written.
      writing = false;
      conn.socketEnded(error as Error);
      return close();
    }
    writing = false;
    drained?.resolve();
    drained = undefined;
    if (conn.closed) finish();
  };

  // The connection has ended and its output is out: FIN, then wait for the peer's close.
  let finished = false;
  const finish = () => {
    if (closed || finished) return;
    finished = true;
    try {
      socket?.closeWrite();
    } catch {
      return close();
    }
    graceTimer ??= setTimeout(close, GRACE);
  };

  const onOutput = () => {
    if (writing || socket === undefined || closed) return;
    writing = true;
    // A microtask: the frames made in the rest of this turn join the write.
    queueMicrotask(pump);
  };

  const read = async () => {
    const conn = connection();
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      if (writing && conn.bufferedAmount > PAUSE_READING) {
        drained ??= Promise.withResolvers();
        await drained.promise;
        continue;
      }
      let n: number | null;
      try {
        n = await socket!.read(buffer);
      } catch (error) {
        conn.socketEnded(error as Error);
        break;
      }
      if (n === null) {
        conn.socketEnded();
        break;
      }
      // After the end, the peer's last bytes are read and dropped until its close.
      conn.receive(buffer.subarray(0, n));
      if (closed) return;
    }
    close();
  };

  return {
    done,
    onOutput,
    attach(conn: DriverSocket) {
      socket = conn;
      noDelay(conn as Deno.Conn);
      read();
      const connectionNow = connection();
      if (connectionNow.closed && connectionNow.bufferedAmount === 0) finish();
      else onOutput();
    },
    ended() {
      if (!closed) graceTimer ??= setTimeout(close, GRACE);
    },
    abandon: close,
  };
}
