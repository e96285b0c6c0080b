/**
 * Helpers for framing tests: cut bytes into chunks, frame payloads and decode
 * chunks through a framing's streams.
 *
 * @example Frame two payloads and decode them one byte at a time
 * ```ts
 * import assert from "node:assert/strict";
 * import { concat, decodeAll, frameBytes, rechunk } from "./framing_helpers.ts";
 * import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
 *
 * const framing = lengthPrefix();
 * const payloads = [new Uint8Array([1, 2]), new Uint8Array([3])];
 * const bytes = concat(payloads.map((p) => frameBytes(framing, p)));
 * const frames = await decodeAll(framing, rechunk(bytes, "bytes"));
 * assert.deepEqual(frames, payloads);
 * ```
 *
 * @module
 */

import type { Framing } from "../rpc/types.ts";

/** How the suite cuts a byte stream into chunks. */
export type Chunking = "bytes" | "whole" | readonly number[];

/**
 * Joins byte arrays.
 *
 * @param parts the arrays
 * @returns their concatenation
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concat } from "./framing_helpers.ts";
 *
 * const joined = concat([new Uint8Array([1, 2]), new Uint8Array(), new Uint8Array([3])]);
 * assert.deepEqual(joined, new Uint8Array([1, 2, 3]));
 * ```
 */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Cuts bytes into chunks.
 *
 * @param bytes the stream's bytes
 * @param chunking one byte per chunk, one chunk, or chunk sizes used in turn
 * @returns the chunks
 *
 * @example Chunk sizes used in turn; the last chunk holds what is left
 * ```ts
 * import assert from "node:assert/strict";
 * import { rechunk } from "./framing_helpers.ts";
 *
 * const bytes = new Uint8Array([1, 2, 3, 4, 5, 6]);
 * assert.deepEqual(rechunk(bytes, [1, 3]), [
 *   new Uint8Array([1]),
 *   new Uint8Array([2, 3, 4]),
 *   new Uint8Array([5]),
 *   new Uint8Array([6]),
 * ]);
 * assert.equal(rechunk(bytes, "bytes").length, 6);
 * assert.deepEqual(rechunk(bytes, "whole"), [bytes]);
 * ```
 */
export function rechunk(bytes: Uint8Array, chunking: Chunking): Uint8Array[] {
  if (chunking === "whole") return [bytes];
  const sizes = chunking === "bytes" ? [1] : chunking;
  const chunks: Uint8Array[] = [];
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(bytes.slice(pos, pos + size));
    pos += size;
  }
  return chunks;
}

/**
 * Frames payloads with the framing's encoder stream.
 *
 * @param framing the framing
 * @param payloads the payloads
 * @returns the bytes the encoder produced
 *
 * @example The encoder stream frames as `frame()` does
 * ```ts
 * import assert from "node:assert/strict";
 * import { concat, encodeAll, frameBytes } from "./framing_helpers.ts";
 * import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
 *
 * const framing = lengthPrefix();
 * const payloads = [new Uint8Array([1, 2]), new Uint8Array([3])];
 * const encoded = await encodeAll(framing, payloads);
 * assert.deepEqual(encoded, concat(payloads.map((p) => frameBytes(framing, p))));
 * ```
 */
export async function encodeAll(
  framing: Framing,
  payloads: readonly Uint8Array[],
): Promise<Uint8Array> {
  const stream = ReadableStream.from(payloads).pipeThrough(framing.encoder());
  return concat(await Array.fromAsync(stream));
}

/**
 * Frames a payload with `frame()`.
 *
 * @param framing the framing
 * @param payload the payload
 * @returns the framed bytes as one array
 *
 * @example A length prefix: four bytes of length, then the payload
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameBytes } from "./framing_helpers.ts";
 * import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
 *
 * const framed = frameBytes(lengthPrefix(), new Uint8Array([7, 8]));
 * assert.deepEqual(framed, new Uint8Array([0, 0, 0, 2, 7, 8]));
 * ```
 */
export function frameBytes(framing: Framing, payload: Uint8Array): Uint8Array {
  const framed = framing.frame(payload);
  return framed instanceof Uint8Array ? framed : concat(framed);
}

/**
 * Decodes chunks with the framing's decoder, the stream then closing.
 *
 * @param framing the framing
 * @param chunks the chunks
 * @returns the frames
 *
 * @example Frames cut anywhere decode whole
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeAll, rechunk } from "./framing_helpers.ts";
 * import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
 *
 * const bytes = new Uint8Array([0, 0, 0, 2, 7, 8, 0, 0, 0, 1, 9]);
 * const frames = await decodeAll(lengthPrefix(), rechunk(bytes, [3]));
 * assert.deepEqual(frames, [new Uint8Array([7, 8]), new Uint8Array([9])]);
 * ```
 */
export function decodeAll(
  framing: Framing,
  chunks: readonly Uint8Array[],
): Promise<Uint8Array[]> {
  return Array.fromAsync(ReadableStream.from(chunks).pipeThrough(framing.decoder()));
}

/**
 * Writes chunks to a fresh decoder without closing it and returns its first
 * read: shows what the decoder does before the stream ends.
 *
 * @param framing the framing
 * @param chunks the chunks
 * @returns the first read's result
 *
 * @example A frame is read before the stream ends
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstRead } from "./framing_helpers.ts";
 * import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
 *
 * const read = await firstRead(lengthPrefix(), [new Uint8Array([0, 0, 0, 1, 9, 0])]);
 * assert.deepEqual(read, { done: false, value: new Uint8Array([9]) });
 * ```
 */
export async function firstRead(
  framing: Framing,
  chunks: readonly Uint8Array[],
): Promise<ReadableStreamReadResult<Uint8Array>> {
  const decoder = framing.decoder();
  const reader = decoder.readable.getReader();
  const read = reader.read();
  const writer = decoder.writable.getWriter();
  for (const chunk of chunks) writer.write(chunk).catch(() => {});
  try {
    return await read;
  } finally {
    reader.releaseLock();
    writer.releaseLock();
  }
}
