/**
 * One HTTP/2 stream, as the application sees it: the request on a server
 * (its headers, its body to read, the response to send), or the request on
 * a client (the body to send, the response's headers, body and trailers to
 * read). The connection (connection.ts) does the rest.
 *
 * @module
 */

import type { Http2Headers, Http2HeadersInit } from "./_headers.ts";

export type { Http2Headers, Http2HeadersInit } from "./_headers.ts";

/**
 * A stream: one request and its response.
 *
 * Reading: `read()` (or `for await`) gives the body's chunks, then `null`
 * at its end (the trailers are then in `trailers`). A small chunk may be a
 * view into a larger buffer shared with other chunks (as Node's pooled
 * Buffers are): use its `byteOffset` with its `buffer`, and do not transfer
 * that buffer. What is read is what
 * the peer may send again: a reader that stops reading stops the sender
 * once the window (`initialWindowSize`) is full, and nothing buffers beyond
 * it. Leaving a `for await` loop before the end resets the stream (CANCEL).
 *
 * Writing: `write(chunk)` queues the chunk (keep it unchanged until it is
 * sent) and returns `undefined` while there is room, or a promise that
 * resolves when there is again (the peer's flow-control window or the
 * socket's buffer is full): await it and the writer never runs ahead of the
 * reader. `end(trailers?)` ends the body, with trailers or without.
 *
 * `signal` aborts when the stream ends early: reset by the peer or by
 * `reset()` (the reason an `Http2StreamError` with the code), or the
 * connection lost (a `ConnectionClosedError`).
 */
export interface Http2Stream {
  /** The stream's id (odd: opened by the client); 0 while a client's request waits for a slot. */
  readonly id: number;
  /**
   * On a server, the request's headers; on a client, the response's (empty
   * until they arrive: see `response`).
   */
  readonly headers: Http2Headers;
  /**
   * A client's view of the response's headers (informational 1xx skipped);
   * rejects when the stream ends before them. On a server, the request's.
   */
  readonly response: Promise<Http2Headers>;
  /** The trailers, once the body has ended with them. */
  readonly trailers: Http2Headers | undefined;
  /** Aborts when the stream ends early (reset either way, or the connection lost). */
  readonly signal: AbortSignal;
  /** Whether the peer has ended its side (all of the body has arrived, or the stream was reset). */
  readonly remoteEnded: boolean;
  /** Whether this side's headers went out (`respond()` on a server; always on a client). */
  readonly headersSent: boolean;
  /** Whether the stream is over: ended both ways, or reset; nothing more goes out. */
  readonly closed: boolean;
  /**
   * The next chunk of the body, `null` at its end.
   *
   * @throws the reason the stream ended early
   */
  read(): Promise<Uint8Array | null>;
  /** The body's chunks; leaving the loop early resets the stream. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array>;
  /**
   * Sends the response's headers (a server's stream): `:status` and the
   * rest; `endStream` for a response without body (or trailers-only).
   *
   * @throws {TypeError} when headers were sent already, or on a client's stream
   */
  respond(headers: Http2HeadersInit, options?: { readonly endStream?: boolean }): void;
  /**
   * Queues body bytes.
   *
   * @returns `undefined` while there is room, else a promise of room
   * @throws {TypeError} after `end()`, or before `respond()` on a server
   */
  write(chunk: Uint8Array): Promise<void> | undefined;
  /**
   * Ends the body (after what is queued), with trailers when given.
   *
   * @throws {TypeError} before `respond()` on a server
   */
  end(trailers?: Http2HeadersInit): void;
  /** Resets the stream (RST_STREAM, CANCEL by default); nothing more is sent or read. */
  reset(code?: number): void;
}
