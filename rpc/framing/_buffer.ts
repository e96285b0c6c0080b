/**
 * The bytes of an unfinished frame, held between reads.
 *
 * Private to `rpc/framing/`.
 *
 * @module
 */

/** A zero-length array for empty frames. */
export const EMPTY: Uint8Array = new Uint8Array(0);

/** The first capacity: room for a small frame's rest without growing again. */
const FIRST_CAPACITY = 256;

/**
 * One array that the bytes of an unfinished frame are copied into, doubling
 * its capacity as bytes arrive: holding n bytes costs at most 2n (3n while
 * it grows), however the peer splits them.
 *
 * Holding the chunks themselves would cost one array per read instead: a
 * frame dripped one byte per read then cost ~570 bytes of memory per byte
 * held (a 16 MiB frame limit meant gigabytes for one connection), and a
 * view of a transport's larger read buffer would keep all of that buffer.
 *
 * @example A frame that arrives a byte at a time
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameBuffer } from "./_buffer.ts";
 *
 * const held = new FrameBuffer();
 * for (const byte of [1, 2, 3]) held.push(new Uint8Array([byte]), 4);
 * assert.equal(held.size, 3);
 * assert.deepEqual(held.take(new Uint8Array([4])), new Uint8Array([1, 2, 3, 4]));
 * assert.equal(held.size, 0);
 * ```
 */
export class FrameBuffer {
  #bytes: Uint8Array = EMPTY;
  #size = 0;

  /** How many bytes are held. */
  get size(): number {
    return this.#size;
  }

  /**
   * Copies `bytes` in.
   *
   * @param bytes the bytes that arrived
   * @param total the whole frame's length, when known: the capacity never
   * grows beyond it (nor beyond what arrived), so a frame that arrives whole
   * is held in exactly its length
   */
  push(bytes: Uint8Array, total?: number): void {
    const count = bytes.length;
    if (count === 0) return;
    const needed = this.#size + count;
    if (needed > this.#bytes.length) this.#grow(needed, total);
    this.#bytes.set(bytes, this.#size);
    this.#size = needed;
  }

  /**
   * Forgets the last `count` bytes.
   *
   * @param count how many bytes, at most {@linkcode FrameBuffer.size}
   */
  dropLast(count: number): void {
    this.#size -= count;
  }

  /**
   * Empties the buffer.
   *
   * @param last a range to append
   * @returns the bytes held followed by `last`: `last` itself when nothing
   * is held, else a view of the buffer's array, which is then let go (the
   * next frame starts a new one), so the view stays valid
   */
  take(last: Uint8Array = EMPTY): Uint8Array {
    if (this.#size === 0) return last;
    this.push(last, this.#size + last.length);
    const out = this.#bytes.subarray(0, this.#size);
    this.#bytes = EMPTY;
    this.#size = 0;
    return out;
  }

  #grow(needed: number, total: number | undefined): void {
    let capacity = Math.max(needed, 2 * this.#bytes.length, FIRST_CAPACITY);
    if (total !== undefined) capacity = Math.max(needed, Math.min(capacity, total));
    const grown = new Uint8Array(capacity);
    grown.set(this.#bytes.subarray(0, this.#size));
    this.#bytes = grown;
  }
}
