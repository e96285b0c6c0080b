/**
 * HPACK (RFC 7541), header compression for HTTP/2: an encoder and a
 * decoder over `Uint8Array`s, with the static table, the dynamic table and
 * its size updates, prefixed integers, string literals and Huffman coding.
 *
 * parley has its own rather than an npm package: the two on npm (`hpack.js`,
 * `hpack`) are built on Node's `Buffer` (and `readable-stream`), decode
 * Huffman bit by bit, and accept what the RFC says to refuse (an index past
 * the tables, EOS or bad padding in a Huffman string, a table size update
 * above the limit or after the first field); docs/http2.md has the
 * measurements.
 *
 * Fields are Latin-1 strings (one character per octet, so any byte value
 * survives a round trip), lower-case names. Headers travel as a flat array,
 * `[name, value, name, value, …]`: no object per field.
 *
 * @example A round trip; the second block is a few indexed bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { HpackDecoder, HpackEncoder } from "./hpack.ts";
 *
 * const encoder = new HpackEncoder();
 * const decoder = new HpackDecoder();
 * const fields = [":status", "200", "content-type", "application/grpc", "grpc-status", "0"];
 * assert.deepEqual(decoder.decode(encoder.encode(fields).slice()), fields);
 * const again = encoder.encode(fields).slice();
 * assert.deepEqual([...again], [0x88, 0xbf, 0xbe]); // three indexed fields
 * assert.deepEqual(decoder.decode(again), fields);
 * ```
 *
 * @module
 */

import { huffmanDecode, HuffmanError, latin1 } from "./_huffman.ts";
import { DEFAULT_TABLE_SIZE, DynamicTable, STATIC_LENGTH } from "./_hpack_table.ts";
import { STATIC_TABLE } from "./_hpack_static.ts";

export { DEFAULT_TABLE_SIZE } from "./_hpack_table.ts";
export { HpackEncoder } from "./_hpack_encoder.ts";
export type { HpackEncoderOptions, HpackIndexing } from "./_hpack_encoder.ts";

/**
 * A header block that cannot be decoded: HTTP/2's COMPRESSION_ERROR, a
 * connection error (the decoder's state is lost).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HpackDecoder, HpackError } from "./hpack.ts";
 *
 * assert.throws(() => new HpackDecoder().decode(new Uint8Array([0x80])), HpackError);
 * ```
 */
export class HpackError extends SyntaxError {
  override readonly name = "HpackError";
}

/** Options of {@linkcode HpackDecoder}. */
export interface HpackDecoderOptions {
  /** The most the peer may set its dynamic table to (our SETTINGS_HEADER_TABLE_SIZE); 4096. */
  readonly maxTableSize?: number;
  /**
   * The largest header list kept (HTTP/2's SETTINGS_MAX_HEADER_LIST_SIZE:
   * names, values and 32 per field); past it the block is still decoded, to
   * keep the table in step, and {@linkcode HpackDecoder.exceeded} says so.
   * Unbounded by default.
   */
  readonly maxHeaderListSize?: number;
}

/**
 * Decodes header blocks, keeping the dynamic table across them: one
 * decoder per connection and direction, fed every block in order.
 *
 * @example RFC 7541 C.3.1: a request without Huffman coding
 * ```ts
 * import assert from "node:assert/strict";
 * import { HpackDecoder } from "./hpack.ts";
 *
 * const block = new Uint8Array([
 *   0x82, 0x86, 0x84, 0x41, 0x0f, ...new TextEncoder().encode("www.example.com"),
 * ]);
 * const decoder = new HpackDecoder();
 * assert.deepEqual(decoder.decode(block), [
 *   ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com",
 * ]);
 * assert.equal(decoder.tableSize, 57);
 * ```
 */
export class HpackDecoder {
  readonly #table: DynamicTable;
  readonly #limit: number;
  readonly #maxListSize: number;
  #exceeded = false;

  /**
   * A decoder with an empty table.
   *
   * @param options the table's size limit, the header list's
   */
  constructor(options: HpackDecoderOptions = {}) {
    this.#limit = options.maxTableSize ?? DEFAULT_TABLE_SIZE;
    this.#maxListSize = options.maxHeaderListSize ?? Infinity;
    this.#table = new DynamicTable(this.#limit);
  }

