/**
 * HPACK's encoder (RFC 7541 §6, §7.1): what goes in the dynamic table,
 * what is sent as an index, what as a literal, and Huffman coding when it
 * is shorter. Exported by hpack.ts.
 *
 * @module
 */

import { huffmanEncode, huffmanLength } from "./_huffman.ts";
import { DEFAULT_TABLE_SIZE, DynamicTable, STATIC_LENGTH } from "./_hpack_table.ts";
import { staticNameIndex, staticPairIndex } from "./_hpack_static.ts";

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
