/**
 * Framing for messages that delimit themselves: the bytes go on the wire as
 * they are, and a function that finds the end of a message splits them.
 * Also {@linkcode jsonValues}, for a stream of concatenated JSON texts.
 *
 * @module
 */

import { DecodeError, FrameSizeError } from "../errors.ts";
import type { FrameSplitter, Framing, MeasureState } from "../types.ts";
import { decoderOf, EMPTY, encoderOf, FrameBuffer, resolveMaxFrameSize } from "./_bytes.ts";

/** Options of {@linkcode selfDelimiting}. */
export interface SelfDelimitingOptions {
  /**
   * The largest message in bytes the decoder accepts. The bytes of an
   * incomplete message are never held beyond it.
   *
   * @default {16777216} (`DEFAULT_LIMITS.maxFrameSize`, 16 MiB)
   */
  readonly maxFrameSize?: number;
}

/** Options of {@linkcode jsonValues}. */
export interface JsonValuesOptions {
  /**
   * The largest JSON text in bytes the decoder accepts. Bytes of an
   * unfinished text beyond it are an error as soon as they arrive.
   *
   * @default {16777216} (`DEFAULT_LIMITS.maxFrameSize`, 16 MiB)
   */
  readonly maxFrameSize?: number;
}

/**
 * A framing for messages that delimit themselves, such as MessagePack
 * values: the encoder passes payloads through unchanged and the decoder
 * splits the stream with `measure`, a codec's `measure` function. Given the
 * bytes at the start of the stream, it returns the length of the first
 * complete message, or `undefined` when more bytes are needed; it may throw a
 * `DecodeError` for bytes that cannot start a message.
 *
 * A message that lies in one chunk is handed out as a view of it, without a
 * copy. Otherwise the decoder keeps the incomplete message in one buffer that
 * doubles as it fills and calls `measure` again each time bytes arrive, with
 * a {@linkcode MeasureState} for the message: the codecs' own `measure`
 * (JSON-RPC, msgpack-rpc, Thrift) resume where they stopped, so a message
 * costs work in its length however many reads it arrives in. A `measure`
 * that ignores the state reads the message from its start each time (work in
 * its length times the reads); `maxFrameSize` bounds both.
 *
 * Errors: `frame()` and the encoder throw a `TypeError` for an empty payload.
 * The decoder errors with whatever `measure` throws, with a `TypeError` when
 * `measure` returns other than `undefined` or an integer from 1 to the
 * buffer's length, with a `FrameSizeError` for a message longer than
 * `maxFrameSize`, and with a `DecodeError` when the stream ends inside a
 * message.
 *
 * @param measure finds the end of the first message; pass a codec's method
 * bound to it, such as `codec.measure.bind(codec)` (the state is passed on)
 * @param options the decoder's limit
 * @returns the framing, named `"self-delimiting"`
 * @throws {RangeError} when `maxFrameSize` is not a positive integer
 *
 * @example Messages whose first byte gives their length
 * ```ts
 * import assert from "node:assert/strict";
 * import { DecodeError } from "../errors.ts";
 * import { selfDelimiting } from "./self_delimiting.ts";
 *
 * const framing = selfDelimiting((buf) => buf.length > buf[0]! ? buf[0]! + 1 : undefined);
 * const decode = (...chunks: number[][]) =>
 *   Array.fromAsync(
 *     ReadableStream.from(chunks.map((c) => new Uint8Array(c))).pipeThrough(framing.decoder()),
 *   );
 * assert.deepEqual(await decode([2, 7], [7, 0]), [new Uint8Array([2, 7, 7]), new Uint8Array([0])]);
 * await assert.rejects(decode([2, 7]), DecodeError); // the stream ends inside a message
 * ```
 */
export function selfDelimiting(
  measure: Measure,
  options: SelfDelimitingOptions = {},
): Framing {
  const maxFrameSize = resolveMaxFrameSize(options.maxFrameSize);
  const name = "self-delimiting";
  return {
    name,
    encoder: () => encoderOf(identity),
    decoder: () => decoderOf(measuredSplitter(name, measure, maxFrameSize)),
    splitter: () => measuredSplitter(name, measure, maxFrameSize),
    frame: identity,
  };
}

