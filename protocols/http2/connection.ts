/**
 * An HTTP/2 connection (RFC 9113), client or server, with no socket of its
 * own: bytes come in through `receive()`, go out through `takeOutput()`,
 * and a transport (rpc/transports/http2/) moves them. Web-standard only.
 *
 * What it does: the preface and the SETTINGS exchange, stream states,
 * flow control both ways (data is sent as the peer's windows allow; the
 * peer is credited as the application reads, so a slow reader slows the
 * sender), MAX_CONCURRENT_STREAMS (a server refuses streams past it; a
 * client waits for a slot), PING answered, GOAWAY both ways with graceful
 * drain, RST_STREAM both ways, trailers, and every protocol violation
 * answered as RFC 9113 §5.4 says: a stream error (RST_STREAM) or a
 * connection error (GOAWAY, then the end), never an exception out of
 * `receive()`.
 *
 * Speed: every frame of a read is handled in one synchronous pass, with no
 * promise per frame; every frame produced in a turn goes into one buffer,
 * taken whole for one socket write.
 *
 * @module
 */

import type { Http2HeadersInit } from "./_headers.ts";
import type { Http2ConnectionOptions } from "./_settings.ts";
import { Http2ErrorCode as E } from "./errors.ts";
import type { Http2Stream } from "./stream.ts";
import type { Http2ConnectionEvents } from "./_link.ts";
import { ConnectionState } from "./_state.ts";

export type { Http2ConnectionOptions } from "./_settings.ts";
export type { Http2ConnectionEvents } from "./_link.ts";

/**
 * One HTTP/2 connection's protocol state, driven by a transport.
 *
 * @example A client and a server joined in memory
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2Connection } from "./connection.ts";
 *
 * const server: Http2Connection = new Http2Connection("server", {
 *   onOutput: () => queueMicrotask(() => client.receive(server.takeOutput())),
 *   onStream: async (stream) => {
 *     const body = await stream.read();
 *     stream.respond({ ":status": 200 });
 *     stream.write(body!);
 *     stream.end({ "x-done": "yes" });
 *   },
 * });
 * const client: Http2Connection = new Http2Connection("client", {
 *   onOutput: () => queueMicrotask(() => server.receive(client.takeOutput())),
 * });
 * const stream = client.request({ ":method": "POST", ":path": "/echo" });
 * stream.write(new TextEncoder().encode("hello"));
 * stream.end();
 * assert.equal((await stream.response)[":status"], "200");
 * assert.equal(new TextDecoder().decode((await stream.read())!), "hello");
 * assert.equal(await stream.read(), null);
 * assert.equal(stream.trailers?.["x-done"], "yes");
 * client.destroy();
 * server.destroy();
 * ```
 */
export class Http2Connection {
  readonly #state: ConnectionState;

  /**
   * A connection that starts at once: a client queues its preface and
   * SETTINGS, a server its SETTINGS (the client's preface is checked as it
   * arrives).
   *
   * @param role `"client"` or `"server"`
   * @param events what it tells the transport and the application
   * @param options limits and windows
   * @throws {RangeError} for an option out of range
   */
  constructor(
    role: "client" | "server",
    events: Http2ConnectionEvents,
    options: Http2ConnectionOptions = {},
  ) {
    this.#state = new ConnectionState(role === "server", events, options);
  }

  /**
   * Reads bytes from the socket: every whole frame in them is handled now.
   * Never throws: a violation ends the stream or the connection.
   *
   * @param bytes what the socket gave (may be reused once this returns)
   */
  receive(bytes: Uint8Array): void {
    this.#state.receive(bytes);
  }

  /** The bytes to write now (empty when there are none): valid until the next call. */
  takeOutput(): Uint8Array {
    return this.#state.takeOutput();
  }

  /** The transport has written what it took: writers waiting for the socket may go on. */
  flushed(): void {
    this.#state.flushed();
  }

  /**
   * Opens a stream and sends its request headers (`:method` and `:path`;
   * `:scheme` and `:authority` default to the connection's options). When
   * the server's MAX_CONCURRENT_STREAMS is reached, it waits for a slot
   * (its id stays 0 until then).
   *
   * @param headers the request's fields
   * @param options `endStream` for a request without body
   * @returns the stream
   * @throws {ConnectionClosedError} when the connection is closing or closed
   * @throws {TypeError} on a server, or for a header value holding CR, LF or NUL
   */
  request(headers: Http2HeadersInit, options: { readonly endStream?: boolean } = {}): Http2Stream {
    return this.#state.request(headers, options.endStream ?? false);
  }

  /**
   * Sends a PING; resolves with the round trip in ms when it is answered.
   *
   * @throws {ConnectionClosedError} when the connection ends first
   */
  ping(): Promise<number> {
    return this.#state.ping();
  }

  /**
   * Closes gracefully: GOAWAY (NO_ERROR, or `code`) with the last stream
   * this side will serve; the streams in flight finish, then the
   * connection ends. New streams are refused.
   */
  close(code: number = E.NO_ERROR): void {
    this.#state.goaway(code, undefined);
  }

  /**
   * Ends the connection now: every open stream fails with a
   * `ConnectionClosedError` (whose cause is `error`).
   */
  destroy(error?: Error): void {
    this.#state.destroy(error);
  }

  /** The socket reached its end (or failed): the connection is over. */
  socketEnded(error?: Error): void {
    this.#state.socketEnded(error);
  }

  /**
   * Resets streams whose peer has sent nothing since the last sweep while
   * its side is still open (CANCEL), and tells whether the connection is
   * idle: nothing received since the last sweep and no stream open. Call
   * every idle timeout.
   *
   * @returns true when the connection was idle
   */
  sweep(): boolean {
    return this.#state.sweep();
  }

  /** Bytes of output not yet written to the socket (taken or not). */
  get bufferedAmount(): number {
    return this.#state.bufferedAmount;
  }

  /** Streams open now, both ways. */
  get streams(): number {
    return this.#state.streams.size;
  }

  /** Whether the connection has ended. */
  get closed(): boolean {
    return this.#state.closed;
  }

  /** Whether new streams can be opened (no GOAWAY either way, not closed). */
  get open(): boolean {
    return this.#state.open;
  }

  /** Whether the peer's preface and SETTINGS have arrived. */
  get established(): boolean {
    return this.#state.receiver.settled;
  }
}
