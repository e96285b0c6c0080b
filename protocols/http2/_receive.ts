/**
 * The receiving half of a connection: the client's preface (on a server),
 * then every frame by type, each checked as RFC 9113 §6 says, the
 * violations answered as a stream error (RST_STREAM) or a connection error
 * (GOAWAY); header blocks gathered across CONTINUATIONs within a bound and
 * decoded (always: HPACK's table must stay in step, even for a stream that
 * is refused); the windows this side grants, credited back as the
 * application reads; and the counters that end a connection that floods
 * (resets, control frames: ENHANCE_YOUR_CALM).
 *
 * @module
 */

import * as F from "./_frames.ts";
import type { Http2Headers } from "./_headers.ts";
import { HeaderBlocks } from "./_header_blocks.ts";
import type { Link } from "./_link.ts";
import { MAX_WINDOW, RateCounter } from "./_settings.ts";
import { applySettings } from "./_peer_settings.ts";
import type { Stream } from "./_stream.ts";
import { Http2ErrorCode as E, Http2StreamError } from "./errors.ts";
import { copyToSlab } from "./_slab.ts";

const HTTP1 = /^[A-Z]+ \S* HTTP\/1\.[01]\r?$/;

/**
 * What a connection receives.
 *
 * @example A server refuses HTTP/1.1 with GOAWAY PROTOCOL_ERROR
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2Connection } from "./connection.ts";
 *
 * let closedWith: Error | undefined;
 * const server = new Http2Connection("server", {
 *   onOutput: () => {},
 *   onClose: (error) => closedWith = error,
 * });
 * server.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
 * assert.match(String(closedWith), /HTTP\/1\.1/);
 * ```
 */
export class Receiver implements F.FrameSink {
  readonly #link: Link;
  readonly #reader: F.FrameReader;
  /** Bytes of the client's preface still to come (a server's). */
  #prefaceLeft: number;
  #prefaceText = "";
  /** Whether the peer's first SETTINGS has arrived. */
  settled = false;
  /** Whether any bytes arrived since the last idle sweep. */
  active = true;
  /** What the peer may still send on the connection. */
  #connWindow: number;
  #connUnacked = 0;
  readonly #blocks: HeaderBlocks;
  readonly #resets: RateCounter;
  readonly #control: RateCounter;