/**
 * A framing for a stream of JSON texts written one after the other, each an
 * object or an array, with optional whitespace between them (as some
 * JSON-RPC peers send: `{"a":1}{"b":2} [3]`). The encoder passes payloads
 * through unchanged.
 *
 * The decoder scans each byte once, keeping its state (depth of brackets,
 * inside a string, after a backslash) between chunks; strings are skipped
 * with a byte search. It does not validate JSON (the codec does): it only
 * finds where each top-level object or array ends. Whitespace between
 * texts is dropped; a text that lies in one chunk is handed out as a view of
 * it, without a copy.
 *
 * Errors: `frame()` and the encoder throw a `TypeError` for a payload that
 * does not start with `{` or `[`. The decoder errors with a `DecodeError` for
 * a top-level value that is not an object or an array, or when the stream
 * ends inside a text, and with a `FrameSizeError` once more than
 * `maxFrameSize` bytes of one text arrive.
 *
 * @param options the decoder's limit
 * @returns the framing, named `"json-values"`
 * @throws {RangeError} when `maxFrameSize` is not a positive integer
 *
 * @example Splitting concatenated JSON
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonValues } from "./self_delimiting.ts";
 *
 * const text = new TextEncoder();
 * const bytes = ReadableStream.from([text.encode('{"a":"}"} [1,'), text.encode("[2]]\n")]);
 * const frames = await Array.fromAsync(bytes.pipeThrough(jsonValues().decoder()));
 * assert.deepEqual(frames.map((f) => JSON.parse(new TextDecoder().decode(f))), [
 *   { a: "}" },
 *   [1, [2]],
 * ]);
 * ```
 */
export function jsonValues(options: JsonValuesOptions = {}): Framing {
  const maxFrameSize = resolveMaxFrameSize(options.maxFrameSize);
  const frame = (payload: Uint8Array): Uint8Array => {
    const first = payload[0];
    if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
      throw new TypeError("Cannot frame a payload that is not a JSON object or array");
    }
    return payload;
  };
  return {
    name: "json-values",
    encoder: () => encoderOf(frame),
    decoder: () => jsonDecoder(maxFrameSize),
    frame,
  };
}

/**
 * Finds the end of the first message in `buf` (see {@linkcode selfDelimiting}),
 * resuming from `state` when it can.
 *
 * @example A measure that resumes: messages are bytes up to a zero
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Measure, selfDelimiting } from "./self_delimiting.ts";
 *
 * const measure: Measure = (buf, state) => {
 *   const from = typeof state?.resume === "number" ? state.resume : 0;
 *   const end = buf.indexOf(0, from);
 *   if (end >= 0) return end + 1;
 *   if (state !== undefined) state.resume = buf.length; // searched up to here
 *   return undefined;
 * };
 * const bytes = ReadableStream.from([new Uint8Array([1, 2]), new Uint8Array([3, 0, 4, 0])]);
 * const frames = await Array.fromAsync(bytes.pipeThrough(selfDelimiting(measure).decoder()));
 * assert.deepEqual(frames, [new Uint8Array([1, 2, 3, 0]), new Uint8Array([4, 0])]);
 * ```
 */
export type Measure = (buf: Uint8Array, state?: MeasureState) => number | undefined;

function identity(payload: Uint8Array): Uint8Array {
  if (payload.length === 0) throw new TypeError("Cannot frame an empty self-delimiting message");
  return payload;
}

