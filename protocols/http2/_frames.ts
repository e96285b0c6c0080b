/**
 * HTTP/2 frames (RFC 9113 §4, §6): the reader that cuts a byte stream into
 * frames, and the writer that lays frames into one output buffer.
 *
 * The reader hands each frame to one method call with the payload as a
 * view of the bytes it was given (no object, no copy per frame); a frame
 * split across reads is gathered in one buffer that grows, never one per
 * read. A frame longer than the limit is refused from its header, before a
 * byte of it is kept.
 *
 * The writer appends every frame of a turn to one buffer, handed out whole
 * by `take()`: one socket write per batch. Two buffers alternate, so the
 * one being written is never the one being filled.
 *
 * @module
 */

/** Frame types (RFC 9113 §6). */
export const DATA = 0x0;
/** HEADERS. */
export const HEADERS = 0x1;
/** PRIORITY (parsed, ignored). */
export const PRIORITY = 0x2;
/** RST_STREAM. */
export const RST_STREAM = 0x3;
/** SETTINGS. */
export const SETTINGS = 0x4;
/** PUSH_PROMISE (refused). */
export const PUSH_PROMISE = 0x5;
/** PING. */
export const PING = 0x6;
/** GOAWAY. */
export const GOAWAY = 0x7;
/** WINDOW_UPDATE. */
export const WINDOW_UPDATE = 0x8;
/** CONTINUATION. */
export const CONTINUATION = 0x9;

/** END_STREAM (DATA, HEADERS); ACK on SETTINGS and PING. */
export const END_STREAM = 0x1;
/** ACK (SETTINGS, PING). */
export const ACK = 0x1;
/** END_HEADERS (HEADERS, CONTINUATION). */
export const END_HEADERS = 0x4;
/** PADDED (DATA, HEADERS). */
export const PADDED = 0x8;
/** PRIORITY (HEADERS). */
export const PRIORITY_FLAG = 0x20;

/** The client's connection preface (RFC 9113 §3.4). */
export const PREFACE: Uint8Array = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * A 32-bit big-endian unsigned integer of a payload.
 *
 * @param bytes the payload
 * @param at where the integer starts
 * @returns its value
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { u32 } from "./_frames.ts";
 *
 * assert.equal(u32(new Uint8Array([0x80, 0, 1, 0]), 0), 2 ** 31 + 256);
 * ```
 */
export function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
    0;
}

/** The receiving side of a {@linkcode FrameReader}. */
export interface FrameSink {
  /**
   * One whole frame; `payload` is a view valid during the call only.
   *
   * @returns false to stop reading (the connection ended)
   */
  frame(type: number, flags: number, stream: number, payload: Uint8Array): boolean;
  /** A frame header announced more than `maxFrameSize` bytes. */
  oversize(length: number, type: number): void;
}

/**
 * Cuts bytes into frames.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameReader, FrameWriter, PING } from "./_frames.ts";
 *
 * const writer = new FrameWriter();
 * writer.ping(new Uint8Array(8).fill(7), false);
 * const bytes = writer.take().slice();
 * const seen: number[] = [];
 * const reader = new FrameReader({
 *   frame: (type, _flags, _stream, payload) => (seen.push(type, payload.length), true),
 *   oversize: () => {},
 * });
 * reader.push(bytes.subarray(0, 5)); // a frame split across reads
 * reader.push(bytes.subarray(5));
 * assert.deepEqual(seen, [PING, 8]);
 * ```
 */
export class FrameReader {
  /** The largest payload accepted (our SETTINGS_MAX_FRAME_SIZE). */
  maxFrameSize = 16_384;
  readonly #sink: FrameSink;
  #carry = new Uint8Array(0);
  #carried = 0;
  #stopped = false;

  /** @param sink where frames go */
  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  /** Bytes held of a frame not yet whole. */
  get buffered(): number {
    return this.#carried;
  }

