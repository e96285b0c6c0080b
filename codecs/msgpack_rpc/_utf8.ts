// Whether the bytes of a msgpack str are well-formed UTF-8, exactly as a
// fatal TextDecoder (and msgpackr, which writes U+FFFD for anything else)
// sees them: no overlong forms, no surrogates, nothing beyond U+10FFFF, no
// cut-off sequences. Only strings up to a few KiB are checked this way;
// longer ones are decoded natively and checked for U+FFFD instead (see
// _slots.ts). ASCII, by far the most common, is checked four bytes at a
// time through an Int32Array over the frame: one byte at a time costs
// about 0.7 ns a byte, which would double what msgpackr takes to decode.

/** The frame's bytes as 32-bit words, from its first 4-byte-aligned byte. */
export interface Words {
  readonly words: Int32Array;
  /** The frame index of the first word's first byte. */
  readonly base: number;
}

/**
 * A view of `buf` in words, for {@linkcode isUtf8}.
 *
 * @param buf the frame
 * @returns its aligned words
 */
export function wordsOf(buf: Uint8Array): Words {
  const base = (4 - (buf.byteOffset & 3)) & 3;
  const count = Math.max(0, buf.length - base) >>> 2;
  return { words: new Int32Array(buf.buffer, buf.byteOffset + base, count), base };
}

/** Strings at least this long are checked in words. */
export const WORDS_FROM = 16;

/**
 * Whether `buf[start..end)` is well-formed UTF-8.
 *
 * @param buf the bytes
 * @param start where the string starts
 * @param end where it ends (exclusive)
 * @param view `buf` in words, for strings of {@linkcode WORDS_FROM} bytes or more
 * @returns `true` when a fatal UTF-8 decoder would accept it
 */
export function isUtf8(buf: Uint8Array, start: number, end: number, view?: Words): boolean {
  let i = start;
  if (view !== undefined && end - start >= WORDS_FROM) {
    // The unaligned head, then whole words; a word with a high bit stops
    // the fast path at its first byte, and the checks below take over.
    const first = start + ((view.base - start) & 3);
    while (i < first && buf[i]! < 0x80) i++;
    if (i === first) {
      const { words, base } = view;
      const from = (first - base) >>> 2;
      const to = (end - base) >>> 2;
      let k = from;
      while (k < to && (words[k]! & 0x80808080) === 0) k++;
      i = base + 4 * k;
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
