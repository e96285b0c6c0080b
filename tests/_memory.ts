/**
 * Helpers for tests that watch a child server's memory and talk to it over
 * a raw socket.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Codec, Framing } from "../rpc/types.ts";

/** A process's resident memory in bytes, from /proc. */
export function residentBytes(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
  assert.ok(kib !== undefined, `no ${field} in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

/**
 * Reads from `conn` until the framing yields a frame; its decoded message.
 * For one reply awaited at a time: bytes after that frame are dropped. After
 * `timeout` ms without it, the connection is closed and this throws.
 */
export async function readMessage(
  conn: Deno.Conn,
  framing: Framing,
  codec: Codec,
  timeout = 60_000,
) {
  const splitter = framing.splitter?.() ?? framing.textSplitter!();
  const buffer = new Uint8Array(256 * 1024);
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    conn.close();
  }, timeout);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      assert.ok(n !== null, "the server closed the connection");
      const [frame] = splitter.push(buffer.slice(0, n));
      if (frame !== undefined) return codec.decode(frame);
    }
  } catch (error) {
    if (expired) throw new Error(`no reply within ${timeout} ms`, { cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Writes all of `bytes` (a socket write may take only part of them). */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}
