/**
 * Length-prefixed framing: each frame is an unsigned integer of fixed width
 * giving the payload's length in bytes, then the payload.
 *
 * @module
 */

import type { FrameSplitter, Framing } from "../types.ts";
import {
  decoderOf,
  encoderOf,
  type HeaderReader,
  JOIN_LIMIT,
  prefixedSplitter,
  resolveMaxFrameSize,
} from "./_bytes.ts";
import { offerHeaderFraming } from "./_batch.ts";
import { textFrames } from "./_text_frames.ts";

/** Options of {@linkcode lengthPrefix}. */
export interface LengthPrefixOptions {
  /**
   * The width of the length prefix in bytes: 1, 2, 4 or 8.
   *
   * @default {4}
   */
  readonly width?: 1 | 2 | 4 | 8;
  /**
   * Writes and reads the prefix least significant byte first. The default is
   * big-endian (network byte order).
   *
   * @default {false}
   */
  readonly littleEndian?: boolean;
  /**
   * The largest payload in bytes the decoder accepts (the prefix not
   * counted). A larger declared length is rejected as soon as the prefix is
   * read, before any of the payload is kept.
   *
   * @default {16777216} (`DEFAULT_LIMITS.maxFrameSize`, 16 MiB)
   */
  readonly maxFrameSize?: number;
}

const LARGEST: Record<1 | 2 | 4 | 8, number> = {
  1: 0xff,
  2: 0xffff,
  4: 0xffff_ffff,
  8: Number.MAX_SAFE_INTEGER,
};

/**
 * A framing where each frame is its payload's length as an unsigned integer
 * of `width` bytes (big-endian unless `littleEndian`), then the payload.
 *
 * Empty payloads are allowed. An 8-byte prefix may declare lengths that a
 * JavaScript number cannot hold exactly; those are beyond any
 * `maxFrameSize` and rejected as too large.
 *
 * `frame()` returns one array for payloads up to 64 KiB and `[prefix,
 * payload]` (no copy) for larger ones; the encoder then emits the payload as
 * it was written, so it must not be changed afterwards.
 *
 * Errors: `frame()` and the encoder throw a `RangeError` for a payload longer
 * than the prefix can express. The decoder errors with a `FrameSizeError`
 * for a declared length over `maxFrameSize` (as soon as the prefix is in)
 * and with a `DecodeError` when the stream ends inside a frame.
 *
 * @param options the width, the byte order and the decoder's limit
 * @returns the framing, named `"length-prefix"`
 * @throws {RangeError} when `width` is not 1, 2, 4 or 8, or `maxFrameSize`
 * is not a positive integer
 *
 * @example Framing and decoding two payloads
 * ```ts
 * import assert from "node:assert/strict";
 * import { lengthPrefix } from "./length_prefix.ts";
 *
 * const framing = lengthPrefix({ width: 2 });
 * const framed = framing.frame(new Uint8Array([7, 8, 9]));
 * assert.deepEqual(framed, new Uint8Array([0, 3, 7, 8, 9]));
 *
 * const bytes = ReadableStream.from([new Uint8Array([0, 1, 42, 0]), new Uint8Array([0])]);
 * const frames = await Array.fromAsync(bytes.pipeThrough(framing.decoder()));
 * assert.deepEqual(frames, [new Uint8Array([42]), new Uint8Array([])]);
 * ```
 */
