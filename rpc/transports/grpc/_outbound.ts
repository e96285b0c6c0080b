/**
 * The messages one end sends on a gRPC call's HTTP/2 stream, at the
 * reader's pace: framed into batches (one write for many small messages),
 * written without waiting while the stream's `write()` says there is room,
 * and waiting for room when it says there is not (the peer's window or the
 * socket is full), so a slow reader slows the producer. A batch that is not
 * full goes out on the next turn of the event loop, so a slow producer's
 * messages are not held back.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { Http2Stream } from "../../../protocols/http2/stream.ts";
import { FrameBatch } from "../../../protocols/grpc/_batch.ts";

/** A batch this large is written at once. */
const FLUSH_AT = 16 * 1024;

/**
 * Sends framed messages on one stream (a server's after its headers are
 * sent).
 *
 * @example A client's request stream of three messages
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectHttp2, serveHttp2 } from "../http2.ts";
 * import { OutboundMessages } from "./_outbound.ts";
 *
 * await using server = serveHttp2({
 *   onStream: async (stream) => {
 *     const body = [];
 *     for await (const chunk of stream) body.push(...chunk);
 *     stream.respond({ ":status": 200, "x-body": body.join(",") }, { endStream: true });
 *   },
 * });
 * await using client = connectHttp2(server.url);
 * const call = client.request({ ":method": "POST", ":path": "/" });
 * const out = new OutboundMessages(call);
 * for (const n of [1, 2, 3]) await out.add(new Uint8Array([n]), false);
 * await out.flush();
 * call.end();
 * const headers = await call.response;
 * assert.equal(headers["x-body"], "0,0,0,0,1,1,0,0,0,0,1,2,0,0,0,0,1,3");
 * ```
 */
export class OutboundMessages {
  readonly #stream: Http2Stream;
  readonly #waitForRoom: (room: Promise<void>) => Promise<void>;
  readonly #batch = new FrameBatch();
  #scheduled = false;
  #room: Promise<void> | undefined;

  /**
   * Sends on `stream`.
   *
   * @param stream the call's HTTP/2 stream
   * @param waitForRoom how a wait for the reader is awaited (the server
   *   bounds it in time); the wait itself by default
   */
  constructor(
    stream: Http2Stream,
    waitForRoom: (room: Promise<void>) => Promise<void> = (room) => room,
  ) {
    this.#stream = stream;
    this.#waitForRoom = waitForRoom;
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
    if (this.#room !== undefined) return this.#room;
    if (this.#batch.size >= FLUSH_AT) return this.#write();
    this.#schedule();
    return undefined;
  }

  /**
   * Writes what is batched, once the reader has made room.
   *
   * @returns when it is handed to the stream (which may still hold it)
   */
  async flush(): Promise<void> {
    while (this.#room !== undefined) await this.#room;
    this.#write();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#room === undefined) this.#write();
    });
  }

  #write(): Promise<void> | undefined {
    if (this.#batch.size === 0) return undefined;
    const bytes = this.#batch.take();
    if (this.#stream.closed) return undefined;
    const room = this.#stream.write(bytes);
    if (room === undefined) return undefined;
    return this.#room = this.#waitForRoom(room).finally(() => {
      this.#room = undefined;
      if (this.#batch.size > 0) this.#schedule();
    });
  }
}
