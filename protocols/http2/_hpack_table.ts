/**
 * HPACK's dynamic table (RFC 7541 §2.3.2, §4): newest entry first, each
 * costing its name's and value's lengths plus 32, evicted oldest first to
 * stay within the size the peer allows. A ring of arrays: an insertion is
 * two stores, an eviction a move of the tail, and no entry object per
 * field. Entries are numbered by insertion (1, 2, …) so that the encoder
 * can remember where a field went and check that it is still there.
 *
 * @module
 */

/**
 * HPACK's default table size (SETTINGS_HEADER_TABLE_SIZE), and the one
 * parley advertises.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_TABLE_SIZE } from "./_hpack_table.ts";
 *
 * assert.equal(DEFAULT_TABLE_SIZE, 4096);
 * ```
 */
export const DEFAULT_TABLE_SIZE = 4096;

/**
 * Entries in HPACK's static table: dynamic indexes start after them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { STATIC_LENGTH } from "./_hpack_table.ts";
 *
 * assert.equal(STATIC_LENGTH, 61);
 * ```
 */
export const STATIC_LENGTH = 61;

/**
 * The dynamic table of one HPACK context (the encoder's copy or the
 * decoder's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DynamicTable } from "./_hpack_table.ts";
 *
 * const table = new DynamicTable(4096);
 * table.insert("custom-key", "custom-header");
 * assert.equal(table.size, 55);
 * assert.deepEqual([table.name(1), table.value(1)], ["custom-key", "custom-header"]);
 * table.resize(0);
 * assert.equal(table.length, 0);
 * ```
 */
export class DynamicTable {
  #names: string[] = new Array(16);
  #values: string[] = new Array(16);
  #sizes: number[] = new Array(16);
  /** Where the newest entry is; the ring runs backwards from it. */
  #head = 0;
  #length = 0;
  #size = 0;
  #max: number;
  /** Entries inserted, ever: the newest entry's insertion number. */
  #inserted = 0;

  /**
   * An empty table.
   *
   * @param max its size limit in HPACK's units
   */
  constructor(max: number) {
    this.#max = max;
  }

  /** Entries held. */
  get length(): number {
    return this.#length;
  }

  /** The size in HPACK's units (octets of names and values, plus 32 per entry). */
  get size(): number {
    return this.#size;
  }

  /** The size limit. */
  get max(): number {
    return this.#max;
  }

  /** The insertion number of the newest entry (0 before any). */
  get inserted(): number {
    return this.#inserted;
  }

  /**
   * The dynamic index (1 the newest) of the entry inserted as `number`, 0
   * when it has been evicted.
   */
  indexOf(number: number): number {
    const index = this.#inserted - number + 1;
    return number > 0 && index <= this.#length ? index : 0;
  }

  /** The name at dynamic index `index` (1-based, assumed in range). */
  name(index: number): string {
    return this.#names[this.#slot(index)]!;
  }

  /** The value at dynamic index `index` (1-based, assumed in range). */
  value(index: number): string {
    return this.#values[this.#slot(index)]!;
  }

  /**
   * Adds an entry as the newest, evicting what no longer fits; an entry
   * larger than the whole table empties it and is not kept (§4.4).
   */
  insert(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.#inserted++;
    if (size > this.#max) {
      this.#evictTo(0);
      return;
    }
    this.#evictTo(this.#max - size);
    if (this.#length === this.#names.length) this.#grow();
    this.#head = (this.#head + 1) % this.#names.length;
    this.#names[this.#head] = name;
    this.#values[this.#head] = value;
    this.#sizes[this.#head] = size;
    this.#length++;
    this.#size += size;
  }

  /** Sets the size limit, evicting what no longer fits. */
  resize(max: number): void {
    this.#max = max;
    this.#evictTo(max);
  }

  #slot(index: number): number {
    const capacity = this.#names.length;
    return (this.#head - index + 1 + capacity) % capacity;
  }

  #evictTo(limit: number): void {
    while (this.#size > limit && this.#length > 0) {
      const oldest = this.#slot(this.#length);
      this.#size -= this.#sizes[oldest]!;
      this.#names[oldest] = this.#values[oldest] = "";
      this.#length--;
    }
  }

  #grow(): void {
    const capacity = this.#names.length;
    const names: string[] = new Array(capacity * 2);
    const values: string[] = new Array(capacity * 2);
    const sizes: number[] = new Array(capacity * 2);
    // Oldest first, so that the newest ends at slot length - 1.
    for (let i = this.#length; i >= 1; i--) {
      const from = this.#slot(i);
      const to = this.#length - i;
      names[to] = this.#names[from]!;
      values[to] = this.#values[from]!;
      sizes[to] = this.#sizes[from]!;
    }
    this.#names = names;
    this.#values = values;
    this.#sizes = sizes;
    this.#head = this.#length - 1;
  }
}
