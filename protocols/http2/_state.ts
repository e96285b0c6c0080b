/**
 * The state of one HTTP/2 connection, shared by its receiving half
 * (_receive.ts) and its sending half (_send.ts) through the {@linkcode Link}
 * interface: the streams, the windows, the encoder and decoder, the output
 * buffer, and the connection's end (GOAWAY, drain, errors). What the
 * public `Http2Connection` (connection.ts) wraps.
 *
 * @module
 */

import { ConnectionClosedError } from "../../rpc/errors.ts";
import * as F from "./_frames.ts";
import { flatten, type Http2HeadersInit } from "./_headers.ts";
import { HpackDecoder, HpackEncoder } from "./hpack.ts";
import { DEFAULT_WINDOW, type Http2ConnectionOptions, resolveOptions } from "./_settings.ts";
import { Stream, type StreamHost } from "./_stream.ts";
import { Http2ConnectionError, Http2ErrorCode as E, Http2StreamError } from "./errors.ts";
import { Receiver } from "./_receive.ts";
import { Sender } from "./_send.ts";
import type { Http2ConnectionEvents, Link, PeerSettings } from "./_link.ts";

const MAX_STREAM_ID = 0x7fffffff;

/**
 * The connection's state, shared by the receiving and sending halves.
 *
 * @example Behind every Http2Connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionState } from "./_state.ts";
 *
 * const state = new ConnectionState(false, { onOutput: () => {} }, {});
 * assert.equal(state.open, true);
 * state.destroy();
 * assert.equal(state.closed, true);
 * ```
 */
export class ConnectionState implements Link, StreamHost {
  readonly server: boolean;
  readonly events: Http2ConnectionEvents;
  readonly options: ReturnType<typeof resolveOptions>;
  readonly writer = new F.FrameWriter();
  readonly encoder = new HpackEncoder();
  readonly decoder: HpackDecoder;
  readonly receiver: Receiver;
  readonly sender: Sender;
  readonly streams = new Map<number, Stream>();
  // Until the peer's SETTINGS say otherwise, the defaults; a client opens no
  // stream before the server's first SETTINGS (0 streams): streams opened
  // past a limit it does not know yet would be refused. It costs the first
  // requests of a connection one round trip.
  readonly peer: PeerSettings;
  connSendWindow = DEFAULT_WINDOW;
  /** Client: the next id to open. */
  nextStreamId = 1;
  /** The highest stream id the peer has opened. */
  lastPeerStream = 0;
  peerStreams = 0;
  localStreams = 0;
  /** A client's requests waiting for a slot under the server's limit. */
  readonly waiting: Stream[] = [];
  goawaySent = false;
  /** A client closing gracefully: no new requests, GOAWAY once its streams are done. */
  closing = false;
  /** The last stream id of the peer's GOAWAY, -1 before one. */
  goawayReceived = -1;
  closed = false;
  #outputQueued = false;
  #flushing = 0;
  #drainWaiter: PromiseWithResolvers<void> | undefined;
  readonly #resets = new Set<number>();
  readonly #pings = new Map<number, { sent: number; done: PromiseWithResolvers<number> }>();
  #pingCounter = 0;

  constructor(server: boolean, events: Http2ConnectionEvents, options: Http2ConnectionOptions) {
    this.server = server;
    this.events = events;
    this.options = resolveOptions(options);
    this.peer = {
      initialWindow: DEFAULT_WINDOW,
      maxFrameSize: 16_384,
      maxStreams: server ? Infinity : 0,
    };
    this.decoder = new HpackDecoder({ maxHeaderListSize: this.options.maxHeaderListSize });
    this.receiver = new Receiver(this);
    this.sender = new Sender(this);
    this.sender.start();
  }

