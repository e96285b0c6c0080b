/**
 * The gRPC server's one clock for waits on a peer: a request body that does
 * not come (the handler waits for a read) and a reply that the client does
 * not read (a write waits for room). HTTP/2 itself (rpc/transports/http2/)
 * resets a stream whose peer is silent, but with CANCEL; gRPC answers a
 * stalled request with a status (4 DEADLINE_EXCEEDED, saying why), so it
 * watches its own waits. One interval per server, running only while
 * something waits, and no timer per call: a wait is an entry in a set, swept
 * a few times per timeout.
 *
 * @module
 */

/** One wait on the peer. */
export interface Wait {
  /** `performance.now()` when it expires. */
  readonly until: number;
  /** Called once when it expires before it was ended. */
  readonly expired: () => void;
}

/**
 * The waits of one server, swept every `resolution` ms: a wait of `ms`
 * expires between `ms` and `ms` + 2 × `resolution` after it began.
 *
 * @example A read that nothing answers expires
 * ```ts
 * import assert from "node:assert/strict";
 * import { Waits } from "./_watch.ts";
 *
 * const waits = new Waits(10);
 * const { promise, resolve } = Promise.withResolvers<string>();
 * waits.start(30, () => resolve("expired"));
 * const ended = waits.start(30, () => resolve("never"));
 * waits.end(ended); // answered in time
 * assert.equal(await promise, "expired");
 * assert.equal(waits.size, 0);
 * ```
 */
export class Waits {
  readonly #resolution: number;
  readonly #waits = new Set<Wait>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The clock as of the last sweep (or start): no `performance.now()` per wait. */
  #now = 0;

  /** @param resolution ms between sweeps: how late a wait may expire */
  constructor(resolution: number) {
    this.#resolution = Math.max(5, resolution);
  }

  /** Waits in progress. */
  get size(): number {
    return this.#waits.size;
  }

  /**
   * Starts a wait of `ms` (`Infinity`: none is kept).
   *
   * @returns the wait, to end when it is over; `undefined` for `Infinity`
   */
  start(ms: number, expired: () => void): Wait | undefined {
    if (ms === Infinity) return undefined;
    if (this.#timer === undefined) {
      this.#now = performance.now();
      this.#timer = setInterval(() => this.#sweep(), this.#resolution);
    }
    // The clock may be a sweep behind: counted from then plus a sweep, a wait never expires early.
    const wait = { until: this.#now + this.#resolution + ms, expired };
    this.#waits.add(wait);
    return wait;
  }

  /** Ends a wait (nothing when `undefined` or expired already). */
  end(wait: Wait | undefined): void {
    if (wait !== undefined) this.#waits.delete(wait);
  }

  /** Stops the clock; waits still kept never expire. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#waits.clear();
  }

  #sweep(): void {
    const now = this.#now = performance.now();
    for (const wait of this.#waits) {
      if (wait.until > now) continue;
      this.#waits.delete(wait);
      wait.expired();
    }
    if (this.#waits.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

/**
 * Awaits `promise` under a wait of `ms`: past it, `expired` is called (the
 * promise is still awaited; `expired` should end what it waits for).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { waitFor, Waits } from "./_watch.ts";
 *
 * const waits = new Waits(10);
 * assert.equal(await waitFor(waits, Promise.resolve(7), 1000, () => {}), 7);
 * assert.equal(waits.size, 0);
 * ```
 */
export async function waitFor<T>(
  waits: Waits,
  promise: Promise<T>,
  ms: number,
  expired: () => void,
): Promise<T> {
  const wait = waits.start(ms, expired);
  try {
    return await promise;
  } finally {
    waits.end(wait);
  }
}
