/**
 * The messages one end sends on a gRPC call's HTTP/2 stream, at the
 * reader's pace: framed into batches (one write for many small messages),
 * written without waiting while `write()` says there is room, and waiting
 * for `drain` when it says there is not, so a slow reader slows the
 * producer (HTTP/2's flow control stops the bytes; this stops the
 * messages). A batch that is not full goes out on the next turn of the
 * event loop, so a slow producer's messages are not held back.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import { setImmediate } from "node:timers";
import { FrameBatch } from "../../../protocols/grpc/_batch.ts";

/** A batch this large is written at once. */
const FLUSH_AT = 16 * 1024;

/** How {@linkcode OutboundMessages} waits for a reader. */
export interface OutboundOptions {
  /** Milliseconds a write may wait for the peer to read; `Infinity` for ever. */
  readonly stallTimeout: number;
  /** The peer read nothing for `stallTimeout`: the call should end. */
  readonly onStall: () => void;
}

/**
 * Sends framed messages on one stream.
 *
 * @example A client's request stream of three messages
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { Buffer } from "node:buffer";
 * import { OutboundMessages } from "./_outbound.ts";
 *
 * const server = http2.createServer();
 * const body = new Promise<Buffer>((resolve) =>
 *   server.on("stream", (stream: http2.ServerHttp2Stream) => {
 *     const chunks: Buffer[] = [];
 *     stream.on("data", (chunk: Buffer) => chunks.push(chunk));
 *     stream.on("end", () => {
 *       stream.respond({ ":status": 200 }, { endStream: true });
 *       resolve(Buffer.concat(chunks));
 *     });
 *   })
 * );
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const session = http2.connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
 * const call = session.request({ ":method": "POST", ":path": "/" });
 * call.resume();
 * const out = new OutboundMessages(call, { stallTimeout: Infinity, onStall: () => {} });
 * for (const n of [1, 2, 3]) await out.add(new Uint8Array([n]), false);
 * await out.flush();
 * call.end();
 * assert.deepEqual([...await body], [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 3]);
 * await new Promise((resolve) => call.on("close", resolve));
 * session.close();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export class OutboundMessages {
  readonly #stream: Duplex;
  readonly #options: OutboundOptions;
  readonly #batch = new FrameBatch();
  #scheduled = false;
  #needDrain = false;
  #drained: Promise<void> | undefined;

  /**
   * Sends on `stream` (a server's after its headers are sent).
   *
   * @param stream the call's HTTP/2 stream
   * @param options how long to wait for the reader
   */
  constructor(stream: Duplex, options: OutboundOptions) {
    this.#stream = stream;
    this.#options = options;
  }

  /**
   * Adds a message to send.
   *
   * @param message the message's bytes (already compressed when `compressed`)
   * @param compressed sets the prefix's flag
   * @returns a promise to await before the next message when the reader is
   *   behind; `undefined` when there is room (the common case costs no wait)
   */
  add(message: Uint8Array, compressed: boolean): Promise<void> | undefined {
    this.#batch.add(message, compressed);
    if (this.#needDrain) return this.#waitForDrain();
    if (this.#batch.size >= FLUSH_AT) {
      this.#write();
      return this.#needDrain ? this.#waitForDrain() : undefined;
    }
    this.#schedule();
    return undefined;
  }

  /**
   * Writes what is batched, after the reader has made room.
   *
   * @returns when it is written (the stream may still buffer it)
   */
  async flush(): Promise<void> {
    if (this.#needDrain) await this.#waitForDrain();
    this.#write();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#needDrain) this.#write();
    });
  }

  #write(): void {
    if (this.#batch.size === 0) return;
    const bytes = this.#batch.take();
    if (this.#stream.destroyed || this.#stream.writableEnded) return;
    if (!this.#stream.write(bytes)) this.#needDrain = true;
  }

  #waitForDrain(): Promise<void> {
    return this.#drained ??= new Promise<void>((resolve) => {
      const stream = this.#stream;
      const done = () => {
        clearTimeout(timer);
        stream.off("drain", done);
        stream.off("close", done);
        this.#needDrain = false;
        this.#drained = undefined;
        if (this.#batch.size > 0) this.#schedule();
        resolve();
      };
      const { stallTimeout, onStall } = this.#options;
      const timer = stallTimeout === Infinity ? undefined : setTimeout(() => {
        onStall();
        done();
      }, stallTimeout);
      stream.once("drain", done);
      stream.once("close", done);
      if (stream.destroyed) done();
    });
  }
}