  /** @param link the connection */
  constructor(link: Link) {
    this.#link = link;
    this.#reader = new F.FrameReader(this);
    this.#prefaceLeft = link.server ? F.PREFACE.length : 0;
    this.#connWindow = link.options.connectionWindowSize;
    this.#blocks = new HeaderBlocks(link, {
      idle: (id) => this.#idle(id),
      closed: (id, type) => this.#onClosed(id, type),
      refused: () => this.#refused(),
    });
    this.#resets = new RateCounter(link.options.maxResetsPerSecond);
    this.#control = new RateCounter(link.options.maxControlFramesPerSecond);
  }

  /** Bytes from the socket. */
  push(bytes: Uint8Array): void {
    this.active = true;
    if (this.#prefaceLeft > 0) {
      const n = Math.min(this.#prefaceLeft, bytes.length);
      const offset = F.PREFACE.length - this.#prefaceLeft;
      for (let i = 0; i < n; i++) {
        if (bytes[i] !== F.PREFACE[offset + i]) return this.#badPreface(bytes);
      }
      this.#prefaceText += String.fromCharCode(...bytes.subarray(0, n));
      this.#prefaceLeft -= n;
      if (n === bytes.length) return;
      bytes = bytes.subarray(n);
    }
    this.#reader.push(bytes);
  }

  #badPreface(bytes: Uint8Array): void {
    const line = (this.#prefaceText + new TextDecoder().decode(bytes.subarray(0, 64)))
      .split("\n")[0]!;
    this.#link.fail(
      E.PROTOCOL_ERROR,
      HTTP1.test(line)
        ? "HTTP/1.1 request on an HTTP/2 connection (HTTP/2 with prior knowledge only)"
        : "Not an HTTP/2 connection preface",
    );
  }

  /** Reads no more. */
  stop(): void {
    this.#reader.stop();
  }

  /** Bytes of the connection's buffered input (a frame not yet whole). */
  get buffered(): number {
    return this.#reader.buffered + this.#blocks.buffered;
  }

  /** The application read `bytes` of `stream`: the peer may send them again. */
  credit(stream: Stream, bytes: number): void {
    if (stream.done) return; // credited to the connection when it closed
    this.#creditConnection(bytes);
    if (stream.remoteEnded) return;
    stream.unacked += bytes;
    if (stream.unacked >= this.#link.options.initialWindowSize / 2) {
      this.#link.writer.windowUpdate(stream.id, stream.unacked);
      stream.recvWindow += stream.unacked;
      stream.unacked = 0;
      this.#link.wake();
    }
  }

  /** A stream closed: what it holds unread no longer counts against the connection. */
  release(stream: Stream): void {
    if (stream.inboxBytes > 0) this.#creditConnection(stream.inboxBytes);
  }

  #creditConnection(bytes: number): void {
    this.#connUnacked += bytes;
    if (this.#connUnacked >= this.#link.options.connectionWindowSize / 2) {
      this.#link.writer.windowUpdate(0, this.#connUnacked);
      this.#connWindow += this.#connUnacked;
      this.#connUnacked = 0;
      this.#link.wake();
    }
  }

  oversize(length: number, type: number): void {
    this.#link.fail(
      E.FRAME_SIZE_ERROR,
      `A frame of type ${type} and ${length} bytes, over SETTINGS_MAX_FRAME_SIZE (${this.#reader.maxFrameSize})`,
    );
  }

  frame(type: number, flags: number, id: number, payload: Uint8Array): boolean {
    const link = this.#link;
    if (!this.settled && (type !== F.SETTINGS || (flags & F.ACK) !== 0)) {
      link.fail(E.PROTOCOL_ERROR, "The first frame must be SETTINGS");
      return false;
    }
    if (this.#blocks.open && type !== F.CONTINUATION) {
      link.fail(E.PROTOCOL_ERROR, `A frame of type ${type} inside a header block`);
      return false;
    }
    switch (type) {
      case F.DATA:
        this.#data(flags, id, payload);
        break;
      case F.HEADERS:
        this.#blocks.headers(flags, id, payload);
        break;
      case F.CONTINUATION:
        this.#blocks.continuation(flags, id, payload);
        break;
      case F.RST_STREAM:
        this.#rstStream(id, payload);
        break;
      case F.SETTINGS:
        this.#settings(flags, id, payload);
        break;
      case F.PING:
        this.#ping(flags, id, payload);
        break;
      case F.GOAWAY:
        this.#goaway(id, payload);
        break;
      case F.WINDOW_UPDATE:
        this.#windowUpdate(id, payload);
        break;
      case F.PRIORITY:
        this.#priority(id, payload);
        break;
      case F.PUSH_PROMISE:
        link.fail(E.PROTOCOL_ERROR, "PUSH_PROMISE refused: push is disabled");
        break;
      default:
        // Unknown types are ignored (RFC 9113 §4.1), but not without bound.
        this.#controlFrame();
    }
    return !link.closed;
  }

  // Whether `id` names a stream that was never opened.
  #idle(id: number): boolean {
    const link = this.#link;
    const peers = link.server ? (id & 1) === 1 : (id & 1) === 0;
    if (peers) return id > link.lastPeerStream;
    return link.server || id >= link.nextStreamId;
  }

  // A frame on a closed stream: dropped if it was reset (the peer may not
  // have known), else a connection error (RFC 9113 §5.1, "closed").
  #onClosed(id: number, type: string): void {
    if (this.#link.wasReset(id)) return;
    this.#link.fail(E.STREAM_CLOSED, `${type} on stream ${id}, which is closed`);
  }

  // A stream reset by the peer, or refused by us: past the limit, rapid reset.
  #refused(): void {
    if (this.#resets.hit()) {
      this.#link.fail(
        E.ENHANCE_YOUR_CALM,
        `Over ${this.#link.options.maxResetsPerSecond} refused or reset streams in a second`,
      );
    }
  }

  #controlFrame(): void {
    if (this.#control.hit()) {
      this.#link.fail(
        E.ENHANCE_YOUR_CALM,
        `Over ${this.#link.options.maxControlFramesPerSecond} control frames in a second`,
      );
    }
  }

  #data(flags: number, id: number, payload: Uint8Array): void {
    const link = this.#link;
    if (id === 0) return link.fail(E.PROTOCOL_ERROR, "DATA on stream 0");
    const length = payload.length;
    this.#connWindow -= length;
    if (this.#connWindow < 0) {
      return link.fail(E.FLOW_CONTROL_ERROR, "DATA past the connection's flow-control window");
    }
    const stream = link.streams.get(id);
    if (stream === undefined) {
      if (this.#idle(id)) return link.fail(E.PROTOCOL_ERROR, `DATA on idle stream ${id}`);
      this.#creditConnection(length); // dropped, the window given back
      return this.#onClosed(id, "DATA");
    }
    if (stream.remoteEnded) {
      this.#creditConnection(length);
      return link.streamError(stream, E.STREAM_CLOSED, `DATA after END_STREAM on stream ${id}`);
    }
    stream.recvWindow -= length;
    if (stream.recvWindow < 0) {
      this.#creditConnection(length);
      return link.streamError(stream, E.FLOW_CONTROL_ERROR, `DATA past stream ${id}'s window`);
    }
    stream.touched = true;
    let start = 0;
    let end = length;
    if (flags & F.PADDED) {
      if (length === 0 || payload[0]! >= length) {
        return link.fail(E.PROTOCOL_ERROR, "DATA padding as long as the frame");
      }
      start = 1;
      end = length - payload[0]!;
    }
    // Padding is never read by anyone: credited at once.
    if (end - start < length) this.credit(stream, length - (end - start));
    if (end > start) stream.deliver(copyToSlab(payload, start, end));
    else if ((flags & F.END_STREAM) === 0) this.#controlFrame();
    if (flags & F.END_STREAM) this.#remoteEnd(stream, undefined);
  }

  #remoteEnd(stream: Stream, trailers: Http2Headers | undefined): void {
    stream.ended(trailers);
    this.#link.maybeDone(stream);
  }

  #rstStream(id: number, payload: Uint8Array): void {
    const link = this.#link;
    if (id === 0) return link.fail(E.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    if (payload.length !== 4) return link.fail(E.FRAME_SIZE_ERROR, "RST_STREAM of the wrong size");
    const stream = link.streams.get(id);
    if (stream === undefined) {
      if (this.#idle(id)) link.fail(E.PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
      return;
    }
    const code = F.u32(payload, 0);
    link.noteReset(id);
    if (code === E.NO_ERROR && stream.remoteEnded) {
      // The response is whole: the peer only asks us to stop sending (RFC 9113 §8.1).
      link.closeStream(stream, undefined);
    } else {
      link.closeStream(stream, new Http2StreamError(code, `Stream ${id} reset by the peer`));
    }
    if (link.server) this.#refused();
  }

  #settings(flags: number, id: number, payload: Uint8Array): void {
    const link = this.#link;
    if (id !== 0) return link.fail(E.PROTOCOL_ERROR, `SETTINGS on stream ${id}`);
    if (flags & F.ACK) {
      if (payload.length !== 0) link.fail(E.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      return;
    }
    if (payload.length % 6 !== 0) {
      return link.fail(E.FRAME_SIZE_ERROR, "SETTINGS of the wrong size");
    }
    if (this.settled) this.#controlFrame();
    if (link.closed) return;
    const first = !this.settled;
    applySettings(link, payload, first);
    this.settled = true;
    if (first && !link.closed) link.events.onEstablished?.();
  }

  #ping(flags: number, id: number, payload: Uint8Array): void {
    const link = this.#link;
    if (id !== 0) return link.fail(E.PROTOCOL_ERROR, `PING on stream ${id}`);
    if (payload.length !== 8) return link.fail(E.FRAME_SIZE_ERROR, "PING of the wrong size");
    if (flags & F.ACK) return link.pong(payload);
    this.#controlFrame();
    if (link.closed) return;
    link.writer.ping(payload, true);
    link.wake();
  }

  #goaway(id: number, payload: Uint8Array): void {
    const link = this.#link;
    if (id !== 0) return link.fail(E.PROTOCOL_ERROR, `GOAWAY on stream ${id}`);
    if (payload.length < 8) return link.fail(E.FRAME_SIZE_ERROR, "GOAWAY too short");
    const last = F.u32(payload, 0) & 0x7fffffff;
    const code = F.u32(payload, 4);
    link.goawayReceived = link.goawayReceived < 0 ? last : Math.min(last, link.goawayReceived);
    // Streams this side opened past `last` were not processed: safe to retry elsewhere.
    const refused = (stream: Stream) =>
      link.closeStream(
        stream,
        new Http2StreamError(E.REFUSED_STREAM, "Not processed: the peer is going away"),
      );
    for (const stream of [...link.streams.values()]) {
      if (stream.local && stream.id > link.goawayReceived) refused(stream);
    }
    for (const stream of [...link.waiting]) refused(stream);
    link.events.onGoaway?.(code, last);
    link.finishIfDrained();
  }

  #windowUpdate(id: number, payload: Uint8Array): void {
    const link = this.#link;
    if (payload.length !== 4) {
      return link.fail(E.FRAME_SIZE_ERROR, "WINDOW_UPDATE of the wrong size");
    }
    const increment = F.u32(payload, 0) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0) return link.fail(E.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
      link.connSendWindow += increment;
      if (link.connSendWindow > MAX_WINDOW) {
        return link.fail(E.FLOW_CONTROL_ERROR, "The connection's window past 2^31 - 1");
      }
      return link.flushAll(false);
    }
    const stream = link.streams.get(id);
    if (stream === undefined) {
      if (this.#idle(id)) link.fail(E.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
      return;
    }
    if (increment === 0) return link.streamError(stream, E.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) {
      return link.streamError(stream, E.FLOW_CONTROL_ERROR, `Stream ${id}'s window past 2^31 - 1`);
    }
    link.flush(stream);
  }

  #priority(id: number, payload: Uint8Array): void {
    const link = this.#link;
    if (id === 0) return link.fail(E.PROTOCOL_ERROR, "PRIORITY on stream 0");
    this.#controlFrame();
    if (link.closed) return;
    const code = payload.length !== 5
      ? E.FRAME_SIZE_ERROR
      : (F.u32(payload, 0) & 0x7fffffff) === id
      ? E.PROTOCOL_ERROR
      : -1;
    if (code === -1) return; // priorities are advice, and parley takes none
    const stream = link.streams.get(id);
    if (stream !== undefined) return link.streamError(stream, code, "A malformed PRIORITY");
    link.sendReset(id, code);
  }
}
