// A Deno connection as a byte stream, read into one reused buffer. Deno only.

import type { ByteStream } from "../types.ts";
import { type DirectBytes, offerDirectBytes } from "../_direct.ts";

/**
 * A Deno connection as a {@linkcode ByteStream} that reads into one reused
 * buffer and hands out copies of just the bytes read: `conn.readable`
 * allocates a fresh 64 KiB buffer per read, which costs more than the small
 * messages RPC reads. A reset or closed connection simply ends the stream.
 *
 * @param conn a TCP or Unix connection
 * @param options `onActivity`, called after every read and write that moved bytes
 * (a server's idle timeout listens to it)
 * @returns the byte stream, for `framedStream`
 *
 * @example A connection's bytes, framed by newlines
 * ```ts
 * import assert from "node:assert/strict";
 * import { connByteStream } from "./tcp.ts";
 * import { framedStream } from "../framed.ts";
 * import { newline } from "../framing/delimiter.ts";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const server = await accepted;
 * await server.write(new TextEncoder().encode("one\ntwo\n"));
 * server.close();
 * const frames = framedStream(connByteStream(conn), newline());
 * const received = (await Array.fromAsync(frames.readable)).flat();
 * assert.deepEqual(received.map((frame) => new TextDecoder().decode(frame as Uint8Array)), ["one", "two"]);
 * ```
 */
export function connByteStream(
  conn: Deno.Conn,
  options: { readonly onActivity?: () => void } = {},
): ByteStream {
  const activity = options.onActivity ?? (() => {});
  // Made on the first read through the stream: framedStream reads through
  // `direct` with a buffer of its own, and an idle connection costs little.
  let scratch: Uint8Array | undefined;
  // What the streams below do, offered to framedStream without them.
  const direct: DirectBytes = {
    async read(buffer) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch (error) {
        // A connection closed by us (during the read: Interrupted) or
        // reset by the peer simply ends. A TLS peer that closes without
        // close_notify ends it as well.
        if (
          error instanceof Deno.errors.BadResource ||
          error instanceof Deno.errors.Interrupted ||
          error instanceof Deno.errors.ConnectionReset ||
          error instanceof Deno.errors.UnexpectedEof
        ) n = null;
        else throw error;
      }
      if (n !== null) activity();
      return n;
    },
    async write(chunk) {
      for (let written = 0; written < chunk.length;) {
        written += await conn.write(written === 0 ? chunk : chunk.subarray(written));
        activity();
      }
    },
    closeWrite() {
      try {
        conn.closeWrite();
      } catch {
        // Closed already.
      }
    },
  };
  // The streams are made when first asked for: framedStream reads and
  // writes through `direct`, and each stream costs an idle connection memory.
  let readable: ReadableStream<Uint8Array> | undefined;
  let writable: WritableStream<Uint8Array> | undefined;
  return offerDirectBytes({
    get readable() {
      return readable ??= new ReadableStream<Uint8Array>({
        async pull(controller) {
          scratch ??= new Uint8Array(64 * 1024);
          const n = await direct.read(scratch);
          if (n === null) controller.close();
          else controller.enqueue(scratch.slice(0, n));
        },
      }, { highWaterMark: 0 });
    },
    get writable() {
      return writable ??= new WritableStream<Uint8Array>({
        write: (chunk) => direct.write(chunk),
        close: () => direct.closeWrite(),
      });
    },
    close: () => {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    },
  }, direct);
}

// Calls are small and latency matters: do not let Nagle hold them back.
export function noDelay(conn: Deno.Conn): void {
  if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
}
