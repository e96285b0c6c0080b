/**
 * Many length-prefixed gRPC messages in one buffer, so that a stream of
 * small messages costs one write per batch rather than one per message (a
 * write is where HTTP/2 spends its time: docs/grpc.md, "Benchmark").
 * Web-standard.
 *
 * @module
 */

import { PREFIX_SIZE } from "./_wire.ts";

/** The batch's first buffer, and what it grows back to once taken. */
const INITIAL_CAPACITY = 16 * 1024;

/**
 * Messages framed one after another into one buffer (each with its 5-byte
 * prefix), taken as one chunk.
 *
 * @example Two messages, one chunk
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameBatch } from "./_batch.ts";
 *
 * const batch = new FrameBatch();
 * batch.add(new Uint8Array([8, 1]));
 * batch.add(new Uint8Array([8, 2]), true);
 * assert.equal(batch.size, 14);
 * assert.deepEqual(batch.take(), new Uint8Array([0, 0, 0, 0, 2, 8, 1, 1, 0, 0, 0, 2, 8, 2]));
 * assert.equal(batch.size, 0);
 * ```
 */
export class FrameBatch {
  #buffer = new Uint8Array(INITIAL_CAPACITY);
  #view = new DataView(this.#buffer.buffer);
  #size = 0;

  /** Bytes framed and not yet taken. */
  get size(): number {
    return this.#size;
  }

  /**
   * Frames one message at the end of the batch.
   *
   * @param message the message's bytes (already compressed when `compressed`)
   * @param compressed sets the prefix's compressed flag
   */
  add(message: Uint8Array, compressed = false): void {
    const end = this.#size + PREFIX_SIZE + message.length;
    if (end > this.#buffer.length) this.#grow(end);
    this.#buffer[this.#size] = compressed ? 1 : 0;
    this.#view.setUint32(this.#size + 1, message.length);
    this.#buffer.set(message, this.#size + PREFIX_SIZE);
    this.#size = end;
  }

  /**
   * The batch's bytes, leaving it empty. The bytes are the caller's: a full
   * buffer is handed over (and a new one started), a small batch copied out.
   *
   * @returns the framed messages, in order
   */
  take(): Uint8Array {
    const size = this.#size;
    this.#size = 0;
    if (size < INITIAL_CAPACITY / 4) return this.#buffer.slice(0, size);
    const taken = this.#buffer.subarray(0, size);
    this.#buffer = new Uint8Array(INITIAL_CAPACITY);
    this.#view = new DataView(this.#buffer.buffer);
    return taken;
  }

  #grow(needed: number): void {
    const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2));
    grown.set(this.#buffer.subarray(0, this.#size));
    this.#buffer = grown;
    this.#view = new DataView(grown.buffer);
  }
}
