/**
 * Building blocks the framings share: option checks, a splitter that finds a delimiter across chunks and a decoder for
 * formats where a header announces the payload's length.
 *
 * Private to `rpc/framing/`.
 *
 * @module
 */

import { DecodeError, FrameSizeError } from "../errors.ts";
import type { Frame, FrameSplitter } from "../types.ts";
import { DEFAULT_LIMITS } from "../limits.ts";
import { EMPTY, FrameBuffer } from "./_buffer.ts";

export { EMPTY, FrameBuffer };

/** Payloads up to this size are copied behind their header; larger ones are passed on as they are. */
export const JOIN_LIMIT = 64 * 1024;

/**
 * Checks a `maxFrameSize` option.
 *
 * @param value the option as given
 * @returns the limit, {@linkcode DEFAULT_LIMITS.maxFrameSize} when not given
 * @throws {RangeError} when the value is not a positive safe integer
 */
export function resolveMaxFrameSize(value: number | undefined): number {
  return positiveInteger("maxFrameSize", value, DEFAULT_LIMITS.maxFrameSize);
}

/**
 * Checks a size option.
 *
 * @param name the option's name, for the message
 * @param value the option as given
 * @param fallback the default
 * @returns the value, or the default when not given
 * @throws {RangeError} when the value is not a positive safe integer
 */
export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Option ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * Appends `suffix` to `payload`: one new array for small payloads, the two
 * arrays as they are for large ones (no copy).
 *
 * @param head the first part
 * @param tail the second part
 * @returns the frame
 */
export function joinOrParts(
  head: Uint8Array,
  tail: Uint8Array,
): Uint8Array | readonly Uint8Array[] {
  if (head.length + tail.length > JOIN_LIMIT) return [head, tail];
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

/**
 * An encoder stream built from a framing's `frame()`.
 *
 * @param frame frames one payload
 * @returns a stream whose output is the concatenation of the frames
 */
export function encoderOf(
  frame: (payload: Uint8Array) => Uint8Array | readonly Uint8Array[],
): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(payload, controller) {
      const framed = frame(payload);
      if (framed instanceof Uint8Array) controller.enqueue(framed);
      else for (const part of framed) if (part.length > 0) controller.enqueue(part);
    },
  });
}

/**
 * Splits a byte stream at each occurrence of a byte sequence. Each chunk is
 * searched once with `indexOf`; a delimiter that straddles two chunks is found
 * through the last `delimiter.length - 1` bytes kept aside.
 */
export class Splitter {
  readonly #delimiter: Uint8Array;
  readonly #limit: number;
  readonly #overflow: (size: number) => Error;
  readonly #parts = new FrameBuffer();
  readonly #tail: Uint8Array;
  #tailLength = 0;

  /** The segment found by the last successful {@linkcode Splitter.next}. */
  segment: Uint8Array = EMPTY;

  /**
   * @param delimiter the byte sequence, at least one byte
   * @param limit the largest segment in bytes
   * @param overflow builds the error for a segment over the limit
   */
  constructor(delimiter: Uint8Array, limit: number, overflow: (size: number) => Error) {
    this.#delimiter = delimiter;
    this.#limit = limit;
    this.#overflow = overflow;
    this.#tail = new Uint8Array(delimiter.length - 1);
  }

  /** Bytes of an unfinished segment held back. */
  get pending(): number {
    return this.#parts.size;
  }

