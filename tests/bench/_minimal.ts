/**
 * The length-prefixed side of the minimal JSON-RPC baseline, shared by its
 * client (`tcp_bench.ts`) and its server (`_server.ts`): 4-byte big-endian
 * lengths, built and split by hand on a bare `Deno.Conn`, with no framework.
 *
 * @module
 */

/**
 * Frames texts behind 4-byte big-endian lengths, in one array, each text
 * encoded in place.
 *
 * @param encoder encodes the texts
 * @param texts the frames' payloads
 * @returns the bytes to write
 */
export function lengthPrefixed(encoder: TextEncoder, texts: readonly string[]): Uint8Array {
  let most = 0;
  for (const text of texts) most += 4 + 3 * text.length;
  const out = new Uint8Array(most);
  let at = 0;
  for (const text of texts) {
    const { written } = encoder.encodeInto(text, out.subarray(at + 4));
    out[at] = written >>> 24;
    out[at + 1] = (written >>> 16) & 0xff;
    out[at + 2] = (written >>> 8) & 0xff;
    out[at + 3] = written & 0xff;
    at += 4 + written;
  }
  return out.subarray(0, at);
}

/**
 * Reads 4-byte length-prefixed frames until the connection ends, handing
 * each to `onFrame` (a view, valid during the call only).
 *
 * @param conn the connection
 * @param buffer the read buffer, reused
 * @param onFrame takes each frame
 * @param onRead called after each read's frames, as where to reply in one write
 */
export async function readLengthPrefixed(
  conn: Deno.Conn,
  buffer: Uint8Array,
  onFrame: (frame: Uint8Array) => void,
  onRead?: () => Promise<void>,
): Promise<void> {
  let held = new Uint8Array(0);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) return;
    let bytes = buffer.subarray(0, n);
    if (held.length > 0) {
      const joined = new Uint8Array(held.length + n);
      joined.set(held);
      joined.set(bytes, held.length);
      bytes = joined;
    }
    let at = 0;
    while (bytes.length - at >= 4) {
      const length = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) |
        bytes[at + 3]!) >>> 0;
      if (bytes.length - at - 4 < length) break;
      onFrame(bytes.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    held = bytes.slice(at);
    await onRead?.();
  }
}
