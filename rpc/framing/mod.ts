/**
 * Framings: how a byte stream is cut into frames and back. Each is a
 * function returning a {@linkcode Framing} whose `encoder()` and `decoder()`
 * are fresh `TransformStream`s for one connection and whose `frame()` frames
 * one payload at once.
 *
 * - {@linkcode lengthPrefix}: a fixed-width length, then the payload.
 * - {@linkcode varint}: a LEB128 varint length, then the payload (protobuf's
 *   delimited format).
 * - {@linkcode delimiter}: the payload, stuffed, then a delimiter;
 *   {@linkcode newline}: NDJSON lines, JSON-RPC's default.
 * - {@linkcode contentLength}: the Language Server Protocol's headers.
 * - {@linkcode selfDelimiting}: messages that a codec's `measure` finds the
 *   end of; {@linkcode jsonValues}: concatenated JSON texts.
 *
 * Every decoder checks its `maxFrameSize` before it keeps a frame's bytes,
 * errors with a `FrameSizeError` when a frame is larger, and with a
 * `DecodeError` for malformed input or a stream that ends inside a frame.
 *
 * @example Newline-delimited JSON
 * ```ts
 * import assert from "node:assert/strict";
 * import { newline } from "./mod.ts";
 *
 * const framing = newline();
 * const text = new TextEncoder();
 * const bytes = ReadableStream.from([text.encode('{"id":1}\n{"id"'), text.encode(":2}\n")]);
 * const frames = await Array.fromAsync(bytes.pipeThrough(framing.decoder()));
 * assert.deepEqual(frames, [text.encode('{"id":1}'), text.encode('{"id":2}')]);
 * ```
 *
 * @module
 */

export type { Frame, Framing } from "../types.ts";
export * from "./content_length.ts";
export * from "./delimiter.ts";
export * from "./length_prefix.ts";
export * from "./self_delimiting.ts";
export * from "./varint.ts";
export { FRAMING_NAMES, framingByName } from "./by_name.ts";
export { framedStream, type FramedStreamOptions } from "../framed.ts";
