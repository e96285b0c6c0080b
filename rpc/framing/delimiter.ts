/**
 * Delimiter framing: each frame is its payload followed by a delimiter,
 * with byte stuffing so that any payload can be carried; and {@linkcode
 * newline}, plain newline-delimited text (NDJSON) for JSON-RPC.
 *
 * @module
 */

import { DecodeError, FrameSizeError } from "../errors.ts";
import type { Frame, FrameSplitter, Framing } from "../types.ts";
import {
  decoderOf,
  encoderOf,
  FrameBuffer,
  joinOrParts,
  resolveMaxFrameSize,
  Splitter,
} from "./_bytes.ts";
import { checkUnstuffed, stuff, toDelimiter, toEscape, unstuff } from "./_stuffing.ts";
import { markCopiesChunks } from "./_batch.ts";

/** Options of {@linkcode delimiter}. */
export interface DelimiterOptions {
  /**
   * The byte sequence that ends each frame: a non-empty string (written as
   * UTF-8) or bytes.
   *
   * @default {"\n"}
   */
  readonly delimiter?: string | Uint8Array;
  /**
   * The escape byte for byte stuffing (a number from 0 to 255, or a string of
   * one byte such as `"\\"`), or `false` to send payloads as they are. The
   * escape byte must differ from the delimiter's first byte, and so must the
   * escape byte XOR 0x20.
   *
   * @default {0x1b}
   */
  readonly escape?: number | string | false;
  /**
   * The largest frame in bytes the decoder accepts, as it travels (escape
   * sequences counted, the delimiter not). Bytes without a delimiter beyond
   * it are an error as soon as they arrive.
   *
   * @default {16777216} (`DEFAULT_LIMITS.maxFrameSize`, 16 MiB)
   */
  readonly maxFrameSize?: number;
}

