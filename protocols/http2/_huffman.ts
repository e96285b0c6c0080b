/**
 * HPACK's Huffman coding (RFC 7541 §5.2, Appendix B). Decoding walks a
 * table built once from the code: a state per inner node of the code tree
 * (256 of them) and 16 transitions per state, one per 4-bit nibble, so a
 * byte costs two table reads and no per-bit loop. A nibble completes at
 * most one symbol (the shortest code has 5 bits). Decoding fails on the EOS
 * symbol, on padding longer than 7 bits, and on padding that is not the
 * most significant bits of EOS (all ones), as §5.2 requires.
 *
 * @module
 */

import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./_huffman_table.ts";

const EOS = 256;
/** `EMIT[state * 16 + nibble]`: the symbol completed, -1 for none, -2 for EOS (an error). */
const EMIT = new Int16Array(256 * 16);
/** `NEXT[state * 16 + nibble]`: the state after the nibble. */
const NEXT = new Uint8Array(256 * 16);
/** Whether a string may end in this state: the root, or up to 7 bits of ones. */
const ACCEPTS = new Uint8Array(256);

// The code tree: inner nodes 0..255 (0 the root); a child below 0 is the leaf ~symbol.
const children = new Int32Array(256 * 2).fill(0x7fffffff);
{
  let nodes = 1;
  const depth = new Uint8Array(256);
  const ones = new Uint8Array(256).fill(0);
  ones[0] = 1;
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const code = HUFFMAN_CODES[symbol]!;
    const length = HUFFMAN_LENGTHS[symbol]!;
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const b = (code >>> bit) & 1;
      const slot = node * 2 + b;
      if (bit === 0) {
        children[slot] = ~symbol;
      } else {
        if (children[slot] === 0x7fffffff) {
          depth[nodes] = depth[node]! + 1;
          ones[nodes] = ones[node]! & b;
          children[slot] = nodes++;
        }
        node = children[slot]!;
      }
    }
  }
  for (let state = 0; state < 256; state++) {
    ACCEPTS[state] = state === 0 || (ones[state] === 1 && depth[state]! <= 7) ? 1 : 0;
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let emit = -1;
      for (let bit = 3; bit >= 0; bit--) {
        const child = children[node * 2 + ((nibble >>> bit) & 1)]!;
        if (child < 0) {
          const symbol = ~child;
          emit = symbol === EOS ? -2 : symbol;
          node = 0;
          if (emit === -2) break;
        } else {
          node = child;
        }
      }
      EMIT[state * 16 + nibble] = emit;
      NEXT[state * 16 + nibble] = node;
    }
  }
}

/** Why a Huffman string cannot be decoded. */
export class HuffmanError extends SyntaxError {
  override readonly name = "HuffmanError";
}

let scratch = new Uint8Array(256);

/**
 * Decodes a Huffman-coded string into its octets, as a Latin-1 string (one
 * character per octet, so every byte value survives).
 *
 * @param bytes the buffer holding the code
 * @param start where the code starts
 * @param end where it ends
 * @returns the decoded string
 * @throws {HuffmanError} for EOS, or padding that is too long or not ones
 *
 * @example "www.example.com" from RFC 7541 C.4.1
 * ```ts
 * import assert from "node:assert/strict";
 * import { huffmanDecode } from "./_huffman.ts";
 *
 * const code = new Uint8Array([0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff]);
 * assert.equal(huffmanDecode(code, 0, code.length), "www.example.com");
 * ```
 */
export function huffmanDecode(bytes: Uint8Array, start: number, end: number): string {
  // The longest output: 8 bits per input byte, at least 5 bits per symbol.
  const most = Math.ceil(((end - start) * 8) / 5);
  if (scratch.length < most) scratch = new Uint8Array(Math.max(most, scratch.length * 2));
  const out = scratch;
  let length = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    let at = state * 16 + (byte >>> 4);
    let emit = EMIT[at]!;
    if (emit >= 0) out[length++] = emit;
    else if (emit === -2) throw new HuffmanError("Huffman string holds EOS");
    state = NEXT[at]!;
    at = state * 16 + (byte & 0xf);
    emit = EMIT[at]!;
    if (emit >= 0) out[length++] = emit;
    else if (emit === -2) throw new HuffmanError("Huffman string holds EOS");
    state = NEXT[at]!;
  }
  if (ACCEPTS[state] !== 1) throw new HuffmanError("Huffman string has invalid padding");
  return latin1(out, 0, length);
}

/**
 * The length in bytes of a string's Huffman code.
 *
 * @param text a Latin-1 string (one octet per character)
 * @returns its encoded length
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { huffmanLength } from "./_huffman.ts";
 *
 * assert.equal(huffmanLength("www.example.com"), 12);
 * ```
 */
export function huffmanLength(text: string): number {
  let bits = 0;
  for (let i = 0; i < text.length; i++) bits += HUFFMAN_LENGTHS[text.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/**
 * Writes a string's Huffman code into `out` at `at`, padded with ones.
 *
 * @param text a Latin-1 string
 * @param out the buffer, with room for `huffmanLength(text)` bytes
 * @param at where to write
 * @returns where the code ends
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { huffmanDecode, huffmanEncode, huffmanLength } from "./_huffman.ts";
 *
 * const out = new Uint8Array(huffmanLength("no-cache"));
 * const end = huffmanEncode("no-cache", out, 0);
 * assert.deepEqual([...out], [0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf]);
 * assert.equal(huffmanDecode(out, 0, end), "no-cache");
 * ```
 */
export function huffmanEncode(text: string, out: Uint8Array, at: number): number {
  // Up to 7 bits wait in `pending`; a code of more than 24 bits goes in two
  // pieces, so that `pending` stays within 31 bits.
  let pending = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const symbol = text.charCodeAt(i) & 0xff;
    let length = HUFFMAN_LENGTHS[symbol]!;
    let code = HUFFMAN_CODES[symbol]!;
    if (length > 24) {
      pending = (pending << (length - 16)) | (code >>> 16);
      bits += length - 16;
      while (bits >= 8) out[at++] = pending >>> (bits -= 8);
      pending &= (1 << bits) - 1;
      code &= 0xffff;
      length = 16;
    }
    pending = (pending << length) | code;
    bits += length;
    while (bits >= 8) out[at++] = pending >>> (bits -= 8);
    pending &= (1 << bits) - 1;
  }
  if (bits > 0) out[at++] = (pending << (8 - bits)) | (0xff >>> bits);
  return at;
}

/**
 * Octets as a Latin-1 string, one character each.
 *
 * @param bytes the buffer
 * @param start the first octet
 * @param end past the last
 * @returns the string
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { latin1 } from "./_huffman.ts";
 *
 * assert.equal(latin1(new Uint8Array([0x61, 0xe9, 0x62]), 0, 3), "a\u00e9b");
 * ```
 */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 16) {
    let text = "";
    for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
    return text;
  }
  let text = "";
  for (let i = start; i < end; i += 4096) {
    text += String.fromCharCode.apply(
      null,
      bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[],
    );
  }
  return text;
}