export function lengthPrefix(options: LengthPrefixOptions = {}): Framing {
  const width = options.width ?? 4;
  if (width !== 1 && width !== 2 && width !== 4 && width !== 8) {
    throw new RangeError(`Option width must be 1, 2, 4 or 8, got ${width}`);
  }
  const littleEndian = options.littleEndian ?? false;
  const maxFrameSize = resolveMaxFrameSize(options.maxFrameSize);
  const largest = LARGEST[width];

  const frame = (payload: Uint8Array): Uint8Array | readonly Uint8Array[] => {
    const length = payload.length;
    if (length > largest) {
      throw new RangeError(
        `Cannot frame a payload of ${length} bytes: a ${width}-byte prefix holds at most ${largest}`,
      );
    }
    if (length + width > JOIN_LIMIT) {
      const prefix = new Uint8Array(width);
      writeLength(prefix, width, littleEndian, length);
      return [prefix, payload];
    }
    const out = new Uint8Array(width + length);
    writeLength(out, width, littleEndian, length);
    out.set(payload, width);
    return out;
  };

  const splitter = (): FrameSplitter =>
    prefixedSplitter("length-prefix", maxFrameSize, new FixedWidthHeader(width, littleEndian));

  return offerHeaderFraming({
    name: "length-prefix",
    encoder: () => encoderOf(frame),
    decoder: () => decoderOf(splitter()),
    splitter,
    textSplitter: () => textFrames(splitter()),
    frame,
  }, {
    headerSize: width,
    largest,
    writeHeader: (out, at, length) => writeLength(out, width, littleEndian, length, at),
  });
}

/** Reads a fixed-width prefix, from the chunk itself when it holds all of it. */
class FixedWidthHeader implements HeaderReader {
  readonly #width: 1 | 2 | 4 | 8;
  readonly #littleEndian: boolean;
  readonly #scratch: Uint8Array;
  #got = 0;
  length = 0;

  constructor(width: 1 | 2 | 4 | 8, littleEndian: boolean) {
    this.#width = width;
    this.#littleEndian = littleEndian;
    this.#scratch = new Uint8Array(width);
  }

  get pending(): number {
    return this.#got;
  }

  read(chunk: Uint8Array, pos: number): number {
    const width = this.#width;
    if (this.#got === 0 && chunk.length - pos >= width) {
      this.length = readLength(chunk, pos, width, this.#littleEndian);
      return pos + width;
    }
    const count = Math.min(width - this.#got, chunk.length - pos);
    this.#scratch.set(chunk.subarray(pos, pos + count), this.#got);
    this.#got += count;
    if (this.#got < width) return -1;
    this.#got = 0;
    this.length = readLength(this.#scratch, 0, width, this.#littleEndian);
    return pos + count;
  }
}

function readLength(bytes: Uint8Array, pos: number, width: number, littleEndian: boolean): number {
  switch (width) {
    case 1:
      return bytes[pos]!;
    case 2:
      return littleEndian
        ? bytes[pos]! | (bytes[pos + 1]! << 8)
        : (bytes[pos]! << 8) | bytes[pos + 1]!;
    case 4:
      return littleEndian ? uint32le(bytes, pos) : uint32be(bytes, pos);
    default:
      // Beyond 2^53 the value is rounded, but it is over any limit anyway.
      return littleEndian
        ? uint32le(bytes, pos + 4) * 0x1_0000_0000 + uint32le(bytes, pos)
        : uint32be(bytes, pos) * 0x1_0000_0000 + uint32be(bytes, pos + 4);
  }
}

function uint32be(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) |
    bytes[pos + 3]!) >>> 0;
}

function uint32le(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos + 3]! << 24) | (bytes[pos + 2]! << 16) | (bytes[pos + 1]! << 8) |
    bytes[pos]!) >>> 0;
}

function writeLength(
  out: Uint8Array,
  width: number,
  littleEndian: boolean,
  length: number,
  at = 0,
): void {
  const high = width === 8 ? Math.floor(length / 0x1_0000_0000) : 0;
  let low = width === 8 ? length >>> 0 : length;
  const bytes = Math.min(width, 4);
  // The low (up to) four bytes, then the high four for an 8-byte prefix.
  for (let i = 0; i < bytes; i++) {
    out[at + (littleEndian ? i : width - 1 - i)] = low & 0xff;
    low >>>= 8;
  }
  if (width === 8) {
    let rest = high;
    for (let i = 4; i < 8; i++) {
      out[at + (littleEndian ? i : 7 - i)] = rest & 0xff;
      rest >>>= 8;
    }
  }
}