/** Options of {@linkcode newline}. */
export interface NewlineOptions {
  /**
   * The longest line in bytes the decoder accepts (neither the `\n` nor a
   * `\r` before it counted). Bytes without a newline beyond it are an error
   * as soon as they arrive.
   *
   * @default {16777216} (`DEFAULT_LIMITS.maxFrameSize`, 16 MiB)
   */
  readonly maxFrameSize?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const NEWLINE = new Uint8Array([LF]);
const utf8 = new TextEncoder();
const lenient = new TextDecoder("utf-8");

/**
 * A framing where each frame is its payload followed by a delimiter.
 *
 * Byte stuffing (on by default) lets payloads hold any bytes. Let `D` be the
 * delimiter's first byte and `E` the escape byte. The encoder writes each `D`
 * and each `E` in the payload as the two bytes `E, byte ^ 0x20` (for the
 * defaults `\n` and 0x1B: `\n` becomes `1B 2A` and 0x1B becomes `1B 3B`),
 * then the delimiter. The stuffed payload never holds `D`, so the first `D`
 * in the stream starts the delimiter and the decoder finds it with a plain
 * byte search; a frame without `E` is handed out without a copy. Any other
 * byte after `E`, an `E` ending a frame, or (for a multi-byte delimiter) a
 * `D` that does not start the delimiter is a `DecodeError`. This is the
 * scheme of PPP (RFC 1662) with a configurable delimiter and escape.
 *
 * With `escape: false` payloads travel as they are and must not contain the
 * delimiter (nor end with bytes that form it with the delimiter's start).
 * Empty payloads are allowed either way.
 *
 * Errors: `frame()` and the encoder throw a `TypeError` for a payload that
 * cannot be sent without stuffing when `escape` is `false`. The decoder errors
 * with a `FrameSizeError` once more than `maxFrameSize` bytes arrive without a
 * delimiter, and with a `DecodeError` for a bad escape sequence or when the
 * stream ends inside a frame.
 *
 * @param options the delimiter, the escape byte and the decoder's limit
 * @returns the framing, named `"delimiter"`
 * @throws {TypeError} when the delimiter is empty, or the escape byte is not
 * one byte or collides with the delimiter
 * @throws {RangeError} when `maxFrameSize` is not a positive integer
 *
 * @example Payloads holding the delimiter survive
 * ```ts
 * import assert from "node:assert/strict";
 * import { delimiter } from "./delimiter.ts";
 *
 * const framing = delimiter({ delimiter: "\n", escape: "\\" });
 * const text = new TextEncoder();
 * assert.deepEqual(framing.frame(text.encode("a\nb")), text.encode("a\\*b\n"));
 *
 * const bytes = ReadableStream.from([text.encode("a\\*b\n\\|\n")]);
 * const frames = await Array.fromAsync(bytes.pipeThrough(framing.decoder()));
 * assert.deepEqual(frames, [text.encode("a\nb"), text.encode("\\")]);
 * ```
 */
export function delimiter(options: DelimiterOptions = {}): Framing {
  const delimiterBytes = toDelimiter(options.delimiter ?? "\n");
  const escape = toEscape(options.escape ?? 0x1b, delimiterBytes);
  const maxFrameSize = resolveMaxFrameSize(options.maxFrameSize);
  const first = delimiterBytes[0]!;

  const frame = escape === undefined
    ? (payload: Uint8Array): Uint8Array | readonly Uint8Array[] => {
      checkUnstuffed(payload, delimiterBytes);
      return joinOrParts(payload, delimiterBytes);
    }
    : (payload: Uint8Array): Uint8Array | readonly Uint8Array[] =>
      payload.indexOf(first) < 0 && payload.indexOf(escape) < 0
        ? joinOrParts(payload, delimiterBytes)
        : stuff(payload, first, escape, delimiterBytes);

  const decoder = (): TransformStream<Uint8Array, Uint8Array> => {
    const splitter = new Splitter(
      delimiterBytes,
      maxFrameSize,
      (size) => new FrameSizeError(size, maxFrameSize),
    );
    const unstuffRaw = delimiterBytes.length > 1;
    return new TransformStream({
      transform(chunk, controller) {
        for (let pos = 0; pos < chunk.length;) {
          pos = splitter.next(chunk, pos);
          if (pos < 0) return;
          const segment = splitter.segment;
          controller.enqueue(
            escape === undefined ? segment : unstuff(segment, first, escape, unstuffRaw),
          );
        }
      },
      flush() {
        if (splitter.pending > 0) throw endOfStream("delimiter", splitter.pending);
      },
    });
  };

  return { name: "delimiter", encoder: () => encoderOf(frame), decoder, frame };
}

/**
 * Newline-delimited framing without stuffing: each frame is a line. This is
 * NDJSON, the framing JSON-RPC peers in most languages speak over pipes and
 * sockets; JSON text never holds a raw newline, so nothing needs escaping.
 *
 * The decoder tolerates `\r\n` line ends (a trailing `\r` is dropped) and
 * skips empty lines, as hand-written clients send them. So that every frame
 * survives the trip, the encoder refuses payloads that are empty, contain
 * `\n` or end with `\r`.
 *
 * Errors: `frame()` and the encoder throw a `TypeError` for such payloads.
 * The decoder errors with a `FrameSizeError` once more than `maxFrameSize`
 * bytes arrive without a newline, and with a `DecodeError` when the stream
 * ends inside a line.
 *
 * @param options the decoder's limit
 * @returns the framing, named `"newline"`
 * @throws {RangeError} when `maxFrameSize` is not a positive integer
 *
 * @example Reading lines from a hand-written client
 * ```ts
 * import assert from "node:assert/strict";
 * import { newline } from "./delimiter.ts";
 *
 * const framing = newline();
 * const text = new TextEncoder();
 * const bytes = ReadableStream.from([text.encode('{"a":1}\r\n\n{"b"'), text.encode(":2}\n")]);
 * const frames = await Array.fromAsync(bytes.pipeThrough(framing.decoder()));
 * assert.deepEqual(frames.map((f) => new TextDecoder().decode(f)), ['{"a":1}', '{"b":2}']);
 * assert.deepEqual(framing.frame(text.encode("[]")), text.encode("[]\n"));
 * ```
 */
export function newline(options: NewlineOptions = {}): Framing {
  const maxFrameSize = resolveMaxFrameSize(options.maxFrameSize);

  const frame = (payload: Uint8Array): Uint8Array | readonly Uint8Array[] => {
    if (payload.length === 0) {
      throw new TypeError("Cannot frame an empty payload as a line: empty lines are skipped");
    }
    if (payload.indexOf(LF) >= 0) {
      throw new TypeError("Cannot frame a payload containing a newline as a line");
    }
    if (payload[payload.length - 1] === CR) {
      throw new TypeError("Cannot frame a payload ending with a carriage return as a line");
    }
    return joinOrParts(payload, NEWLINE);
  };

  const decoder = (): TransformStream<Uint8Array, Uint8Array> => {
    // One more byte for the `\r` that may end the line, checked once it is gone.
    const splitter = new Splitter(
      NEWLINE,
      maxFrameSize + 1,
      (size) => new FrameSizeError(size, maxFrameSize),
    );
    return new TransformStream({
      transform(chunk, controller) {
        for (let pos = 0; pos < chunk.length;) {
          pos = splitter.next(chunk, pos);
          if (pos < 0) return;
          let line = splitter.segment;
          if (line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
          if (line.length > maxFrameSize) throw new FrameSizeError(line.length, maxFrameSize);
          if (line.length > 0) controller.enqueue(line);
        }
      },
      flush() {
        if (splitter.pending > 0) throw endOfStream("newline", splitter.pending);
      },
    });
  };

  const frameText = (payload: string): string => {
    if (payload.length === 0 || payload.includes("\n") || payload.endsWith("\r")) {
      frame(utf8.encode(payload)); // throws the same TypeError as for bytes
    }
    return payload + "\n";
  };

  return {
    name: "newline",
    encoder: () => encoderOf(frame),
    decoder,
    frame,
    frameText,
    textDecoder: () => decoderOf(newlineTextSplitter(maxFrameSize)),
    textSplitter: () => markCopiesChunks(newlineTextSplitter(maxFrameSize)),
  };
}

/**
 * The newline splitter for text codecs: sizes are checked on the bytes, but
 * all the complete lines of a chunk are decoded from UTF-8 in one call, which
 * costs far less than one call per line. A chunk with invalid UTF-8 falls
 * back to handing out its lines as bytes, so that only the bad line fails.
 */
function newlineTextSplitter(maxFrameSize: number): FrameSplitter {
  const text = new TextDecoder("utf-8", { fatal: true });
  const held = new FrameBuffer();
  let heldLastByte = -1;
  return {
    push(chunk) {
      const frames: Frame[] = [];
      const last = chunk.lastIndexOf(LF);
      if (last < 0) {
        held.push(chunk);
        if (chunk.length > 0) heldLastByte = chunk[chunk.length - 1]!;
        if (held.size > maxFrameSize + 1) throw new FrameSizeError(held.size, maxFrameSize);
        return frames;
      }
      let lineStart = 0;
      let carried = held.size;
      // No line can be longer than all the complete lines together: when they
      // are within the limit (the common case: a read is far below it), the
      // lines need no measuring one by one.
      const measured = carried + last <= maxFrameSize ? -1 : last;
      for (let at = chunk.indexOf(LF); at >= 0 && at <= measured; at = chunk.indexOf(LF, at + 1)) {
        let size = carried + at - lineStart;
        if (size > 0 && (at > 0 ? chunk[at - 1] : heldLastByte) === CR) size--;
        if (size > maxFrameSize) throw new FrameSizeError(size, maxFrameSize);
        carried = 0;
        lineStart = at + 1;
      }
      const complete = held.take(chunk.subarray(0, last));
      // A read that ends with its last line (one call at a time: always)
      // leaves nothing to hold.
      if (last + 1 < chunk.length) {
        const rest = chunk.subarray(last + 1);
        held.push(rest);
        heldLastByte = rest[rest.length - 1]!;
        if (held.size > maxFrameSize + 1) throw new FrameSizeError(held.size, maxFrameSize);
      }
      let lines: Frame[];
      // The replacing decoder costs a third of the fatal one: a text without
      // U+FFFD is what the fatal one gives (frame_text.ts); one with it, and
      // invalid UTF-8, take the fatal path.
      const decoded = lenient.decode(complete);
      if (decoded.indexOf("\uFFFD") < 0) {
        lines = decoded.indexOf("\n") < 0 ? [decoded] : decoded.split("\n");
      } else {
        try {
          lines = text.decode(complete).split("\n");
        } catch {
          lines = splitBytes(complete);
        }
      }
      for (const line of lines) {
        const lastUnit = typeof line === "string"
          ? line.charCodeAt(line.length - 1)
          : line[line.length - 1];
        const end = line.length > 0 && lastUnit === CR ? line.length - 1 : line.length;
        if (end === 0) continue;
        if (end === line.length) frames.push(line);
        else frames.push(typeof line === "string" ? line.slice(0, end) : line.subarray(0, end));
      }
      return frames;
    },
    end() {
      if (held.size > 0) throw endOfStream("newline", held.size);
    },
  };
}

// Copies, not views: the chunk may be a reader's buffer, reused (markCopiesChunks).
function splitBytes(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let at = bytes.indexOf(LF); at >= 0; at = bytes.indexOf(LF, start)) {
    lines.push(bytes.slice(start, at));
    start = at + 1;
  }
  lines.push(bytes.slice(start));
  return lines;
}

function endOfStream(name: string, pending: number): DecodeError {
  return new DecodeError(
    name,
    `unexpected end of stream after ${pending} bytes of a frame without its delimiter`,
  );
}
