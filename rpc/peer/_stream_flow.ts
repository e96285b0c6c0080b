// Credit-based flow control of one direction of a streaming call: the
// receiver grants the sender N more messages as its reader takes them, so a
// slow reader slows the writer and a receiver never holds more than one
// window of messages. Web-standard only.

import { ErrorCode, RpcError } from "../errors.ts";

/**
 * The messages one end receives on a stream, read with `for await`. Reading
 * begins by granting a whole window; every half window read is granted
 * again. A sender that sends beyond its credit fails the stream.
 *
 * @example A window of 4: granted when reading starts, then every 2 read
 * ```ts
 * import assert from "node:assert/strict";
 * import { InboundMessages } from "./_stream_flow.ts";
 *
 * const grants: number[] = [];
 * const inbound = new InboundMessages(4, (credit) => grants.push(credit), () => {});
 * const reader = inbound[Symbol.asyncIterator]();
 * const first = reader.next();
 * assert.deepEqual(grants, [4]);
 * for (const n of [1, 2, 3, 4]) inbound.push(n);
 * const read = [(await first).value];
 * for (let i = 0; i < 3; i++) read.push((await reader.next()).value);
 * assert.deepEqual(read, [1, 2, 3, 4]);
 * assert.deepEqual(grants, [4, 2, 2]);
 * inbound.end();
 * assert.equal((await reader.next()).done, true);
 * ```
 */
export class InboundMessages implements AsyncIterable<unknown> {
  readonly #window: number;
  readonly #grant: (credit: number) => void;
  readonly #onReturn: () => void;
  readonly #items: unknown[] = [];
  #allowance = 0; // granted and not yet received
  #read = 0; // read since the last grant
  #started = false;
  #done = false;
  #error: { reason: unknown } | undefined;
  #waiter: PromiseWithResolvers<void> | undefined;

  /**
   * Creates the messages of one stream; nothing is granted before reading starts.
   *
   * @param window the most messages granted at once
   * @param grant sends a grant of more messages to the sender
   * @param onReturn the reader stopped early (left its `for await` loop)
   */
  constructor(window: number, grant: (credit: number) => void, onReturn: () => void) {
    this.#window = window;
    this.#grant = grant;
    this.#onReturn = onReturn;
  }

  /** How many messages are held, waiting to be read. */
  get held(): number {
    return this.#items.length;
  }

  /** A message arrived; beyond the credit granted, the stream fails. */
  push(message: unknown): void {
    if (this.#done) return;
    if (this.#allowance <= 0) {
      // An RpcError: a handler that reads it fails its call with it, told to the caller.
      this.fail(
        new RpcError(ErrorCode.InvalidRequest, "Stream messages beyond the credit granted"),
      );
      return;
    }
    this.#allowance--;
    this.#items.push(message);
    this.#wake();
  }

  /** The sender sent its last message: reading ends after what is held. */
  end(): void {
    this.#done = true;
    this.#wake();
  }

  /** The stream failed: reading throws `reason` after what is held. */
  fail(reason: unknown): void {
    if (this.#done) return;
    this.#error = { reason };
    this.#done = true;
    this.#wake();
  }

  #wake(): void {
    this.#waiter?.resolve();
    this.#waiter = undefined;
  }

  /**
   * Reads the messages, once; leaving the loop early calls `onReturn`.
   *
   * @returns the messages, in order, then the stream's error if it failed
   */
  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    if (this.#started) throw new TypeError("A stream's messages can be read only once");
    this.#started = true;
    let finished = false;
    try {
      if (!this.#done) this.#give(this.#window);
      while (true) {
        if (this.#items.length > 0) {
          const item = this.#items.shift();
          if (++this.#read >= this.#window / 2 && !this.#done) {
            this.#give(this.#read);
            this.#read = 0;
          }
          yield item;
          continue;
        }
        if (this.#error !== undefined) throw this.#error.reason;
        if (this.#done) break;
        this.#waiter = Promise.withResolvers();
        await this.#waiter.promise;
      }
      finished = true;
    } finally {
      if (!finished && this.#error === undefined) this.#onReturn();
      this.#done = true;
      this.#items.length = 0;
    }
  }

  #give(credit: number): void {
    this.#allowance += credit;
    this.#grant(credit);
  }
}

/**
 * The messages one end may still send on a stream, as the receiver granted them.
 *
 * @example
 * ```ts
 * import { OutboundCredit } from "./_stream_flow.ts";
 *
 * const credit = new OutboundCredit();
 * const signal = new AbortController().signal;
 * const taken = credit.take(signal); // waits: nothing granted yet
 * credit.add(1);
 * await taken;
 * ```
 */
export class OutboundCredit {
  #available = 0;
  #waiter: PromiseWithResolvers<void> | undefined;

  /** The receiver granted `credit` more messages. */
  add(credit: number): void {
    this.#available += credit;
    this.#waiter?.resolve();
    this.#waiter = undefined;
  }

  /**
   * Takes one message's credit, waiting for a grant when there is none.
   *
   * @throws the signal's reason when it aborts first
   */
  async take(signal: AbortSignal): Promise<void> {
    while (this.#available === 0) {
      signal.throwIfAborted();
      this.#waiter ??= Promise.withResolvers();
      await abortable(this.#waiter.promise, signal);
    }
    this.#available--;
  }
}

/**
 * Waits for `promise`, or rejects with the signal's reason when it aborts first.
 *
 * @throws the signal's reason
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { abortable } from "./_stream_flow.ts";
 *
 * const controller = new AbortController();
 * const never = new Promise<void>(() => {});
 * const waiting = abortable(never, controller.signal);
 * controller.abort(new Error("stop"));
 * await assert.rejects(waiting, /stop/);
 * assert.equal(await abortable(Promise.resolve(1), controller.signal).catch(() => 0), 0);
 * ```
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
