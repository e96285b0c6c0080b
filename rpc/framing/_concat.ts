// Byte chunks joined into one array: the step every reader that gathers a
// frame, a body or a write out of pieces ends with. Web-standard; used
// across rpc/, protocols/ and transports (the framing layer is below them all).

/**
 * `chunks` as one array; the one chunk itself when there is only one.
 *
 * @param chunks the pieces, in order
 * @param size their total length, when the caller has counted it
 * @returns the joined bytes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concatBytes } from "./_concat.ts";
 *
 * assert.deepEqual(concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]), new Uint8Array([1, 2, 3]));
 * ```
 */
export function concatBytes(
  chunks: readonly Uint8Array[],
  size: number = chunks.reduce((sum, chunk) => sum + chunk.length, 0),
): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