  /** The dynamic table's size now, in HPACK's units. */
  get tableSize(): number {
    return this.#table.size;
  }

  /** Whether the last block decoded was over `maxHeaderListSize` (its fields then are cut short). */
  get exceeded(): boolean {
    return this.#exceeded;
  }

  /**
   * Decodes one whole header block (HEADERS and its CONTINUATIONs joined).
   *
   * @param block the block's bytes
   * @param start where it starts in `block`
   * @param end where it ends
   * @returns the fields, `[name, value, …]`
   * @throws {HpackError} for anything RFC 7541 calls an error
   */
  decode(block: Uint8Array, start = 0, end: number = block.length): string[] {
    const fields: string[] = [];
    const table = this.#table;
    let listSize = 0;
    this.#exceeded = false;
    let at = start;
    let first = true;
    while (at < end) {
      const byte = block[at]!;
      let name: string;
      let value: string;
      if (byte & 0x80) {
        // Indexed field (§6.1).
        const index = this.#integer(block, at, end, 7);
        at = this.#at;
        if (index === 0) throw new HpackError("HPACK index 0");
        name = this.#name(index);
        value = index <= STATIC_LENGTH
          ? STATIC_TABLE[index - 1]![1]
          : table.value(index - STATIC_LENGTH);
      } else if ((byte & 0xe0) === 0x20) {
        // Dynamic table size update (§6.3): only before the first field.
        if (!first) throw new HpackError("HPACK table size update after a field");
        const size = this.#integer(block, at, end, 5);
        at = this.#at;
        if (size > this.#limit) {
          throw new HpackError(`HPACK table size update to ${size}, over ${this.#limit}`);
        }
        table.resize(size);
        continue;
      } else {
        // A literal (§6.2): with incremental indexing (01), without (0000),
        // never indexed (0001).
        const indexing = (byte & 0xc0) === 0x40;
        const index = this.#integer(block, at, end, indexing ? 6 : 4);
        at = this.#at;
        if (index === 0) {
          name = this.#string(block, at, end);
          at = this.#at;
        } else {
          name = this.#name(index);
        }
        value = this.#string(block, at, end);
        at = this.#at;
        if (indexing) table.insert(name, value);
      }
      first = false;
      listSize += name.length + value.length + 32;
      if (listSize > this.#maxListSize) this.#exceeded = true;
      else fields.push(name, value);
    }
    return fields;
  }

  /** Where the last integer or string ended. */
  #at = 0;

  #name(index: number): string {
    if (index <= STATIC_LENGTH) return STATIC_TABLE[index - 1]![0];
    if (index - STATIC_LENGTH > this.#table.length) {
      throw new HpackError(`HPACK index ${index} is past the tables`);
    }
    return this.#table.name(index - STATIC_LENGTH);
  }

  // A prefixed integer (§5.1), at most 2^31 - 1; sets #at past it.
  #integer(block: Uint8Array, at: number, end: number, prefix: number): number {
    const mask = (1 << prefix) - 1;
    let value = block[at++]! & mask;
    if (value === mask) {
      let shift = 0;
      for (;;) {
        if (at >= end) throw new HpackError("HPACK integer cut short");
        const byte = block[at++]!;
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
        if ((byte & 0x80) === 0) break;
        if (shift > 28) throw new HpackError("HPACK integer too long");
      }
      if (value > 0x7fffffff) throw new HpackError("HPACK integer too large");
    }
    this.#at = at;
    return value;
  }

  // A string literal (§5.2); sets #at past it.
  #string(block: Uint8Array, at: number, end: number): string {
    if (at >= end) throw new HpackError("HPACK string missing");
    const huffman = (block[at]! & 0x80) !== 0;
    const length = this.#integer(block, at, end, 7);
    at = this.#at;
    if (length > end - at) throw new HpackError("HPACK string cut short");
    this.#at = at + length;
    if (!huffman) return latin1(block, at, at + length);
    try {
      return huffmanDecode(block, at, at + length);
    } catch (error) {
      if (error instanceof HuffmanError) throw new HpackError(error.message);
      throw error;
    }
  }
}
