/**
 * The streams a client session may have open, held to the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS: Deno's `node:http2` client refuses a
 * stream over it at once (REFUSED_STREAM) rather than queueing it, so a
 * client with more calls than the server takes at once makes the rest wait
 * for a free stream here, in order.
 *
 * @module
 */

import type http2 from "node:http2";

/**
 * The open streams of one session, and the calls waiting for one.
 *
 * @example Three calls, a server that takes two at once
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamSlots } from "./_slots.ts";
 *
 * const slots = new StreamSlots(() => 2);
 * assert.equal(slots.take(undefined), undefined); // free: taken at once
 * slots.take(undefined);
 * let third = false;
 * const waiting = slots.take(undefined)!.then(() => third = true);
 * await Promise.resolve();
 * assert.equal(third, false);
 * slots.give();
 * await waiting;
 * assert.equal(slots.open, 2);
 * ```
 */
export class StreamSlots {
  readonly #limit: () => number;
  readonly #waiting: (() => void)[] = [];
  #open = 0;

  /**
   * Creates the slots of a session.
   *
   * @param limit the streams the server takes at once, as it says now
   */
  constructor(limit: () => number) {
    this.#limit = limit;
  }

  /** Whether every slot is taken: a call would wait. */
  get full(): boolean {
    return this.#open >= this.#limit();
  }

  /** Streams open (or about to be). */
  get open(): number {
    return this.#open;
  }

  /**
   * Takes a slot, waiting for one when all are in use.
   *
   * @param signal gives up waiting
   * @returns `undefined` when a slot was free (taken at once), else when one is taken
   * @throws the signal's reason when it aborts first
   */
  take(signal: AbortSignal | undefined): Promise<void> | undefined {
    if (this.#open < this.#limit()) {
      this.#open++;
      return undefined;
    }
    return this.#wait(signal);
  }

  async #wait(signal: AbortSignal | undefined): Promise<void> {
    while (this.#open >= this.#limit()) {
      signal?.throwIfAborted();
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiting.push(resolve);
      // Given up: out of the queue, so that a slot freed later wakes a call still waiting.
      const onAbort = () => {
        const at = this.#waiting.indexOf(resolve);
        if (at >= 0) this.#waiting.splice(at, 1);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      await promise;
      signal?.removeEventListener("abort", onAbort);
    }
    this.#open++;
  }

  /** A stream closed: the first call waiting may go. */
  give(): void {
    this.#open--;
    this.#waiting.shift()?.();
  }

  /** Lets every waiting call look again (the server's limit changed, or the session ended). */
  wakeAll(): void {
    for (const wake of this.#waiting.splice(0)) wake();
  }
}

/**
 * The server's limit of streams at once for `session`, from its SETTINGS
 * (until they arrive: 100, what RFC 9113 §6.5.2 recommends at least).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxStreamsOf } from "./_slots.ts";
 *
 * assert.equal(maxStreamsOf({ remoteSettings: { maxConcurrentStreams: 3 } } as never), 3);
 * ```
 */
export function maxStreamsOf(session: http2.ClientHttp2Session): number {
  return session.remoteSettings?.maxConcurrentStreams ?? 100;
}
