/**
 * A DATA frame's payload, copied out of the read buffer it arrived in.
 *
 * @module
 */

// Small chunks are copied into a shared slab rather than each into an
// ArrayBuffer of its own (an allocation that cost more than the rest of a
// small DATA frame's handling); a chunk held keeps at most its slab alive.
const SLAB = 65_536;
const SMALL = 4096;
let slab = new Uint8Array(SLAB);
let slabUsed = 0;

export function copyToSlab(payload: Uint8Array, start: number, end: number): Uint8Array {
  const length = end - start;
  if (length > SMALL) return payload.slice(start, end);
  if (slabUsed + length > SLAB) {
    slab = new Uint8Array(SLAB);
    slabUsed = 0;
  }
  const chunk = slab.subarray(slabUsed, slabUsed + length);
  chunk.set(payload.subarray(start, end));
  slabUsed += length;
  return chunk;
}
