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

import { huffmanDecode, huffmanEncode, HuffmanError, huffmanLength, latin1 } from "./_huffman.ts";
import { DynamicTable } from "./_hpack_table.ts";
import { STATIC_TABLE, staticNameIndex, staticPairIndex } from "./_hpack_static.ts";

const STATIC_LENGTH = 61;
/** HPACK's default table size, and the one parley advertises. */
export const DEFAULT_TABLE_SIZE = 4096;

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

/** How a literal field is sent (RFC 7541 §6.2). */
export type HpackIndexing = "incremental" | "without" | "never";

/** Options of {@linkcode HpackEncoder}. */
export interface HpackEncoderOptions {
  /**
   * The most this encoder's dynamic table will hold, however much the peer
   * allows; 4096.
   */
  readonly maxTableSize?: number;
  /** When strings are Huffman-coded: `"shorter"` (the default) when that saves bytes. */
  readonly huffman?: "shorter" | "always" | "never";
  /**
   * How a field that is in no table is sent; by default credentials are
   * never indexed, values that change with every message (`grpc-timeout`,
   * `content-length`, …) and fields over half the table are sent without
   * indexing, and the rest are inserted.
   */
  readonly indexing?: (name: string, value: string) => HpackIndexing;
}

// Sent as literals never indexed (§7.1.3): intermediaries must not index them either.
const SENSITIVE = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);
// Values that change on nearly every message: indexing them would only churn the table.
const UNINDEXED = new Set([
  "grpc-timeout",
  "content-length",
  "date",
  "etag",
  "last-modified",
  "if-modified-since",
  "grpc-message",
  "grpc-status-details-bin",
]);

/**
 * Encodes header blocks, keeping the dynamic table across them: one
 * encoder per connection and direction. Fields found in a table are sent
 * as their index; others are inserted (so the next block sends their
 * index), except values that change with every message (`grpc-timeout`,
 * `content-length`, …: literals without indexing) and credentials
 * (`authorization`, `cookie`: never indexed). Strings are Huffman-coded
 * when that is shorter.
 *
 * @example RFC 7541 C.4.1: a request with Huffman coding
 * ```ts
 * import assert from "node:assert/strict";
 * import { HpackEncoder } from "./hpack.ts";
 *
 * const encoder = new HpackEncoder();
 * const block = encoder.encode([
 *   ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com",
 * ]);
 * assert.equal(
 *   [...block].map((b) => b.toString(16).padStart(2, "0")).join(""),
 *   "828684418cf1e3c2e5f23a6ba0ab90f4ff",
 * );
 * ```
 */
export class HpackEncoder {
  readonly #table: DynamicTable;
  readonly #cap: number;
  /** `name` → `value` → insertion number; `name` → the latest insertion number. */
  readonly #pairs = new Map<string, Map<string, number>>();
  readonly #names = new Map<string, number>();
  #remembered = 0;
  readonly #huffman: "shorter" | "always" | "never";
  readonly #indexing: (name: string, value: string) => HpackIndexing;
  #out = new Uint8Array(1024);
  #at = 0;
  /** Size updates owed at the start of the next block: the smallest, then the last. */
  #smallest = -1;
  #pending = -1;

  /**
   * An encoder with an empty table.
   *
   * @param options its table's size limit
   */
  constructor(options: HpackEncoderOptions = {}) {
    this.#cap = options.maxTableSize ?? DEFAULT_TABLE_SIZE;
    this.#table = new DynamicTable(Math.min(this.#cap, DEFAULT_TABLE_SIZE));
    this.#huffman = options.huffman ?? "shorter";
    this.#indexing = options.indexing ??
      ((name, value) =>
        SENSITIVE.has(name)
          ? "never"
          : UNINDEXED.has(name) || name.length + value.length + 32 > this.#table.max / 2
          ? "without"
          : "incremental");
  }

