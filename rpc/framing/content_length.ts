/**
 * The base protocol of the Language Server Protocol: each frame is a block of
 * `Name: value` header lines, a blank line, then a body whose length in bytes
 * the `Content-Length` header gives.
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
  positiveInteger,
  prefixedSplitter,
  resolveMaxFrameSize,
  Splitter,
} from "./_bytes.ts";

/** Options of {@linkcode contentLength}. */
export interface ContentLengthOptions {
  /**
   * The largest body in bytes the decoder accepts. A larger
   * `Content-Length` is rejected as soon as the header block is read, before
   * any of the body is kept.
   *
   * @default {16777216} (`DEFAULT_LIMITS.maxFrameSize`, 16 MiB)
   */
  readonly maxFrameSize?: number;
  /**
   * The largest header block in bytes the decoder accepts (the blank line
   * that ends it not counted).
   *
   * @default {8192}
   */
  readonly maxHeaderSize?: number;
  /**
   * A `Content-Type` header for the encoder to write after `Content-Length`,
   * such as `"application/vscode-jsonrpc; charset=utf-8"`. None by default,
   * as LSP peers assume that one.
   */
  readonly contentType?: string;
}

const NAME = "content-length";
const HEADER_END = new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a]);
const DIGITS = /^[0-9]+$/;
const PRINTABLE = /^[\x20-\x7e]*$/;
const utf8 = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/**
 * A framing for the Language Server Protocol's base protocol: header lines
 * `Content-Length: N\r\n`, optional others such as `Content-Type: ...\r\n`,
 * a blank line `\r\n`, then `N` bytes of body. Header names are matched
 * without regard to case; headers other than `Content-Length` are ignored.
 * Empty bodies are allowed.
 *
 * The encoder writes `Content-Length` (and `Content-Type` when configured).
 * `frame()` returns one array for bodies up to 64 KiB and `[header, body]`
 * (no copy) for larger ones; the encoder then emits the body as it was
 * written, so it must not be changed afterwards.
 *
 * Errors: the decoder errors with a `DecodeError` for a header block without
 * a `Content-Length`, with two that disagree, with one that is not a decimal
 * number, with a line that is not `Name: value`, or longer than
 * `maxHeaderSize`; with a `FrameSizeError` for a `Content-Length` over
 * `maxFrameSize`; and with a `DecodeError` when the stream ends inside a frame.
 *
 * @param options the limits and the `Content-Type` to write
 * @returns the framing, named `"content-length"`
 * @throws {RangeError} when `maxFrameSize` or `maxHeaderSize` is not a
 * positive integer
 * @throws {TypeError} when `contentType` holds other than printable ASCII
 *
 * @example Framing and decoding an LSP message
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentLength } from "./content_length.ts";
 *
 * const framing = contentLength();
 * const text = new TextEncoder();
 * assert.deepEqual(framing.frame(text.encode("{}")), text.encode("Content-Length: 2\r\n\r\n{}"));
 *
 * const bytes = ReadableStream.from([
 *   text.encode("content-length: 2\r\nContent-Type: application/vscode-jsonrpc\r\n"),
 *   text.encode("\r\n[]"),
 * ]);
 * const frames = await Array.fromAsync(bytes.pipeThrough(framing.decoder()));
 * assert.deepEqual(frames, [text.encode("[]")]);
 * ```
 */
export function contentLength(options: ContentLengthOptions = {}): Framing {
  const maxFrameSize = resolveMaxFrameSize(options.maxFrameSize);
  const maxHeaderSize = positiveInteger("maxHeaderSize", options.maxHeaderSize, 8192);
  const contentType = options.contentType;
  if (contentType !== undefined && !PRINTABLE.test(contentType)) {
    throw new TypeError(
      `Option contentType must be printable ASCII, got ${JSON.stringify(contentType)}`,
    );
  }
  const extra = contentType === undefined ? "" : `Content-Type: ${contentType}\r\n`;

  const frame = (payload: Uint8Array): Uint8Array | readonly Uint8Array[] => {
    const header = `Content-Length: ${payload.length}\r\n${extra}\r\n`;
    if (header.length + payload.length > JOIN_LIMIT) return [utf8.encode(header), payload];
    const out = new Uint8Array(header.length + payload.length);
    utf8.encodeInto(header, out);
    out.set(payload, header.length);
    return out;
  };

  const splitter = (): FrameSplitter =>
    prefixedSplitter(NAME, maxFrameSize, new HeaderBlock(maxHeaderSize));

  return {
    name: NAME,
    encoder: () => encoderOf(frame),
    decoder: () => decoderOf(splitter()),
    splitter,
    frame,
  };
}

/** Reads a header block that may arrive over several chunks. */
class HeaderBlock implements HeaderReader {
  readonly #splitter: Splitter;
  length = 0;

  constructor(maxHeaderSize: number) {
    this.#splitter = new Splitter(
      HEADER_END,
      maxHeaderSize,
      (size) =>
        new DecodeError(
          NAME,
          `header block of ${size} bytes or more exceeds the limit of ${maxHeaderSize} bytes`,
        ),
    );
  }

  get pending(): number {
    return this.#splitter.pending;
  }

  read(chunk: Uint8Array, pos: number): number {
    const end = this.#splitter.next(chunk, pos);
    if (end >= 0) this.length = parseHeaderBlock(this.#splitter.segment);
    return end;
  }
}

function parseHeaderBlock(block: Uint8Array): number {
  let length: number | undefined;
  for (const line of latin1.decode(block).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new DecodeError(NAME, `malformed header line ${quote(line)}`);
    if (line.slice(0, colon).trim().toLowerCase() !== "content-length") continue;
    const value = line.slice(colon + 1).trim();
    if (!DIGITS.test(value)) throw new DecodeError(NAME, `invalid Content-Length ${quote(value)}`);
    // Digits beyond 2^53 round, but such a length is over any limit anyway.
    const n = Number(value);
    if (length !== undefined && length !== n) {
      throw new DecodeError(NAME, `conflicting Content-Length headers ${length} and ${n}`);
    }
    length = n;
  }
  if (length === undefined) throw new DecodeError(NAME, "missing Content-Length header");
  return length;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
