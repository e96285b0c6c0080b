/**
 * Sends one input on a fresh raw TCP connection and says how the server
 * ended it: the input is written (after a WebSocket handshake and its
 * answer, for WebSocket inputs), the connection is half-closed so that the
 * server sees the end of its input, and the server must then answer or close
 * within a bound. Neither is a hang.
 *
 * @module
 */

import type { Input } from "./_inputs.ts";

/** How a connection ended. */
export type Outcome =
  /** The server sent something (a reply, an error, a close frame, an HTTP status). */
  | "replied"
  /** The server closed or reset the connection without sending anything. */
  | "closed"
  /** Nothing sent and no close within the bound. */
  | "hang"
  /** The connection could not be opened. */
  | "refused";

/** What {@linkcode probe} found. */
export interface ProbeResult {
  /** How the connection ended. */
  readonly outcome: Outcome;
  /** The error or status line behind the outcome, when there is one. */
  readonly detail?: string;
}

const HEAD_END = "\r\n\r\n";
const latin1 = new TextDecoder("latin1");
/** The most of a WebSocket handshake's answer read while looking for its end. */
const MAX_HEAD = 64 * 1024;

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Sends `input` to `127.0.0.1:port` on a connection of its own.
 *
 * @param port the server's port
 * @param input the input
 * @param hangMs how long the whole exchange may take before it is a hang
 * @returns how the connection ended
 *
 * @example A server that answers
 * ```ts
 * import assert from "node:assert/strict";
 * import { probe } from "./_probe.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = listener.accept().then(async (conn) => {
 *   await conn.write(new TextEncoder().encode("hi"));
 *   conn.close();
 * });
 * const input = {
 *   seed: 1,
 *   kind: "random-bytes" as const,
 *   label: "one byte",
 *   writes: [new Uint8Array([1])],
 *   drip: false,
 * };
 * assert.equal((await probe(listener.addr.port, input, 5000)).outcome, "replied");
 * await serving;
 * listener.close();
 * ```
 */
export async function probe(port: number, input: Input, hangMs: number): Promise<ProbeResult> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch (error) {
    return { outcome: "refused", detail: String(error) };
  }
  let timedOut = false;
  // The bound covers everything, writes included: a server that neither
  // reads nor closes blocks a write once the socket buffers are full.
  const timer = setTimeout(() => {
    timedOut = true;
    close(conn);
  }, hangMs);
  let replied = false;
  const buffer = new Uint8Array(64 * 1024);
  try {
    conn.setNoDelay(true);
    if (input.handshake !== undefined) {
      await writeAll(conn, input.handshake);
      let head = "";
      while (!head.includes(HEAD_END) && head.length < MAX_HEAD) {
        const n = await conn.read(buffer);
        if (n === null) return { outcome: replied ? "replied" : "closed" };
        replied = true;
        head += latin1.decode(buffer.subarray(0, n));
      }
      const status = head.slice(0, head.indexOf("\r\n"));
      // A refused handshake is the server's answer: nothing more to send.
      if (!/^HTTP\/1\.1 101 /.test(status)) return { outcome: "replied", detail: status };
    }
    for (const bytes of input.writes) {
      await writeAll(conn, bytes);
      if (input.drip) await nextTurn();
    }
    await conn.closeWrite();
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return { outcome: replied ? "replied" : "closed" };
      replied = true;
    }
  } catch (error) {
    if (timedOut) {
      return replied ? { outcome: "replied" } : {
        outcome: "hang",
        detail: `no byte and no close within ${hangMs} ms`,
      };
    }
    // A reset, or a write after the server closed: the server ended it.
    return { outcome: replied ? "replied" : "closed", detail: (error as Error).name };
  } finally {
    clearTimeout(timer);
    close(conn);
  }
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already (by the timer).
  }
}
