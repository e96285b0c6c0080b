// Whether the bytes of a msgpack str are well-formed UTF-8, exactly as a
// fatal TextDecoder (and msgpackr, which writes U+FFFD for anything else)
// sees them: no overlong forms, no surrogates, nothing beyond U+10FFFF, no
// cut-off sequences. Only strings up to a few KiB are checked this way;
// longer ones are decoded natively and checked for U+FFFD instead (see
// _slots.ts). ASCII, by far the most common, is checked four bytes at a
// time through an Int32Array over the frame: one byte at a time costs
// about 0.7 ns a byte, which would double what msgpackr takes to decode.

// The last buffer's words: transports read into one reused buffer, and
// msgpackr encodes into one, so most frames share it, and a view costs more
// (some 40 ns in Deno) than checking a short string. Buffers over KEEP are
// viewed but not kept, so that one large buffer is not held.
let lastBuffer: ArrayBufferLike | undefined;
let lastWords: Int32Array = new Int32Array(0);
const KEEP = 1 << 20;

/**
 * The 32-bit words of the buffer under `buf`, from its first byte, for
 * {@linkcode isUtf8}.
 *
 * @param buf the frame
 * @returns a view of its whole buffer, in words
 */
export function wordsOf(buf: Uint8Array): Int32Array {
  const buffer = buf.buffer;
  if (buffer !== lastBuffer || lastWords.length < (buf.byteOffset + buf.length) >>> 2) {
    const words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    if (buffer.byteLength > KEEP) return words;
    lastBuffer = buffer;
    lastWords = words;
  }
  return lastWords;
}

/** Strings at least this long are checked in words. */
export const WORDS_FROM = 16;

/**
 * Whether `buf[start..end)` is well-formed UTF-8.
 *
 * @param buf the bytes
 * @param start where the string starts
 * @param end where it ends (exclusive)
 * @param words `buf`'s buffer in words ({@linkcode wordsOf}), for strings of
 *   {@linkcode WORDS_FROM} bytes or more
 * @returns `true` when a fatal UTF-8 decoder would accept it
 */
export function isUtf8(buf: Uint8Array, start: number, end: number, words?: Int32Array): boolean {
  let i = start;
  if (words !== undefined && end - start >= WORDS_FROM) {
    // The unaligned head, then whole words; a word with a high bit stops
    // the fast path at its first byte, and the checks below take over.
    const offset = buf.byteOffset;
    const first = start + (-(offset + start) & 3);
    while (i < first && buf[i]! < 0x80) i++;
    if (i === first) {
      let k = (offset + first) >>> 2;
      const to = (offset + end) >>> 2;
      while (k < to && (words[k]! & 0x80808080) === 0) k++;
      i = 4 * k - offset;
    }
  }
  while (i < end && buf[i]! < 0x80) i++;
  while (i < end) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
    } else if (b < 0xc2) {
      return false; // a continuation byte, or the start of an overlong 2-byte form
    } else if (b < 0xe0) {
      if (i + 1 >= end || !isContinuation(buf[i + 1]!)) return false;
      i += 2;
    } else if (b < 0xf0) {
      if (i + 2 >= end) return false;
      const b1 = buf[i + 1]!;
      // E0 must not be overlong (A0..BF next), ED must not be a surrogate (80..9F next).
      if (!isContinuation(b1) || (b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f)) {
        return false;
      }
      if (!isContinuation(buf[i + 2]!)) return false;
      i += 3;
    } else {
      if (b > 0xf4 || i + 3 >= end) return false;
      const b1 = buf[i + 1]!;
      // F0 must not be overlong (90..BF next), F4 must stay within U+10FFFF (80..8F next).
      if (!isContinuation(b1) || (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)) {
        return false;
      }
      if (!isContinuation(buf[i + 2]!) || !isContinuation(buf[i + 3]!)) return false;
      i += 4;
    }
  }
  return true;
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}
