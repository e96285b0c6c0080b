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
import { type Http2Headers, toHeaders } from "./_headers.ts";
import type { Link } from "./_link.ts";
import {
  ENABLE_PUSH,
  HEADER_TABLE_SIZE,
  INITIAL_WINDOW_SIZE,
  MAX_CONCURRENT_STREAMS,
  MAX_FRAME_SIZE,
  MAX_WINDOW,
  RateCounter,
} from "./_settings.ts";
import { Stream } from "./_stream.ts";
import { Http2ErrorCode as E, Http2StreamError } from "./errors.ts";

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
  // A header block spread over CONTINUATIONs.
  #blockStream = 0;
  #blockFlags = 0;
  #blockSelfDependent = false;
  #block = new Uint8Array(0);
  #blockLength = 0;
  #continuations = 0;
  readonly #maxBlock: number;
  readonly #resets: RateCounter;
  readonly #control: RateCounter;

  /** @param link the connection */
  constructor(link: Link) {
    this.#link = link;
    this.#reader = new F.FrameReader(this);
    this.#prefaceLeft = link.server ? F.PREFACE.length : 0;
    this.#connWindow = link.options.connectionWindowSize;
    this.#maxBlock = Math.max(link.options.maxHeaderListSize, 16_384) * 2;
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
    return this.#reader.buffered + this.#blockLength;
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
    if (this.#blockStream !== 0 && type !== F.CONTINUATION) {
      link.fail(E.PROTOCOL_ERROR, `A frame of type ${type} inside a header block`);
      return false;
    }
    switch (type) {
      case F.DATA:
        this.#data(flags, id, payload);
        break;
      case F.HEADERS:
        this.#headers(flags, id, payload);
        break;
      case F.CONTINUATION:
        this.#continuation(flags, id, payload);
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
    if (end > start) stream.deliver(copy(payload, start, end));
    else if ((flags & F.END_STREAM) === 0) this.#controlFrame();
    if (flags & F.END_STREAM) this.#remoteEnd(stream, undefined);
  }

  #headers(flags: number, id: number, payload: Uint8Array): void {
    const link = this.#link;
    if (id === 0) return link.fail(E.PROTOCOL_ERROR, "HEADERS on stream 0");
    let start = 0;
    let end = payload.length;
    if (flags & F.PADDED) {
      if (end === 0) return link.fail(E.FRAME_SIZE_ERROR, "Padded HEADERS without a pad length");
      end -= payload[0]!;
      start = 1;
    }
    let selfDependent = false;
    if (flags & F.PRIORITY_FLAG) {
      if (end - start < 5) {
        return link.fail(E.FRAME_SIZE_ERROR, "HEADERS too short for its priority");
      }
      selfDependent = (u32(payload, start) & 0x7fffffff) === id;
      start += 5;
    }
    if (end < start) return link.fail(E.PROTOCOL_ERROR, "HEADERS padding longer than the frame");
    if (flags & F.END_HEADERS) {
      return this.#headerBlock(
        id,
        (flags & F.END_STREAM) !== 0,
        selfDependent,
        payload,
        start,
        end,
      );
    }
    this.#blockStream = id;
    this.#blockFlags = flags;
    this.#blockSelfDependent = selfDependent;
    this.#blockLength = 0;
    this.#continuations = 0;
    this.#append(payload.subarray(start, end));
  }

  #continuation(flags: number, id: number, payload: Uint8Array): void {
    const link = this.#link;
    if (this.#blockStream === 0 || id !== this.#blockStream) {
      return link.fail(E.PROTOCOL_ERROR, `CONTINUATION on stream ${id} without its HEADERS`);
    }
    if (++this.#continuations > 64 || this.#blockLength + payload.length > this.#maxBlock) {
      return link.fail(
        E.ENHANCE_YOUR_CALM,
        `A header block over ${this.#maxBlock} bytes or 64 CONTINUATION frames`,
      );
    }
    this.#append(payload);
    if ((flags & F.END_HEADERS) === 0) return;
    this.#blockStream = 0;
    const block = this.#block;
    const length = this.#blockLength;
    this.#blockLength = 0;
    if (this.#block.length > 65_536) this.#block = new Uint8Array(0);
    this.#headerBlock(
      id,
      (this.#blockFlags & F.END_STREAM) !== 0,
      this.#blockSelfDependent,
      block,
      0,
      length,
    );
  }

  #append(bytes: Uint8Array): void {
    const need = this.#blockLength + bytes.length;
    if (need > this.#block.length) {
      const grown = new Uint8Array(Math.max(need, this.#block.length * 2, 4096));
      grown.set(this.#block.subarray(0, this.#blockLength));
      this.#block = grown;
    }
    this.#block.set(bytes, this.#blockLength);
    this.#blockLength = need;
  }

  #headerBlock(
    id: number,
    endStream: boolean,
    selfDependent: boolean,
    block: Uint8Array,
    start: number,
    end: number,
  ): void {
    const link = this.#link;
    let fields: string[];
    try {
      fields = link.decoder.decode(block, start, end);
    } catch (error) {
      return link.fail(E.COMPRESSION_ERROR, (error as Error).message);
    }
    const exceeded = link.decoder.exceeded;
    const stream = link.streams.get(id);
    if (stream === undefined) {
      // A stream already closed: its fields only kept HPACK in step.
      if (!this.#idle(id)) return this.#onClosed(id, "HEADERS");
      if (!link.server || (id & 1) === 0) {
        return link.fail(E.PROTOCOL_ERROR, `HEADERS on stream ${id}, which the peer may not open`);
      }
      return this.#newStream(id, fields, endStream, selfDependent, exceeded);
    }
    stream.touched = true;
    if (stream.remoteEnded) {
      return link.streamError(stream, E.STREAM_CLOSED, `HEADERS after END_STREAM on stream ${id}`);
    }
    if (exceeded) {
      return link.streamError(stream, E.PROTOCOL_ERROR, "A header list over maxHeaderListSize");
    }
    if (!link.server && !stream.headersReceived) {
      const headers = toHeaders(fields, "response");
      if (headers === undefined) {
        return link.streamError(stream, E.PROTOCOL_ERROR, `Malformed response on stream ${id}`);
      }
      if (headers[":status"]![0] === "1") {
        // Informational (1xx): the final response is still to come.
        if (endStream) link.streamError(stream, E.PROTOCOL_ERROR, "1xx response ends its stream");
        return;
      }
      stream.received(headers);
      if (endStream) this.#remoteEnd(stream, undefined);
      return;
    }
    const trailers = endStream ? toHeaders(fields, "trailers") : undefined;
    if (trailers === undefined) {
      return link.streamError(stream, E.PROTOCOL_ERROR, `Malformed trailers on stream ${id}`);
    }
    this.#remoteEnd(stream, trailers);
  }

  #newStream(
    id: number,
    fields: string[],
    endStream: boolean,
    selfDependent: boolean,
    exceeded: boolean,
  ): void {
    const link = this.#link;
    link.lastPeerStream = id;
    const refuse = (code: number) => {
      link.sendReset(id, code);
      if (this.#resets.hit()) {
        link.fail(
          E.ENHANCE_YOUR_CALM,
          `Over ${link.options.maxResetsPerSecond} refused or reset streams in a second`,
        );
      }
    };
    if (link.goawaySent) return refuse(E.REFUSED_STREAM); // past our GOAWAY's last stream
    if (selfDependent) return refuse(E.PROTOCOL_ERROR);
    if (exceeded) {
      // RFC 9113 §10.5.1: 431, and the rest of the request is not wanted.
      link.writer.headers(
        id,
        link.encoder.encode([":status", "431"]),
        true,
        link.peer.maxFrameSize,
      );
      return refuse(E.NO_ERROR);
    }
    if (link.peerStreams >= link.options.maxConcurrentStreams) return refuse(E.REFUSED_STREAM);
    const headers = toHeaders(fields, "request");
    if (headers === undefined) return refuse(E.PROTOCOL_ERROR);
    const stream = new Stream(link, false);
    stream.id = id;
    stream.sendWindow = link.peer.initialWindow;
    stream.recvWindow = link.options.initialWindowSize;
    link.streams.set(id, stream);
    link.peerStreams++;
    stream.received(headers);
    if (endStream) stream.ended(undefined);
    try {
      link.events.onStream?.(stream);
    } catch (error) {
      if (!stream.done) {
        link.streamError(stream, E.INTERNAL_ERROR, `onStream threw: ${(error as Error)?.message}`);
      }
    }
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
    const code = u32(payload, 0);
    link.noteReset(id);
    if (code === E.NO_ERROR && stream.remoteEnded) {
      // The response is whole: the peer only asks us to stop sending (RFC 9113 §8.1).
      link.closeStream(stream, undefined);
    } else {
      link.closeStream(stream, new Http2StreamError(code, `Stream ${id} reset by the peer`));
    }
    if (link.server && this.#resets.hit()) {
      link.fail(
        E.ENHANCE_YOUR_CALM,
        `Over ${link.options.maxResetsPerSecond} refused or reset streams in a second`,
      );
    }
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
    let grew = false;
    let limit = false;
    for (let at = 0; at < payload.length; at += 6) {
      const setting = (payload[at]! << 8) | payload[at + 1]!;
      const value = u32(payload, at + 2);
      switch (setting) {
        case HEADER_TABLE_SIZE:
          link.encoder.setPeerLimit(value);
          break;
        case ENABLE_PUSH:
          if (value > 1 || (value === 1 && !link.server)) {
            return link.fail(E.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH of ${value}`);
          }
          break;
        case MAX_CONCURRENT_STREAMS:
          link.peer.maxStreams = value;
          limit = true;
          break;
        case INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) {
            return link.fail(E.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE of ${value}`);
          }
          const delta = value - link.peer.initialWindow;
          link.peer.initialWindow = value;
          for (const stream of link.streams.values()) {
            stream.sendWindow += delta;
            if (stream.sendWindow > MAX_WINDOW) {
              return link.fail(E.FLOW_CONTROL_ERROR, "A stream's window past 2^31 - 1");
            }
          }
          grew ||= delta > 0;
          break;
        }
        case MAX_FRAME_SIZE:
          if (value < 16_384 || value > 16_777_215) {
            return link.fail(E.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE of ${value}`);
          }
          link.peer.maxFrameSize = value;
          break;
          // SETTINGS_MAX_HEADER_LIST_SIZE is advice; unknown settings are ignored (§6.5.2).
      }
    }
    link.writer.settingsAck();
    link.wake();
    if (!this.settled) {
      // A client opens nothing before the server's first SETTINGS (connection.ts):
      // now it knows the limit, which is none unless said.
      if (!limit) link.peer.maxStreams = Infinity;
      limit = true;
      this.settled = true;
    }
    if (grew) link.flushAll(true);
    if (limit) link.openWaiting();
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
    const last = u32(payload, 0) & 0x7fffffff;
    const code = u32(payload, 4);
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
    const increment = u32(payload, 0) & 0x7fffffff;
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
      : (u32(payload, 0) & 0x7fffffff) === id
      ? E.PROTOCOL_ERROR
      : -1;
    if (code === -1) return; // priorities are advice, and parley takes none
    const stream = link.streams.get(id);
    if (stream !== undefined) return link.streamError(stream, code, "A malformed PRIORITY");
    link.sendReset(id, code);
  }
}

// Small chunks are copied into a shared slab rather than each into an
// ArrayBuffer of its own (an allocation that cost more than the rest of a
// small DATA frame's handling); a chunk held keeps at most its slab alive.
const SLAB = 65_536;
const SMALL = 4096;
let slab = new Uint8Array(SLAB);
let slabUsed = 0;

function copy(payload: Uint8Array, start: number, end: number): Uint8Array {
  const length = end - start;
  if (length > SMALL) return payload.slice(start, end);
  if (slabUsed + length > SLAB) {
    slab = new Uint8Array(SLAB);
    slabUsed = 0;
  }
  const chunk = slab.subarray(slabUsed, slabUsed + length);
  chunk.set(payload.subarray(start, end));
  slabUsed += length;
  return chunk;
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
    0;
}
