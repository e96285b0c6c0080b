// Iterating a remote iterable, shared by `iterate()` (sugar.ts) and a
// proxy's `Symbol.asyncIterator` (proxy.ts), which each wrap the items.

import { HANDLE } from "./messages.ts";
import { Netref, RpycError, type RpycRequestOptions } from "./netref.ts";

/** Options of `iterate()`. */
export interface IterateOptions extends RpycRequestOptions {
  /**
   * Items fetched per request: 1 (the default) sends `__next__` per item, as
   * Python's `for` does; more uses RPyC's BUFFITER handler (what
   * `rpyc.buffiter` sends), `batch` items a round trip.
   */
  readonly batch?: number;
}

/**
 * `__iter__` once, then `__next__` per item (or BUFFITER per `batch`) until
 * StopIteration; the iterator's netref released at the end, on `break` and
 * on an error. Items as unboxed (netrefs, not proxies).
 */
export async function* iterateRefs(
  iterable: Netref,
  options: IterateOptions = {},
): AsyncGenerator<unknown, void, undefined> {
  const { batch = 1, ...request } = options;
  if (!Number.isSafeInteger(batch) || batch < 1) {
    throw new RangeError(`batch must be a whole number ≥ 1, not ${batch}`);
  }
  const iterator = await iterable.callattr("__iter__", [], request);
  if (!(iterator instanceof Netref)) {
    throw new TypeError("__iter__ returned a value, not an iterator");
  }
  try {
    if (batch === 1) {
      for (;;) {
        let next;
        try {
          next = await iterator.callattr("__next__", [], request);
        } catch (e) {
          if (e instanceof RpycError && e.pythonType === "StopIteration") return;
          throw e;
        }
        yield next;
      }
    }
    for (;;) {
      const chunk = await iterator.host.request(HANDLE.BUFFITER, [iterator, batch], request);
      if (!Array.isArray(chunk)) throw new TypeError("BUFFITER answered with no tuple");
      yield* chunk;
      if (chunk.length < batch) return;
    }
  } finally {
    iterator.release().catch(() => {});
  }
}
