/**
 * Helpers for tests that watch a child server's memory and talk to it over
 * a raw socket. Memory is read from /proc through `cat`: Deno asks for
 * --allow-all to read /proc directly, which the test task does not grant.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Codec, Framing } from "../rpc/types.ts";

function statusOf(pid: number): string {
  const output = new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).outputSync();
  assert.equal(output.code, 0, `cannot read /proc/${pid}/status: is the process gone?`);
  return new TextDecoder().decode(output.stdout);
}

/** A process's resident memory in bytes (VmRSS), or its peak (VmHWM). */
export function residentBytes(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(statusOf(pid))?.[1];
  assert.ok(kib !== undefined, `no ${field} in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

/** A process's resident memory now and at its peak, in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  return { rss: residentBytes(pid, "VmRSS"), peak: residentBytes(pid, "VmHWM") };
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