  /**
   * Looks for the end of the current segment in `chunk` from `pos` on.
   *
   * @param chunk the bytes that arrived
   * @param pos where to start in `chunk`
   * @returns the index just past the delimiter (the segment is then in
   * {@linkcode Splitter.segment}), or -1 when the rest of `chunk` was kept
   * for later
   * @throws the overflow error when the segment grows over the limit
   */
  next(chunk: Uint8Array, pos: number): number {
    const delimiter = this.#delimiter;
    const k = delimiter.length;
    const end = chunk.length;
    const parts = this.#parts;
    // A delimiter that starts in the bytes held back and ends in this chunk;
    // the larger j (bytes of it held back), the earlier it starts.
    for (let j = Math.min(this.#tailLength, k - 1); j >= 1 && end - pos >= k - j; j--) {
      if (this.#tailEndsWith(j) && startsWith(chunk, pos, delimiter, j)) {
        parts.dropLast(j);
        this.#finish(parts.take());
        return pos + k - j;
      }
    }
    const first = delimiter[0]!;
    for (
      let i = chunk.indexOf(first, pos);
      i >= 0 && i + k <= end;
      i = chunk.indexOf(first, i + 1)
    ) {
      if (k === 1 || startsWith(chunk, i, delimiter, 0)) {
        const size = parts.size + i - pos;
        if (size > this.#limit) throw this.#overflow(size);
        this.#finish(
          parts.size === 0 ? chunk.subarray(pos, i) : parts.take(chunk.subarray(pos, i)),
        );
        return i + k;
      }
    }
    // No delimiter yet: the last k - 1 bytes may be the start of one.
    const size = parts.size + end - pos - (k - 1);
    if (size > this.#limit) throw this.#overflow(size);
    parts.push(chunk.subarray(pos));
    if (k > 1) this.#keepTail(chunk, pos);
    return -1;
  }

  #finish(segment: Uint8Array): void {
    if (segment.length > this.#limit) throw this.#overflow(segment.length);
    this.segment = segment;
    this.#tailLength = 0;
  }

  #tailEndsWith(j: number): boolean {
    const tail = this.#tail;
    const from = this.#tailLength - j;
    for (let i = 0; i < j; i++) if (tail[from + i] !== this.#delimiter[i]) return false;
    return true;
  }

  #keepTail(chunk: Uint8Array, pos: number): void {
    const tail = this.#tail;
    const keep = tail.length;
    const added = chunk.length - pos;
    if (added >= keep) {
      tail.set(chunk.subarray(chunk.length - keep));
      this.#tailLength = keep;
      return;
    }
    const drop = Math.max(0, this.#tailLength + added - keep);
    tail.copyWithin(0, drop, this.#tailLength);
    tail.set(chunk.subarray(pos), this.#tailLength - drop);
    this.#tailLength += added - drop;
  }
}

/** Whether `chunk` at `pos` holds `delimiter` from index `from` to its end. */
function startsWith(chunk: Uint8Array, pos: number, delimiter: Uint8Array, from: number): boolean {
  for (let i = from; i < delimiter.length; i++, pos++) {
    if (chunk[pos] !== delimiter[i]) return false;
  }
  return true;
}

/**
 * Reads the header that announces a payload's length. Stateful: a header may
 * arrive over several chunks.
 */
export interface HeaderReader {
  /**
   * Reads header bytes from `chunk` at `pos`.
   *
   * @returns the index past the header, the payload's length being then in
   * `length`; or -1 when all of `chunk` from `pos` was consumed
   * @throws {DecodeError} when the header is malformed
   */
  read(chunk: Uint8Array, pos: number): number;
  /** The payload length read by the last complete header. */
  readonly length: number;
  /** Bytes of an unfinished header consumed so far. */
  readonly pending: number;
}

/**
 * A splitter for formats where a header gives the payload's length: the
 * length is checked against the limit before any of the payload is kept, and
 * a payload that lies in one chunk is handed out as a view of it.
 *
 * @param name the framing's name, for errors
 * @param maxFrameSize the largest payload in bytes
 * @param header reads the headers of one connection
 * @returns the splitter
 */
export function prefixedSplitter(
  name: string,
  maxFrameSize: number,
  header: HeaderReader,
): FrameSplitter {
  const body = new FrameBuffer();
  let need = -1;
  return {
    push(chunk) {
      const frames: Uint8Array[] = [];
      const end = chunk.length;
      let pos = 0;
      while (pos < end) {
        if (need < 0) {
          pos = header.read(chunk, pos);
          if (pos < 0) return frames;
          need = header.length;
          if (need > maxFrameSize) throw new FrameSizeError(need, maxFrameSize);
        }
        const available = end - pos;
        if (body.size === 0 && available >= need) {
          frames.push(chunk.subarray(pos, pos + need));
          pos += need;
        } else if (body.size + available >= need) {
          const rest = need - body.size;
          frames.push(body.take(chunk.subarray(pos, pos + rest)));
          pos += rest;
        } else {
          body.push(chunk.subarray(pos), need);
          return frames;
        }
        need = -1;
      }
      return frames;
    },
    end() {
      if (need >= 0) {
        throw new DecodeError(
          name,
          `unexpected end of stream after ${body.size} of ${need} bytes of a frame`,
        );
      }
      if (header.pending > 0) {
        throw new DecodeError(
          name,
          `unexpected end of stream after ${header.pending} bytes of a frame header`,
        );
      }
    },
  };
}

/**
 * The decoder stream of a splitter: each chunk's frames are enqueued one by
 * one, and the end of the stream is checked.
 *
 * @param splitter splits one connection's bytes
 * @returns the decoder stream
 */
export function decoderOf<F extends Frame>(
  splitter: FrameSplitter,
): TransformStream<Uint8Array, F> {
  return new TransformStream({
    transform(chunk, controller) {
      for (const frame of splitter.push(chunk)) controller.enqueue(frame as F);
    },
    flush() {
      splitter.end();
    },
  });
}