  /**
   * Takes the peer's SETTINGS_HEADER_TABLE_SIZE: the table shrinks (or may
   * grow, up to this encoder's own limit), and the next block starts with
   * the size update that tells the peer.
   *
   * @param size the peer's limit
   */
  setPeerLimit(size: number): void {
    const max = Math.min(size, this.#cap);
    if (max === this.#table.max && this.#pending === -1) return;
    this.#smallest = this.#smallest === -1 ? max : Math.min(this.#smallest, max);
    this.#pending = max;
    this.#table.resize(max);
  }

  /**
   * Encodes one header block.
   *
   * @param fields `[name, value, …]`, names in lower case
   * @returns the block: a view of the encoder's buffer, valid until the next call
   */
  encode(fields: readonly string[]): Uint8Array {
    this.#at = 0;
    if (this.#pending !== -1) {
      if (this.#smallest < this.#pending) this.#integer(this.#smallest, 5, 0x20);
      this.#integer(this.#pending, 5, 0x20);
      this.#smallest = this.#pending = -1;
    }
    const table = this.#table;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      const exact = staticPairIndex(name, value) ||
        dynamic(table, this.#pairs.get(name)?.get(value));
      if (exact !== 0) {
        this.#integer(exact, 7, 0x80);
        continue;
      }
      const nameIndex = staticNameIndex(name) || dynamic(table, this.#names.get(name));
      const indexing = this.#indexing(name, value);
      if (indexing === "never") {
        this.#literal(nameIndex, name, value, 4, 0x10);
      } else if (indexing === "without") {
        this.#literal(nameIndex, name, value, 4, 0x00);
      } else {
        this.#literal(nameIndex, name, value, 6, 0x40);
        table.insert(name, value);
        let values = this.#pairs.get(name);
        if (values === undefined) this.#pairs.set(name, values = new Map());
        values.set(value, table.inserted);
        this.#names.set(name, table.inserted);
        if (++this.#remembered > 4 * (table.length + 16)) this.#forget();
      }
    }
    return this.#out.subarray(0, this.#at);
  }

  // Drops remembered insertions that the table has evicted.
  #forget(): void {
    this.#remembered = 0;
    for (const [name, values] of this.#pairs) {
      for (const [value, number] of values) {
        if (this.#table.indexOf(number) === 0) values.delete(value);
        else this.#remembered++;
      }
      if (values.size === 0) this.#pairs.delete(name);
    }
    for (const [key, number] of this.#names) {
      if (this.#table.indexOf(number) === 0) this.#names.delete(key);
    }
  }

  #literal(index: number, name: string, value: string, prefix: number, pattern: number): void {
    if (index !== 0) {
      this.#integer(index, prefix, pattern);
    } else {
      this.#room(1);
      this.#out[this.#at++] = pattern;
      this.#string(name);
    }
    this.#string(value);
  }

  #string(text: string): void {
    const coded = this.#huffman === "never" ? Infinity : huffmanLength(text);
    if (coded < text.length || (this.#huffman === "always" && coded !== Infinity)) {
      this.#integer(coded, 7, 0x80);
      this.#room(coded);
      this.#at = huffmanEncode(text, this.#out, this.#at);
    } else {
      this.#integer(text.length, 7, 0);
      this.#room(text.length);
      const out = this.#out;
      let at = this.#at;
      for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
      this.#at = at;
    }
  }

  #integer(value: number, prefix: number, pattern: number): void {
    this.#room(6);
    const out = this.#out;
    const mask = (1 << prefix) - 1;
    if (value < mask) {
      out[this.#at++] = pattern | value;
      return;
    }
    out[this.#at++] = pattern | mask;
    value -= mask;
    while (value >= 128) {
      out[this.#at++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    out[this.#at++] = value;
  }

  #room(bytes: number): void {
    if (this.#at + bytes <= this.#out.length) return;
    const grown = new Uint8Array(Math.max(this.#out.length * 2, this.#at + bytes));
    grown.set(this.#out.subarray(0, this.#at));
    this.#out = grown;
  }
}

// The HPACK index of an insertion, 0 when it is gone.
function dynamic(table: DynamicTable, number: number | undefined): number {
  if (number === undefined) return 0;
  const index = table.indexOf(number);
  return index === 0 ? 0 : index + STATIC_LENGTH;
}