  // ---- input ----

  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    try {
      this.receiver.push(bytes);
    } catch (error) {
      // A bug of ours must not escape into the socket loop: the connection ends.
      this.fail(E.INTERNAL_ERROR, `Internal error: ${(error as Error)?.message ?? error}`);
    }
  }

  // ---- output ----

  /** Called after every frame written: tells the transport once per batch. */
  wake(): void {
    if (this.#outputQueued) return;
    this.#outputQueued = true;
    this.events.onOutput();
  }

  takeOutput(): Uint8Array {
    this.#outputQueued = false;
    const out = this.writer.take();
    this.#flushing += out.length;
    return out;
  }

  flushed(): void {
    this.#flushing = 0;
    if (!this.backedUp && this.#drainWaiter !== undefined) {
      const waiter = this.#drainWaiter;
      this.#drainWaiter = undefined;
      waiter.resolve();
    }
  }

  get bufferedAmount(): number {
    return this.writer.size + this.#flushing;
  }

  get backedUp(): boolean {
    return this.bufferedAmount > 1 << 20;
  }

  drained(): Promise<void> {
    this.#drainWaiter ??= Promise.withResolvers();
    return this.#drainWaiter.promise;
  }

  // ---- StreamHost ----

  respond(stream: Stream, fields: string[], endStream: boolean): void {
    this.sender.headers(stream, fields, endStream);
  }

  flush(stream: Stream): void {
    this.sender.flush(stream);
  }

  reset(stream: Stream, code: number): void {
    if (stream.id !== 0) this.sendReset(stream.id, code);
    this.closeStream(stream, new Http2StreamError(code, `Stream ${stream.id} reset by this side`));
  }

  streamError(stream: Stream, code: number, message: string): void {
    this.sendReset(stream.id, code);
    this.closeStream(stream, new Http2StreamError(code, message));
  }

  sendReset(id: number, code: number): void {
    this.writer.rstStream(id, code);
    this.wake();
    this.noteReset(id);
  }

  /** Remembers a reset stream (the last 1024). */
  noteReset(id: number): void {
    this.#resets.add(id);
    if (this.#resets.size > 1024) this.#resets.delete(this.#resets.values().next().value!);
  }

  wasReset(id: number): boolean {
    return this.#resets.has(id);
  }

  flushAll(all: boolean): void {
    this.sender.flushAll(all);
  }

  openWaiting(): void {
    this.sender.openWaiting();
  }

  consumed(stream: Stream, bytes: number): void {
    this.receiver.credit(stream, bytes);
  }

  // ---- streams ----

  request(headers: Http2HeadersInit, endStream: boolean): Stream {
    if (this.server) throw new TypeError("request() is for a client's connection");
    if (!this.open) {
      throw new ConnectionClosedError("The HTTP/2 connection takes no new streams");
    }
    const pseudo: string[] = [];
    const has = (name: string) =>
      Array.isArray(headers)
        ? (headers as readonly (readonly [string, string])[]).some(([n]) => n === name)
        : (headers as Record<string, unknown>)[name] !== undefined;
    if (!has(":scheme")) pseudo.push(":scheme", this.options.scheme);
    if (!has(":authority") && this.options.authority !== undefined) {
      pseudo.push(":authority", this.options.authority);
    }
    const stream = new Stream(this, true);
    stream.requestFields = flatten(headers, pseudo, true);
    stream.headersSent = true;
    stream.endQueued = endStream;
    this.waiting.push(stream);
    this.sender.openWaiting();
    return stream;
  }

  /** Whether new streams may be opened. */
  get open(): boolean {
    return !this.closed && !this.goawaySent && !this.closing && this.goawayReceived < 0 &&
      this.nextStreamId <= MAX_STREAM_ID;
  }

  /** Takes a stream off the connection: done normally, or failed with `error`. */
  closeStream(stream: Stream, error: Error | undefined): void {
    if (stream.done) return;
    stream.done = true;
    if (stream.id === 0) {
      const at = this.waiting.indexOf(stream);
      if (at >= 0) this.waiting.splice(at, 1);
    } else {
      this.streams.delete(stream.id);
      if (stream.local) this.localStreams--;
      else this.peerStreams--;
    }
    this.sender.forget(stream);
    this.receiver.release(stream);
    if (error !== undefined) stream.fail(error);
    else stream.finished();
    if (!this.server && !this.closed) this.sender.openWaiting();
    this.finishIfDrained();
  }

  /** Both sides of a stream done: closed normally. */
  maybeDone(stream: Stream): void {
    if (stream.endSent && stream.remoteEnded && !stream.done) this.closeStream(stream, undefined);
  }

  // ---- the connection's end ----

  /** Sends GOAWAY (once): NO_ERROR drains; an error code ends at once. */
  goaway(code: number, message: string | undefined): void {
    if (this.closed) return;
    if (code === E.NO_ERROR && !this.server) {
      // A client's graceful close: no new requests; the ones it took (those
      // waiting for a slot too) finish, then GOAWAY and the end.
      this.closing = true;
      return this.finishIfDrained();
    }
    this.#sendGoaway(code, message);
    if (code !== E.NO_ERROR) {
      this.end(new Http2ConnectionError(code, message ?? "GOAWAY sent"));
    } else {
      this.finishIfDrained();
    }
  }

  #sendGoaway(code: number, message: string | undefined): void {
    if (this.goawaySent) return;
    this.goawaySent = true;
    const debug = new TextEncoder().encode((message ?? "").slice(0, 256));
    this.writer.goaway(this.server ? this.lastPeerStream : 0, code, debug);
    this.wake();
    // Requests that never left refuse now.
    for (const stream of [...this.waiting]) {
      this.closeStream(stream, new ConnectionClosedError("The HTTP/2 connection is closing"));
    }
  }

  /** A connection error (RFC 9113 §5.4.1): GOAWAY with the code, then the end. */
  fail(code: number, message: string): void {
    this.goaway(code, message);
  }

  finishIfDrained(): void {
    if (this.closed || this.streams.size > 0 || this.waiting.length > 0) return;
    if (this.closing) this.#sendGoaway(E.NO_ERROR, undefined);
    if (this.goawaySent || this.goawayReceived >= 0) this.end(undefined);
  }

  destroy(error?: Error): void {
    this.end(error ?? new ConnectionClosedError("The HTTP/2 connection was destroyed"));
  }

  socketEnded(error?: Error): void {
    if (this.closed) return;
    this.end(new ConnectionClosedError("The HTTP/2 connection's socket closed", { cause: error }));
  }

  /** Ends the connection: every stream left fails, pings too; the transport closes. */
  end(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.receiver.stop();
    const reason = error instanceof ConnectionClosedError
      ? error
      : new ConnectionClosedError("The HTTP/2 connection ended", { cause: error });
    for (const stream of [...this.streams.values(), ...this.waiting]) {
      this.closeStream(stream, reason);
    }
    for (const { done } of this.#pings.values()) done.reject(reason);
    this.#pings.clear();
    this.#drainWaiter?.resolve();
    this.wake();
    this.events.onClose?.(error);
  }

  // ---- pings ----

  ping(): Promise<number> {
    if (this.closed) return Promise.reject(new ConnectionClosedError("The connection has ended"));
    const id = ++this.#pingCounter;
    const payload = new Uint8Array(8);
    new DataView(payload.buffer).setUint32(4, id);
    const done = Promise.withResolvers<number>();
    this.#pings.set(id, { sent: performance.now(), done });
    this.writer.ping(payload, false);
    this.wake();
    return done.promise;
  }

  /** A PING's acknowledgement arrived. */
  pong(payload: Uint8Array): void {
    const view = new DataView(payload.buffer, payload.byteOffset, 8);
    if (view.getUint32(0) !== 0) return;
    const id = view.getUint32(4);
    const ping = this.#pings.get(id);
    if (ping === undefined) return;
    this.#pings.delete(id);
    ping.done.resolve(performance.now() - ping.sent);
  }

  sweep(): boolean {
    let idle = !this.receiver.active;
    this.receiver.active = false;
    for (const stream of [...this.streams.values()]) {
      idle = false;
      if (stream.remoteEnded) continue;
      if (!stream.touched) {
        this.reset(stream, E.CANCEL);
      } else {
        stream.touched = false;
      }
    }
    return idle;
  }
}
