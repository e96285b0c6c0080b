/**
 * gRPC's 5-byte prefix put before a message for sending, into a shared
 * slab: one ArrayBuffer per 64 KiB of small messages rather than one per
 * message (each ArrayBuffer costs the garbage collector far more than its
 * bytes: docs/grpc.md, "Benchmark"). A slice is never reused (HTTP/2 holds a
 * written chunk until it is sent); a full slab is left to the collector
 * once its slices are gone. Large messages get a buffer of their own.
 *
 * @module
 */

import { frameMessage, PREFIX_SIZE } from "../../../protocols/grpc/_wire.ts";

/** Bytes per slab. */
const SLAB = 64 * 1024;
/** Framed messages larger than this get a buffer of their own. */
const SMALL = 4 * 1024;

let slab = new Uint8Array(SLAB);
let used = 0;

/**
 * `message` with its prefix (the compressed flag and the length), as a
 * view into a shared slab when it is small. The view is the caller's to
 * send; its buffer is shared: do not transfer it.
 *
 * @param message the message's bytes (already compressed when `compressed`)
 * @param compressed sets the prefix's flag
 * @returns the framed message
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { framed } from "./_frame.ts";
 *
 * assert.deepEqual([...framed(new Uint8Array([8, 3]), false)], [0, 0, 0, 0, 2, 8, 3]);
 * assert.deepEqual([...framed(new Uint8Array([1]), true)], [1, 0, 0, 0, 1, 1]);
 * ```
 */
export function framed(message: Uint8Array, compressed: boolean): Uint8Array {
  const size = PREFIX_SIZE + message.length;
  if (size > SMALL) return frameMessage(message, compressed);
  if (used + size > SLAB) {
    slab = new Uint8Array(SLAB);
    used = 0;
  }
  const out = slab.subarray(used, used + size);
  used += size;
  const length = message.length;
  out[0] = compressed ? 1 : 0;
  out[1] = length >>> 24;
  out[2] = (length >>> 16) & 0xff;
  out[3] = (length >>> 8) & 0xff;
  out[4] = length & 0xff;
  out.set(message, PREFIX_SIZE);
  return out;
}
