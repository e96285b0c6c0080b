/**
 * Varint-delimited framing, protobuf's "delimited" format: each frame is the
 * payload's length as an unsigned LEB128 varint, then the payload. Also the
 * varint helpers themselves.
 *
 * @module
 */

import { DecodeError } from "../errors.ts";
import type { FrameSplitter, Framing } from "../types.ts";
import {
  decoderOf,
  encoderOf,
  type HeaderReader,
  JOIN_LIMIT,
  prefixedSplitter,
  resolveMaxFrameSize,
} from "./_bytes.ts";

/** Options of {@linkcode varint}. */
export interface VarintOptions {
  /**
   * The largest payload in bytes the decoder accepts (the varint not
   * counted). A larger declared length is rejected as soon as the varint is
   * read, before any of the payload is kept.
   *
   * @default {16777216} (`DEFAULT_LIMITS.maxFrameSize`, 16 MiB)
   */
  readonly maxFrameSize?: number;
}

/** The longest varint: ten bytes carry 64 bits. */
const MAX_VARINT_BYTES = 10;

/**
 * Encodes an unsigned integer as a LEB128 varint: seven bits per byte, least
 * significant group first, the high bit set on every byte but the last.
 *
 * @param n a non-negative safe integer
 * @returns the varint, one to eight bytes long
 * @throws {RangeError} when `n` is negative, not an integer or above
 * `Number.MAX_SAFE_INTEGER`
 *
 * @example Encoding 300
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeVarint } from "./varint.ts";
 *
 * assert.deepEqual(encodeVarint(300), new Uint8Array([0xac, 0x02]));
 * ```
 */
export function encodeVarint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`Cannot encode ${n} as a varint: not a non-negative safe integer`);
  }
  const out = new Uint8Array(varintLength(n));
  writeVarint(out, 0, n);
  return out;
}

/**
 * Decodes the LEB128 varint at `offset`. Non-minimal encodings (such as
 * `0x80 0x00` for 0) are accepted, as protobuf does.
 *
 * @param buf the bytes
 * @param offset where the varint starts
 * @returns the value and the number of bytes it took, or `undefined` when
 * `buf` ends before the varint does
 * @throws {DecodeError} when the varint is longer than ten bytes or its value
 * does not fit in 64 bits
 * @throws {RangeError} when the value is above `Number.MAX_SAFE_INTEGER`
 *
 * @example Decoding 300 after one byte of something else
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeVarint } from "./varint.ts";
 *
 * assert.deepEqual(decodeVarint(new Uint8Array([9, 0xac, 0x02]), 1), [300, 2]);
 * assert.equal(decodeVarint(new Uint8Array([0xac]), 0), undefined);
 * ```
 */
export function decodeVarint(
  buf: Uint8Array,
  offset = 0,
): [value: number, bytesRead: number] | undefined {
  const reader = new VarintHeader();
  const end = reader.read(buf, offset);
  if (end < 0) return undefined;
  if (reader.length > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`Varint at offset ${offset} is above Number.MAX_SAFE_INTEGER`);
  }
  return [reader.length, end - offset];
}

/**
 * A framing where each frame is its payload's length as an unsigned LEB128
 * varint, then the payload: protobuf's delimited format
 * (`writeDelimitedTo` / `parseDelimitedFrom`). Empty payloads are allowed.
 *
 * `frame()` returns one array for payloads up to 64 KiB and `[varint,
 * payload]` (no copy) for larger ones; the encoder then emits the payload as
 * it was written, so it must not be changed afterwards.
 *
 * Errors: the decoder errors with a `DecodeError` for a varint longer than
 * ten bytes or beyond 64 bits, or when the stream ends inside a frame, and
 * with a `FrameSizeError` for a declared length over `maxFrameSize`.
 *
 * @param options the decoder's limit
 * @returns the framing, named `"varint"`
 * @throws {RangeError} when `maxFrameSize` is not a positive integer
 *
 * @example Framing and decoding a payload
 * ```ts
 * import assert from "node:assert/strict";
 * import { varint } from "./varint.ts";
 *
 * const framing = varint();
 * assert.deepEqual(framing.frame(new Uint8Array([1, 2])), new Uint8Array([2, 1, 2]));
 *
 * const bytes = ReadableStream.from([new Uint8Array([2, 1]), new Uint8Array([2, 0])]);
 * const frames = await Array.fromAsync(bytes.pipeThrough(framing.decoder()));
 * assert.deepEqual(frames, [new Uint8Array([1, 2]), new Uint8Array([])]);
 * ```
 */
export function varint(options: VarintOptions = {}): Framing {
  const maxFrameSize = resolveMaxFrameSize(options.maxFrameSize);

  const frame = (payload: Uint8Array): Uint8Array | readonly Uint8Array[] => {
    const length = payload.length;
    const width = varintLength(length);
    if (length + width > JOIN_LIMIT) return [encodeVarint(length), payload];
    const out = new Uint8Array(width + length);
    writeVarint(out, 0, length);
    out.set(payload, width);
    return out;
  };

  const splitter = (): FrameSplitter =>
    prefixedSplitter("varint", maxFrameSize, new VarintHeader());

  return {
    name: "varint",
    encoder: () => encoderOf(frame),
    decoder: () => decoderOf(splitter()),
    splitter,
    frame,
  };
}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    length++;
  }
  return length;
}

function writeVarint(out: Uint8Array, pos: number, n: number): void {
  while (n > 0x7fff_ffff) {
    out[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos] = n;
}

/** Reads a varint that may arrive over several chunks. */
class VarintHeader implements HeaderReader {
  #value = 0;
  #shift = 0;
  #count = 0;
  length = 0;

  get pending(): number {
    return this.#count;
  }

  read(chunk: Uint8Array, pos: number): number {
    const end = chunk.length;
    if (this.#count === 0 && pos < end && chunk[pos]! < 0x80) {
      this.length = chunk[pos]!;
      return pos + 1;
    }
    while (pos < end) {
      const byte = chunk[pos++]!;
      this.#count++;
      if (this.#count === MAX_VARINT_BYTES && byte > 1) {
        const why = byte >= 0x80 ? "varint longer than 10 bytes" : "varint does not fit in 64 bits";
        this.#reset();
        throw new DecodeError("varint", why);
      }
      // Beyond 2^53 the value is rounded, but it is over any limit anyway.
      this.#value += (byte & 0x7f) * 2 ** this.#shift;
      if (byte < 0x80) {
        this.length = this.#value;
        this.#reset();
        return pos;
      }
      this.#shift += 7;
    }
    return -1;
  }

  #reset(): void {
    this.#value = 0;
    this.#shift = 0;
    this.#count = 0;
  }
}
