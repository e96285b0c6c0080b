// A Deno connection as a byte stream, read into one reused buffer. Deno only.

import type { ByteStream } from "../types.ts";
import { type BytesReceiver, type DirectBytes, offerDirectBytes } from "../_direct.ts";

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
  const bytes = new ConnBytes(conn, options.onActivity);
  return offerDirectBytes(bytes, bytes);
}

// The byte stream, and what its streams do offered to framedStream without
// them. A class, its reads a promise chain rather than an async function: a
// connection waits in a read most of its life, and each suspended frame
// costs it memory.
class ConnBytes implements ByteStream, DirectBytes {
  readonly #conn: Deno.Conn;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  readonly #activity: () => void;
  #receiver: BytesReceiver | undefined;

  constructor(conn: Deno.Conn, onActivity: (() => void) | undefined) {
    this.#conn = conn;
    this.#activity = onActivity ?? noActivity;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return new Promise((resolve, reject) =>
      this.readTo(buffer, { bytesRead: resolve, readFailed: reject })
    );
  }

  // The read's outcome goes to `receiver` from the socket's own promise
  // (framedStream's reader: one promise fewer per read).
  readTo(buffer: Uint8Array, receiver: BytesReceiver): void {
    this.#receiver = receiver;
    this.#conn.read(buffer).then(this.#gave, this.#refused);
  }

  readonly #gave = (n: number | null): void => {
    if (n !== null) this.#activity();
    this.#receiver!.bytesRead(n);
  };

  readonly #refused = (error: unknown): void => {
    let n;
    try {
      n = ended(error);
    } catch (error) {
      return this.#receiver!.readFailed(error);
    }
    this.#receiver!.bytesRead(n);
  };

  // A chunk written whole by one write (small calls: nearly always) costs
  // one promise of ours; an async function per write cost several times that.
  write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return Promise.resolve();
    return this.#conn.write(chunk).then((written) => {
      this.#activity();
      return written < chunk.length ? this.#writeRest(chunk, written) : undefined;
    });
  }

  async #writeRest(chunk: Uint8Array, written: number): Promise<void> {
    while (written < chunk.length) {
      written += await this.#conn.write(chunk.subarray(written));
      this.#activity();
    }
  }

  closeWrite(): void {
    try {
      this.#conn.closeWrite();
    } catch {
      // Closed already.
    }
  }

  // The streams are made when first asked for: framedStream reads and
  // writes without them, and each stream costs an idle connection memory.
  get readable(): ReadableStream<Uint8Array> {
    let buffer: Uint8Array | undefined;
    return this.#readable ??= new ReadableStream<Uint8Array>({
      // framedStream reads through `readTo` with a buffer of its own: this
      // one is made on the first read through the stream.
      pull: async (controller) => {
        const scratch = buffer ??= new Uint8Array(64 * 1024);
        const n = await this.read(scratch);
        if (n === null) controller.close();
        else controller.enqueue(scratch.slice(0, n));
      },
    }, { highWaterMark: 0 });
  }

  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.closeWrite(),
    });
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
  }
}

function noActivity(): void {}

// A connection closed by us (during the read: Interrupted) or reset by the
// peer simply ends. A TLS peer that closes without close_notify ends it as
// well.
function ended(error: unknown): null {
  if (
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.UnexpectedEof
  ) return null;
  throw error;
}

// Calls are small and latency matters: do not let Nagle hold them back.
export function noDelay(conn: Deno.Conn): void {
  if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
}
