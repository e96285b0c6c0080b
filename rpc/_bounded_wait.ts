/**
 * A wait bounded by a call's timeout and abort signal, whichever comes
 * first, with nothing left behind once it settles (no timer, no listener):
 * how a `ReconnectingClient`'s call waits for the next connection.
 * Web-standard only.
 *
 * @module
 */

/**
 * `wait`, or a rejection: `late()` once `timeout` milliseconds have passed,
 * the signal's reason once it aborts (at once if it already has).
 *
 * @typeParam T what the wait gives
 * @param wait what is waited for
 * @param timeout milliseconds before giving up, or `undefined` for no bound
 * @param signal aborts the wait, or `undefined`
 * @param late the error of a wait that took too long
 * @returns what `wait` gives, unless the timeout or the signal comes first
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boundedWait } from "./_bounded_wait.ts";
 *
 * assert.equal(await boundedWait(Promise.resolve(1), 1_000, undefined, () => new Error("late")), 1);
 * const never = new Promise<number>(() => {});
 * await assert.rejects(boundedWait(never, 1, undefined, () => new Error("late")), /late/);
 * await assert.rejects(
 *   boundedWait(never, undefined, AbortSignal.abort(new Error("stop")), () => new Error("late")),
 *   /stop/,
 * );
 * ```
 */
export function boundedWait<T>(
  wait: Promise<T>,
  timeout: number | undefined,
  signal: AbortSignal | undefined,
  late: () => Error,
): Promise<T> {
  const waits: Promise<T>[] = [wait];
  const cleanups: (() => void)[] = [];
  if (timeout !== undefined) {
    waits.push(
      new Promise((_, reject) => {
        const timer = setTimeout(() => reject(late()), timeout);
        cleanups.push(() => clearTimeout(timer));
      }),
    );
  }
  if (signal !== undefined) {
    waits.push(
      new Promise((_, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener("abort", onAbort));
      }),
    );
  }
  return Promise.race(waits).finally(() => cleanups.forEach((cleanup) => cleanup()));
}
