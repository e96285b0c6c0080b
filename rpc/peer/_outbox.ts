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
  // Whether this turn's flush is queued as a microtask.
  #scheduled = false;
  // The promise of this turn's flush, made only when someone asks for it
  // (write(), flushing): the replies and calls of a peer do not, and a
  // promise with its reactions per turn is most of what a lone frame costs.
  #turn: PromiseWithResolvers<void> | undefined;
  // The last flush handed to the writer: settles once it is written.
  #written: Promise<void> | undefined;
  // Bytes handed to write() and not yet written (UTF-16 units for text).
  #queuedBytes = 0;
  // Bytes of the frames not yet handed to the writer.
  #partBytes = 0;
  // The bytes of each flush handed to the writer and not yet written, in order.
  readonly #inWrite: number[] = [];
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
    return this.#scheduled ? this.#turnPromise() : this.#written;
  }

  /**
   * Queues a frame; it leaves with the others queued in this turn.
   *
   * @param frame the encoded message
   * @returns when the chunk it leaves in has been written
   */
  write(frame: Frame): Promise<void> {
    this.send(frame);
    return this.#turnPromise();
  }

  /**
   * Queues a frame as {@linkcode Outbox.write} does, for a caller that does
   * not wait for it: a failed write is told to `onFailed` alone.
   *
   * @param frame the encoded message
   */
  send(frame: Frame): void {
    this.#queuedBytes += frame.length;
    this.#partBytes += frame.length;
    const queued = this.#frames.push(frame);
    if (queued === 1) {
      this.#scheduled = true;
      queueMicrotask(this.#flushTurn);
    } else if (this.#partBytes >= OUTBOX_PART_BYTES) {
      // A long batch leaves in parts, so that the other end can start on the
      // first part while this end is still producing the rest.
      this.#flush();
    }
  }

  #turnPromise(): Promise<void> {
    if (this.#turn === undefined) {
      this.#turn = Promise.withResolvers();
      // Whoever asked may not wait: the failure is told to onFailed anyway.
      this.#turn.promise.catch(noop);
    }
    return this.#turn.promise;
  }

  // This turn's frames leave; whoever asked for the turn's promise hears
  // when they have been written.
  readonly #flushTurn = (): void => {
    this.#scheduled = false;
    const turn = this.#turn;
    this.#turn = undefined;
    const written = this.#flush();
    if (turn !== undefined) written.then(turn.resolve, turn.reject);
  };

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
  #throughWriter(chunk: Frame | readonly Frame[]): Promise<void> {
    const writer = this.#writer!;
    const size = writer.desiredSize;
    return size !== null && size <= 0
      ? writer.ready.then(() => writer.write(chunk))
      : writer.write(chunk);
  }

  #flush(): Promise<void> {
    if (this.#frames.length === 0) return this.#written ?? Promise.resolve();
    const frames = this.#frames;
    this.#frames = [];
    this.#partBytes = 0;
    const chunk = frames.length === 1 ? frames[0]! : frames;
    let bytes = 0;
    for (const frame of frames) bytes += frame.length;
    let written;
    try {
      written = this.#direct?.write(chunk) ?? this.#throughWriter(chunk);
    } catch (error) {
      written = Promise.reject(error);
    }
    // Flushes are written in order: each one's bytes wait in a queue until
    // its write settles (no closure per flush).
    this.#inWrite.push(bytes);
    written.then(this.#wrote, this.#failedWrite);
    return this.#written = written;
  }

  readonly #wrote = (): void => {
    this.#queuedBytes -= this.#inWrite.shift()!;
    if (this.#queuedBytes <= this.#maxQueuedBytes) this.release();
  };

  readonly #failedWrite = (error: unknown): void => {
    this.#wrote();
    this.#onFailed(error);
  };
}

function noop(): void {}