/** Grows a buffer for the incomplete message and measures it as bytes arrive. */
function measuredSplitter(
  name: string,
  measure: Measure,
  maxFrameSize: number,
): FrameSplitter {
  let buffer = EMPTY;
  let start = 0;
  let end = 0;
  // Where measure stopped in the message at `start` (or at the chunk's `pos`).
  const state: MeasureState = { resume: undefined };

  const measured = (bytes: Uint8Array): number | undefined => {
    const length = measure(bytes, state);
    if (length === undefined) return undefined;
    state.resume = undefined;
    if (!Number.isInteger(length) || length < 1 || length > bytes.length) {
      throw new TypeError(`measure returned ${length} for ${bytes.length} bytes`);
    }
    if (length > maxFrameSize) throw new FrameSizeError(length, maxFrameSize);
    return length;
  };

  const append = (bytes: Uint8Array): void => {
    const held = end - start;
    if (end + bytes.length > buffer.length) {
      if (held + bytes.length <= buffer.length) {
        buffer.copyWithin(0, start, end);
      } else {
        const size = Math.min(maxFrameSize, Math.max(1024, 2 * buffer.length));
        const grown = new Uint8Array(Math.max(held + bytes.length, size));
        grown.set(buffer.subarray(start, end));
        buffer = grown;
      }
      start = 0;
      end = held;
    }
    buffer.set(bytes, end);
    end += bytes.length;
  };

  return {
    push(chunk) {
      const frames: Uint8Array[] = [];
      let pos = 0;
      while (pos < chunk.length) {
        if (start === end) {
          // Nothing held: measure the chunk itself and hand out views of it.
          const rest = chunk.subarray(pos);
          const length = measured(rest);
          if (length !== undefined) {
            frames.push(rest.subarray(0, length));
            pos += length;
            continue;
          }
          if (rest.length > maxFrameSize) throw new FrameSizeError(rest.length, maxFrameSize);
          if (buffer.length > 64 * 1024) buffer = EMPTY;
          start = end = 0;
          append(rest);
          return frames;
        }
        // An incomplete message is held: add at most what the limit allows.
        const room = maxFrameSize - (end - start);
        if (room === 0) throw new FrameSizeError(maxFrameSize + 1, maxFrameSize);
        const count = Math.min(room, chunk.length - pos);
        append(chunk.subarray(pos, pos + count));
        pos += count;
        while (start < end) {
          const length = measured(buffer.subarray(start, end));
          if (length === undefined) break;
          frames.push(buffer.slice(start, start + length));
          start += length;
        }
      }
      return frames;
    },
    end() {
      if (end > start) {
        throw new DecodeError(
          name,
          `unexpected end of stream after ${end - start} bytes of an incomplete message`,
        );
      }
    },
  };
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Splits concatenated JSON texts with a scanner that resumes across chunks. */
function jsonDecoder(maxFrameSize: number): TransformStream<Uint8Array, Uint8Array> {
  const parts = new FrameBuffer();
  let inValue = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let offset = 0; // of the current chunk in the stream

  /** Scans `chunk` from `pos` to `end`; the index past the text's end, or -1. */
  const scan = (chunk: Uint8Array, pos: number, end: number): number => {
    let nextQuote = -1;
    let nextBackslash = -1;
    let i = pos;
    while (i < end) {
      if (escaped) {
        escaped = false;
        i++;
        continue;
      }
      if (inString) {
        // Jump to the next quote or backslash; each is searched for once.
        if (nextQuote < i) nextQuote = indexOrLength(chunk, QUOTE, i);
        if (nextBackslash < i) nextBackslash = indexOrLength(chunk, BACKSLASH, i);
        const at = Math.min(nextQuote, nextBackslash);
        if (at >= end) return -1;
        if (at === nextQuote) inString = false;
        else escaped = true;
        i = at + 1;
        continue;
      }
      const byte = chunk[i++]!;
      if (byte === QUOTE) inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --depth === 0) {
        inValue = false;
        return i;
      }
    }
    return -1;
  };

  return new TransformStream({
    transform(chunk, controller) {
      const length = chunk.length;
      let pos = 0;
      while (pos < length) {
        if (!inValue) {
          pos = skipSpace(chunk, pos, offset);
          if (pos === length) break;
          inValue = true;
        }
        const room = maxFrameSize - parts.size;
        const stop = scan(chunk, pos, Math.min(length, pos + room));
        if (stop < 0) {
          const size = parts.size + length - pos;
          if (size > maxFrameSize) throw new FrameSizeError(size, maxFrameSize);
          parts.push(chunk.subarray(pos));
          break;
        }
        controller.enqueue(
          parts.size === 0 ? chunk.subarray(pos, stop) : parts.take(chunk.subarray(pos, stop)),
        );
        pos = stop;
      }
      offset += length;
    },
    flush() {
      if (inValue) {
        throw new DecodeError(
          "json-values",
          `unexpected end of stream after ${parts.size} bytes of a JSON text`,
        );
      }
    },
  });
}

function indexOrLength(chunk: Uint8Array, byte: number, from: number): number {
  const at = chunk.indexOf(byte, from);
  return at < 0 ? chunk.length : at;
}

/** Skips whitespace; the index of the `{` or `[` that starts the next text. */
function skipSpace(chunk: Uint8Array, pos: number, offset: number): number {
  for (; pos < chunk.length; pos++) {
    const byte = chunk[pos]!;
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) return pos;
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) {
      throw new DecodeError(
        "json-values",
        `a top-level value must be an object or an array, found ${
          JSON.stringify(String.fromCharCode(byte))
        }`,
        offset + pos,
      );
    }
  }
  return pos;
}
