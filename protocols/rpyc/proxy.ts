/**
 * The `Proxy` sugar over {@linkcode Netref}: `root.add(1, 2)` is one
 * CALLATTR, `await root.name` one GETATTR, `await root.a.b` two (the
 * middle reference released after), `fn(1, kw({ sep: "," }))` a CALL with
 * keywords. Awaiting a proxy itself gives the proxy (it is not thenable),
 * and `using`/`await using` release it. Every result that brine carries is
 * a value; any other Python object comes back as another proxy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { proxyOf } from "./proxy.ts";
 * import { Netref, netrefOf } from "./netref.ts";
 *
 * const host = { request: async (_h: number, args: readonly unknown[]) => args.length, release: async () => {} };
 * const ref = new Netref(host, ["S", 1, 2]);
 * const remote = proxyOf(ref);
 * assert.equal(await remote.add!(1, 2), 4); // CALLATTR: [ref, "add", [1, 2], []]
 * assert.equal(netrefOf(remote), ref);
 * ```
 *
 * @module
 */

import { standIns } from "./_stand_ins.ts";
import { Netref } from "./netref.ts";
import { iterateRefs } from "./_iterate.ts";

/** An attribute of a remote object: awaitable, callable, and with attributes of its own. */
export type RemoteAttribute =
  & PromiseLike<unknown>
  & ((...args: unknown[]) => Promise<unknown>)
  & { readonly [name: string]: RemoteAttribute };

/**
 * A remote Python object: callable, with attributes, iterable with
 * `for await` (Python's `for`: `__iter__`, then `__next__` per item);
 * release with `using`.
 */
export type RemoteObject =
  & ((...args: unknown[]) => Promise<unknown>)
  & { readonly [name: string]: RemoteAttribute }
  & AsyncIterable<unknown>
  & Disposable
  & AsyncDisposable;

/**
 * A Python object typed by an interface `T` that describes it: methods
 * return promises of their results (a last `kw({...})` argument may
 * be declared for keywords), other attributes are awaited. Describe a
 * result that is itself an object as `Remote<Other>`.
 *
 * @example
 * ```ts
 * import type { Remote } from "./proxy.ts";
 *
 * interface Calculator {
 *   add(a: number, b: number): number;
 *   readonly name: string;
 * }
 * type Client = Remote<Calculator>;
 * const check = (c: Client): Promise<number> => c.add(1, 2);
 * console.log(typeof check);
 * ```
 */
export type Remote<T> =
  & {
    readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Promise<Awaited<R>>
      : PromiseLike<T[K]>;
  }
  & Disposable
  & AsyncDisposable;

const proxies = new WeakMap<Netref, RemoteObject>();

/**
 * The proxy of a netref (one per netref).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { proxyOf } from "./proxy.ts";
 * import { Netref } from "./netref.ts";
 *
 * const ref = new Netref({ request: async () => null, release: async () => {} }, ["S", 1, 2]);
 * assert.equal(proxyOf(ref), proxyOf(ref));
 * assert.equal(await proxyOf(ref), proxyOf(ref)); // not thenable
 * ```
 *
 * @param netref the reference
 * @returns its proxy
 */
export function proxyOf(netref: Netref): RemoteObject {
  const known = proxies.get(netref);
  if (known) return known;
  const proxy = new Proxy(function () {} as unknown as RemoteObject, {
    get(_target, name) {
      if (name === Symbol.dispose) return () => netref[Symbol.dispose]();
      if (name === Symbol.asyncDispose) return () => netref.release();
      if (name === Symbol.asyncIterator) return () => wrapEach(iterateRefs(netref));
      // Not thenable, so that `await` on a proxy gives the proxy.
      if (typeof name === "symbol" || name === "then") return undefined;
      return attribute(netref, [name]);
    },
    apply(_target, _this, args: unknown[]) {
      return netref.call(args).then(wrap);
    },
  });
  proxies.set(netref, proxy);
  standIns.set(proxy, netref);
  return proxy;
}

/**
 * A netref as its proxy, tuples item by item; every other value as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { proxyOf, wrap } from "./proxy.ts";
 * import { Netref } from "./netref.ts";
 *
 * const ref = new Netref({ request: async () => null, release: async () => {} }, ["S", 1, 2]);
 * assert.deepEqual(wrap([1, ref]), [1, proxyOf(ref)]);
 * ```
 *
 * @param value a reply's unboxed value
 * @returns it, with proxies for netrefs
 */
export function wrap(value: unknown): unknown {
  if (value instanceof Netref) return proxyOf(value);
  if (Array.isArray(value) && value.some((v) => v instanceof Netref || Array.isArray(v))) {
    return Object.freeze(value.map(wrap));
  }
  return value;
}

async function* wrapEach(items: AsyncIterable<unknown>): AsyncGenerator<unknown, void, undefined> {
  for await (const item of items) yield wrap(item);
}

/**
 * `obj.a.b…` as a lazy attribute: awaited, it GETATTRs each step; called,
 * it GETATTRs all but the last and CALLATTRs that, releasing the middle
 * references.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attributeOf } from "./proxy.ts";
 * import { Netref } from "./netref.ts";
 *
 * const ref = new Netref({ request: async (_h: number, a: readonly unknown[]) => a[1], release: async () => {} }, ["S", 1, 2]);
 * assert.equal(await attributeOf(ref, ["name"]), "name"); // GETATTR [ref, "name"]
 * ```
 *
 * @param netref where the path starts
 * @param path the attribute names, at least one
 * @returns the attribute
 */
export function attributeOf(netref: Netref, path: readonly string[]): RemoteAttribute {
  if (path.length === 0) throw new RangeError("An attribute path needs at least one name");
  return attribute(netref, path);
}

// `obj.a.b…`: resolved on `then` (GETATTR each) or on a call (GETATTR each
// but the last, then CALLATTR), releasing the intermediate references.
function attribute(netref: Netref, path: readonly string[]): RemoteAttribute {
  const through = async <T>(last: (target: Netref, name: string) => Promise<T>): Promise<T> => {
    let target = netref;
    const held: Netref[] = [];
    try {
      for (const name of path.slice(0, -1)) {
        const next = await target.getattr(name);
        if (!(next instanceof Netref)) {
          throw new TypeError(`Attribute ${name} is a value, not an object with attributes`);
        }
        held.push(next);
        target = next;
      }
      return await last(target, path.at(-1)!);
    } finally {
      for (const ref of held) ref.release().catch(() => {});
    }
  };
  return new Proxy(function () {} as unknown as RemoteAttribute, {
    get(_target, name) {
      if (name === "then") {
        const value = through((target, last) => target.getattr(last)).then(wrap);
        return value.then.bind(value);
      }
      if (typeof name === "symbol") return undefined;
      return attribute(netref, [...path, name]);
    },
    apply(_target, _this, args: unknown[]) {
      return through((target, last) => target.callattr(last, args)).then(wrap);
    },
  });
}