  /**
   * Reads the frames in `bytes` (which may be reused by the caller after
   * this returns: anything kept is copied).
   */
  push(bytes: Uint8Array): void {
    if (this.#stopped) return;
    if (this.#carried === 0) {
      const used = this.#parse(bytes, 0, bytes.length);
      if (used < bytes.length && !this.#stopped) this.#keep(bytes.subarray(used));
      return;
    }
    this.#keep(bytes);
    const used = this.#parse(this.#carry, 0, this.#carried);
    if (this.#stopped) return;
    this.#carry.copyWithin(0, used, this.#carried);
    this.#carried -= used;
    if (this.#carried === 0 && this.#carry.length > 65_536) this.#carry = new Uint8Array(0);
  }

  /** Stops reading: later bytes are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#carry = new Uint8Array(0);
    this.#carried = 0;
  }

  #keep(bytes: Uint8Array): void {
    const need = this.#carried + bytes.length;
    if (need > this.#carry.length) {
      const grown = new Uint8Array(Math.max(need, this.#carry.length * 2, 1024));
      grown.set(this.#carry.subarray(0, this.#carried));
      this.#carry = grown;
    }
    this.#carry.set(bytes, this.#carried);
    this.#carried = need;
  }

  // Parses whole frames from buf[at, end); returns where the first incomplete one starts.
  #parse(buf: Uint8Array, at: number, end: number): number {
    const sink = this.#sink;
    while (end - at >= 9) {
      const length = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
      const type = buf[at + 3]!;
      if (length > this.maxFrameSize) {
        this.stop();
        sink.oversize(length, type);
        return end;
      }
      if (end - at - 9 < length) break;
      const flags = buf[at + 4]!;
      const stream = ((buf[at + 5]! & 0x7f) << 24 | (buf[at + 6]! << 16) | (buf[at + 7]! << 8) |
        buf[at + 8]!) >>> 0;
      const start = at + 9;
      at = start + length;
      if (!sink.frame(type, flags, stream, buf.subarray(start, at)) || this.#stopped) {
        this.stop();
        return end;
      }
    }
    return at;
  }
}

/**
 * Lays frames into one buffer, taken whole for one socket write.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameWriter } from "./_frames.ts";
 *
 * const writer = new FrameWriter();
 * writer.windowUpdate(0, 1000);
 * writer.rstStream(3, 8);
 * const bytes = writer.take();
 * assert.equal(bytes.length, 13 + 13);
 * assert.equal(writer.size, 0);
 * ```
 */
export class FrameWriter {
  #buf: Uint8Array = new Uint8Array(16_384);
  #spare: Uint8Array | undefined = new Uint8Array(16_384) as Uint8Array;
  #at = 0;

  /** Bytes waiting to be taken. */
  get size(): number {
    return this.#at;
  }

  /**
   * The frames written since the last call, as one view; valid until the
   * next call (the buffers alternate).
   */
  take(): Uint8Array {
    const out = this.#buf.subarray(0, this.#at);
    const spare = this.#spare;
    // A buffer that grew for a burst is let go rather than kept for ever.
    this.#spare = this.#buf.length > 262_144 ? undefined : this.#buf;
    this.#buf = spare ?? new Uint8Array(16_384);
    this.#at = 0;
    return out;
  }

  /** Makes room for `bytes` more. */
  #room(bytes: number): void {
    if (this.#at + bytes <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#at + bytes));
    grown.set(this.#buf.subarray(0, this.#at));
    this.#buf = grown;
  }

  #header(length: number, type: number, flags: number, stream: number): void {
    const buf = this.#buf;
    const at = this.#at;
    buf[at] = length >>> 16;
    buf[at + 1] = length >>> 8;
    buf[at + 2] = length;
    buf[at + 3] = type;
    buf[at + 4] = flags;
    buf[at + 5] = stream >>> 24;
    buf[at + 6] = stream >>> 16;
    buf[at + 7] = stream >>> 8;
    buf[at + 8] = stream;
    this.#at = at + 9;
  }

  #u32(value: number): void {
    const buf = this.#buf;
    const at = this.#at;
    buf[at] = value >>> 24;
    buf[at + 1] = value >>> 16;
    buf[at + 2] = value >>> 8;
    buf[at + 3] = value;
    this.#at = at + 4;
  }

  /** A DATA frame of `bytes[start, end)` (at most the peer's frame size: the caller splits). */
  data(stream: number, bytes: Uint8Array, start: number, end: number, endStream: boolean): void {
    const length = end - start;
    this.#room(9 + length);
    this.#header(length, DATA, endStream ? END_STREAM : 0, stream);
    this.#buf.set(bytes.subarray(start, end), this.#at);
    this.#at += length;
  }

  /** A header block: HEADERS, then CONTINUATIONs when it is longer than `maxFrameSize`. */
  headers(stream: number, block: Uint8Array, endStream: boolean, maxFrameSize: number): void {
    this.#room(block.length + 9 * (Math.ceil(block.length / maxFrameSize) + 1));
    let at = 0;
    let type = HEADERS;
    let flags = endStream ? END_STREAM : 0;
    do {
      const length = Math.min(maxFrameSize, block.length - at);
      const last = at + length === block.length;
      this.#header(length, type, flags | (last ? END_HEADERS : 0), stream);
      this.#buf.set(block.subarray(at, at + length), this.#at);
      this.#at += length;
      at += length;
      type = CONTINUATION;
      flags = 0;
    } while (at < block.length);
  }

  /** A SETTINGS frame of `[id, value, …]`. */
  settings(pairs: readonly number[]): void {
    this.#room(9 + pairs.length * 3);
    this.#header((pairs.length / 2) * 6, SETTINGS, 0, 0);
    for (let i = 0; i < pairs.length; i += 2) {
      this.#buf[this.#at++] = pairs[i]! >>> 8;
      this.#buf[this.#at++] = pairs[i]!;
      this.#u32(pairs[i + 1]!);
    }
  }

  /** A SETTINGS acknowledgement. */
  settingsAck(): void {
    this.#room(9);
    this.#header(0, SETTINGS, ACK, 0);
  }

  /** A PING, or its acknowledgement, with 8 bytes of payload. */
  ping(payload: Uint8Array, ack: boolean): void {
    this.#room(17);
    this.#header(8, PING, ack ? ACK : 0, 0);
    this.#buf.set(payload.subarray(0, 8), this.#at);
    this.#at += 8;
  }

  /** A GOAWAY with the last stream processed, an error code and debug text. */
  goaway(lastStream: number, code: number, debug: Uint8Array): void {
    this.#room(17 + debug.length);
    this.#header(8 + debug.length, GOAWAY, 0, 0);
    this.#u32(lastStream);
    this.#u32(code);
    this.#buf.set(debug, this.#at);
    this.#at += debug.length;
  }

  /** An RST_STREAM. */
  rstStream(stream: number, code: number): void {
    this.#room(13);
    this.#header(4, RST_STREAM, 0, stream);
    this.#u32(code);
  }

  /** A WINDOW_UPDATE (stream 0: the connection's window). */
  windowUpdate(stream: number, increment: number): void {
    this.#room(13);
    this.#header(4, WINDOW_UPDATE, 0, stream);
    this.#u32(increment);
  }

  /** Raw bytes (the client's preface). */
  raw(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#at);
    this.#at += bytes.length;
  }
}
