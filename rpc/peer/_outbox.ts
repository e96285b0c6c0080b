/**
 * A peer's outgoing side: frames queued in one turn leave as one chunk (one
 * socket write), and a peer that reads slowly is held back by a byte budget.
 *
 * @module
 */

import { LimitError } from "../errors.ts";
import type { Frame } from "../types.ts";
import type { DirectWrites } from "../_direct.ts";

// Bytes per part when a turn writes many frames: a part is one socket
// write, and each write costs a system call and a wake-up of the other end,
// so parts are large; but bounded, so that the other end starts on the
// first part while this end still produces the rest.
const OUTBOX_PART_BYTES = 64 * 1024;

/**
 * The write queue of one connection. Frames written in the same turn (the
 * replies to a batch of frames read together, the calls of many callers) are
 * handed to the writer together, and no promise is made per frame.
 *
 * @example Two frames written in one turn leave as one chunk
 * ```ts
 * import assert from "node:assert/strict";
 * import { Outbox } from "./_outbox.ts";
 *
 * const chunks: unknown[] = [];
 * const writable = new WritableStream<unknown>({ write: (chunk) => void chunks.push(chunk) });
 * const outbox = new Outbox(writable.getWriter(), 1024, (error) => console.error(error));
 * outbox.write("one");
 * await outbox.write("two");
 * assert.deepEqual(chunks, [["one", "two"]]);
 * assert.equal(outbox.queuedBytes, 0);
 * ```
 */
export class Outbox {
  readonly #writer: WritableStreamDefaultWriter<Frame | readonly Frame[]> | undefined;
  readonly #maxQueuedBytes: number;
  readonly #onFailed: (error: unknown) => void;
  readonly #direct: DirectWrites | undefined;
  #frames: Frame[] = [];
  #flushing: Promise<void> | undefined;
  // Bytes handed to write() and not yet written (UTF-16 units for text).
  #queuedBytes = 0;
  // Bytes of the frames not yet handed to the writer.
  #partBytes = 0;
  #drained: PromiseWithResolvers<void> | undefined;

  /**
   * Creates the queue in front of a writer.
   *
   * @param writer where the chunks go, unless the stream offers `direct`
   * @param maxQueuedBytes bytes waiting to be written above which the peer holds back
   * @param onFailed told once per failed write: the stream is broken
   * @param direct the stream's batch writer, when it offers one: written
   * through instead of `writer`
   */
  constructor(
    writer: WritableStreamDefaultWriter<Frame | readonly Frame[]> | undefined,
    maxQueuedBytes: number,
    onFailed: (error: unknown) => void,
    direct?: DirectWrites,
  ) {
    this.#writer = writer;
    this.#direct = direct;
    this.#maxQueuedBytes = maxQueuedBytes;
    this.#onFailed = onFailed;
  }

  /** Bytes handed to {@linkcode Outbox.write} and not yet written. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Whether more bytes wait than the budget allows. */
  get isOverBudget(): boolean {
    return this.#queuedBytes > this.#maxQueuedBytes;
  }

  /** The flush under way, if any; it settles once what was queued is written. */
  get flushing(): Promise<void> | undefined {
    return this.#flushing;
  }

  /**
   * Queues a frame; it leaves with the others queued in this turn.
   *
   * @param frame the encoded message
   * @returns when the chunk it leaves in has been written
   */
  write(frame: Frame): Promise<void> {
    this.#queuedBytes += frame.length;
    this.#partBytes += frame.length;
    const queued = this.#frames.push(frame);
    if (queued === 1) {
      const flushing = Promise.resolve().then(() => this.#flush());
      flushing.catch(this.#onFailed);
      this.#flushing = flushing;
    } else if (this.#partBytes >= OUTBOX_PART_BYTES) {
      // A long batch leaves in parts, so that the other end can start on the
      // first part while this end is still producing the rest.
      this.#flush().catch(this.#onFailed);
    }
    return this.#flushing!;
  }

  /**
   * Refuses a new outgoing message while a slow reader has too much queued.
   *
   * @throws {LimitError} when over the budget
   */
  checkBudget(): void {
    if (this.#queuedBytes > this.#maxQueuedBytes) {
      throw new LimitError(
        "maxQueuedBytes",
        this.#maxQueuedBytes,
        `${this.#queuedBytes} bytes are waiting to be written to a peer that reads slowly`,
      );
    }
  }

  /**
   * Waits until the queue is back under its budget (or {@linkcode Outbox.release}).
   *
   * @returns when reading may go on
   */
  underBudget(): Promise<void> {
    this.#drained ??= Promise.withResolvers();
    return this.#drained.promise;
  }

  /** Lets whoever waits in {@linkcode Outbox.underBudget} go on, as when closing. */
  release(): void {
    this.#drained?.resolve();
    this.#drained = undefined;
  }

  // Through the writer, after its backpressure.
  #written(chunk: Frame | readonly Frame[]): Promise<void> {
    const writer = this.#writer!;
    const size = writer.desiredSize;
    return size !== null && size <= 0
      ? writer.ready.then(() => writer.write(chunk))
      : writer.write(chunk);
  }

  #flush(): Promise<void> {
    if (this.#frames.length === 0) return Promise.resolve();
    const frames = this.#frames;
    this.#frames = [];
    this.#partBytes = 0;
    const chunk = frames.length === 1 ? frames[0]! : frames;
    let bytes = 0;
    for (const frame of frames) bytes += frame.length;
    const written = this.#direct?.write(chunk) ?? this.#written(chunk);
    const done = () => {
      this.#queuedBytes -= bytes;
      if (this.#queuedBytes <= this.#maxQueuedBytes) this.release();
    };
    written.then(done, done);
    return written;
  }
}
