/**
 * Running a call through a chain of interceptors, the chain composed once
 * per list of interceptors rather than once per call: what ends the chain
 * for one call (sending it, running its handler) travels in the call
 * object itself, under a symbol that `{ ...call }` copies keep. Composing
 * per call cost a closure (and its context) per interceptor and call end.
 * Web-standard only.
 *
 * @module
 */

/** The field of a call object that holds what ends its chain. */
export const END: unique symbol = Symbol("parley.chainEnd");

/** A handler of calls of type `C`. */
export type Handler<C> = (call: C) => Promise<unknown>;

/** A call that carries what ends its chain. */
export type Ending<C> = C & { readonly [END]: Handler<C> };

// Each list's composed chain, kept as long as the list is.
const chains = new WeakMap<readonly unknown[], Handler<never>>();

/**
 * Runs `call` through `wrappers` (the first outermost) to its own end,
 * `call[END]`. A handler that throws instead of rejecting is a rejection
 * too.
 *
 * @param wrappers the chain: each takes the next handler, gives one that wraps it
 * @param call the call, with what ends its chain
 * @returns the outcome, as the outermost wrapper gives it
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { END, runChain } from "./_chain.ts";
 *
 * type Call = { readonly n: number };
 * const double = (next: (c: Call) => Promise<unknown>) => (c: Call) => next({ ...c, n: 2 * c.n });
 * const chain = [double, double];
 * assert.equal(await runChain(chain, { n: 1, [END]: (c: Call) => Promise.resolve(c.n) }), 4);
 * assert.equal(await runChain(chain, { n: 3, [END]: (c: Call) => Promise.resolve(-c.n) }), -12);
 * ```
 */
export function runChain<C extends object>(
  wrappers: readonly ((next: Handler<C>) => Handler<C>)[],
  call: Ending<C>,
): Promise<unknown> {
  try {
    let chain = chains.get(wrappers) as Handler<C> | undefined;
    if (chain === undefined) {
      chain = toEnd as Handler<C>;
      for (let i = wrappers.length - 1; i >= 0; i--) chain = wrappers[i]!(chain);
      chains.set(wrappers, chain);
    }
    const outcome = chain(call);
    return outcome instanceof Promise ? outcome : Promise.resolve(outcome);
  } catch (error) {
    return Promise.reject(error);
  }
}

// The end of every chain: the one the call carries.
function toEnd(call: Ending<object>): Promise<unknown> {
  const end = call[END];
  if (typeof end !== "function") {
    throw new TypeError(
      "An interceptor passed on a call that is neither the one it was given nor a copy of it ({ ...call }): the call's end is unknown",
    );
  }
  return end(call);
}
