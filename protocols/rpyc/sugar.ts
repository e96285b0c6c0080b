/**
 * Python's operators on remote objects, each sending exactly what Python's
 * own netref (`rpyc/core/netref.py`) sends for it, so that a service sees
 * the same requests from parley as from Python:
 *
 * | Python            | here                       | request                         |
 * | ----------------- | -------------------------- | ------------------------------- |
 * | `len(x)`          | `len(x)`                   | CALLATTR `__len__`              |
 * | `x[k]`            | `item(x, k)`               | CALLATTR `__getitem__`          |
 * | `x[k] = v`        | `setItem(x, k, v)`         | CALLATTR `__setitem__`          |
 * | `del x[k]`        | `delItem(x, k)`            | CALLATTR `__delitem__`          |
 * | `v in x`          | `contains(x, v)`           | CALLATTR `__contains__`         |
 * | `str(x)`, `repr`  | `str(x)`, `repr(x)`        | STR, REPR                       |
 * | `x == y`          | `equals(x, y)`             | CMP `__eq__` (then `y`'s, then `is`) |
 * | `hash(x)`         | `hash(x)`                  | HASH                            |
 * | `for v in x`      | `for await (v of iterate(x))` | CALLATTR `__iter__`, then `__next__` per item |
 *
 * Each takes a proxy (or a {@linkcode Netref}) and `{ timeout, signal }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { len } from "./sugar.ts";
 * import { Netref } from "./netref.ts";
 * import { HANDLE } from "./messages.ts";
 *
 * const sent: unknown[] = [];
 * const host = { request: async (h: number, a: readonly unknown[]) => (sent.push([h, a.slice(1)]), 3), release: async () => {} };
 * assert.equal(await len(new Netref(host, ["builtins.list", 1, 2])), 3);
 * assert.deepEqual(sent, [[HANDLE.CALLATTR, ["__len__", [], []]]]);
 * ```
 *
 * @module
 */

import { type Netref, netrefOf, type RpycRequestOptions } from "./netref.ts";
import { type IterateOptions, iterateRefs } from "./_iterate.ts";
import { NotImplemented } from "./_values.ts";
import { wrap } from "./proxy.ts";

export type { IterateOptions };

function refOf(target: unknown): Netref {
  const ref = netrefOf(target);
  if (ref === undefined) throw new TypeError("Not a remote object: expected a proxy or a Netref");
  return ref;
}

/**
 * `len(x)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { len } from "./sugar.ts";
 *
 * await assert.rejects(len({}), TypeError);
 * ```
 *
 * @param target a remote object
 * @param options timeout and signal
 * @returns its length
 * @throws {RpycError} when Python raised (`TypeError: object of type … has no len()`)
 */
export async function len(target: unknown, options?: RpycRequestOptions): Promise<number> {
  const n = await refOf(target).callattr("__len__", [], options);
  if (typeof n === "bigint") return Number(n); // beyond 2^53 items: not a real case
  if (typeof n !== "number") throw new TypeError(`__len__ returned ${typeof n}, not an int`);
  return n;
}

/**
 * `x[key]`: a slice key is a {@linkcode Slice}, a tuple key an array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { item } from "./sugar.ts";
 * import { Netref } from "./netref.ts";
 *
 * const host = { request: async (_h: number, a: readonly unknown[]) => a[2], release: async () => {} };
 * assert.deepEqual(await item(new Netref(host, ["builtins.dict", 1, 2]), "k"), ["k"]);
 * ```
 *
 * @param target a remote object
 * @param key the key or index
 * @param options timeout and signal
 * @returns the item (a proxy when brine cannot carry it)
 */
export async function item(
  target: unknown,
  key: unknown,
  options?: RpycRequestOptions,
): Promise<unknown> {
  return wrap(await refOf(target).callattr("__getitem__", [key], options));
}

/**
 * `x[key] = value`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setItem } from "./sugar.ts";
 * import { Netref } from "./netref.ts";
 *
 * const host = { request: async () => null, release: async () => {} };
 * assert.equal(await setItem(new Netref(host, ["builtins.dict", 1, 2]), "k", 1), undefined);
 * ```
 *
 * @param target a remote object
 * @param key the key or index
 * @param value the value to store
 * @param options timeout and signal
 */
export async function setItem(
  target: unknown,
  key: unknown,
  value: unknown,
  options?: RpycRequestOptions,
): Promise<void> {
  await refOf(target).callattr("__setitem__", [key, value], options);
}

/**
 * `del x[key]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { delItem } from "./sugar.ts";
 * import { Netref } from "./netref.ts";
 *
 * const host = { request: async () => null, release: async () => {} };
 * assert.equal(await delItem(new Netref(host, ["builtins.dict", 1, 2]), "k"), undefined);
 * ```
 *
 * @param target a remote object
 * @param key the key or index
 * @param options timeout and signal
 */
export async function delItem(
  target: unknown,
  key: unknown,
  options?: RpycRequestOptions,
): Promise<void> {
  await refOf(target).callattr("__delitem__", [key], options);
}

/**
 * `value in x`, made a boolean as Python's `in` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contains } from "./sugar.ts";
 * import { Netref } from "./netref.ts";
 *
 * const host = { request: async () => true, release: async () => {} };
 * assert.equal(await contains(new Netref(host, ["builtins.set", 1, 2]), 3), true);
 * ```
 *
 * @param target a remote object
 * @param value what to look for
 * @param options timeout and signal
 * @returns whether it is there
 */
export async function contains(
  target: unknown,
  value: unknown,
  options?: RpycRequestOptions,
): Promise<boolean> {
  const found = await refOf(target).callattr("__contains__", [value], options);
  const ref = netrefOf(found);
  if (ref) {
    ref.release().catch(() => {});
    return true;
  }
  return truthy(found);
}

/**
 * `str(x)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { str } from "./sugar.ts";
 * import { Netref } from "./netref.ts";
 *
 * const host = { request: async () => "[1]", release: async () => {} };
 * assert.equal(await str(new Netref(host, ["builtins.list", 1, 2])), "[1]");
 * ```
 *
 * @param target a remote object
 * @param options timeout and signal
 * @returns its text
 */
export function str(target: unknown, options?: RpycRequestOptions): Promise<string> {
  return refOf(target).str(options);
}

/**
 * `repr(x)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { repr } from "./sugar.ts";
 * import { Netref } from "./netref.ts";
 *
 * const host = { request: async () => "<object>", release: async () => {} };
 * assert.equal(await repr(new Netref(host, ["builtins.object", 1, 2])), "<object>");
 * ```
 *
 * @param target a remote object
 * @param options timeout and signal
 * @returns its representation
 */
export function repr(target: unknown, options?: RpycRequestOptions): Promise<string> {
  return refOf(target).repr(options);
}

/**
 * `hash(x)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hash } from "./sugar.ts";
 * import { Netref } from "./netref.ts";
 *
 * const host = { request: async () => -7n, release: async () => {} };
 * assert.equal(await hash(new Netref(host, ["builtins.str", 1, 2])), -7n);
 * ```
 *
 * @param target a remote object
 * @param options timeout and signal
 * @returns Python's hash (a bigint beyond 2^53)
 */
export function hash(target: unknown, options?: RpycRequestOptions): Promise<number | bigint> {
  return refOf(target).hash(options);
}

/**
 * `x == other`, as Python decides it for a netref: CMP `__eq__` on `x`;
 * when that is `NotImplemented`, on `other` if it is remote too; then
 * identity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { equals } from "./sugar.ts";
 * import { Netref } from "./netref.ts";
 * import { NotImplemented } from "./brine.ts";
 *
 * const host = { request: async () => NotImplemented, release: async () => {} };
 * const ref = new Netref(host, ["builtins.list", 1, 2]);
 * assert.equal(await equals(ref, 1), false);
 * assert.equal(await equals(ref, ref), true);
 * ```
 *
 * @param target a remote object
 * @param other what to compare it with
 * @param options timeout and signal
 * @returns whether they are equal
 */
export async function equals(
  target: unknown,
  other: unknown,
  options?: RpycRequestOptions,
): Promise<boolean> {
  const ref = refOf(target);
  const theirs = netrefOf(other);
  let result = await ref.cmp(other, "__eq__", options);
  if (result === NotImplemented && theirs && theirs !== ref && theirs.host === ref.host) {
    result = await theirs.cmp(ref, "__eq__", options);
  }
  if (result === NotImplemented) return theirs === ref;
  return truthy(result);
}

/**
 * `for v in x`: `__iter__` once, then `__next__` per item (or BUFFITER per
 * `batch` items) until StopIteration. The iterator's netref is released at
 * the end, on `break`, and on an error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { iterate } from "./sugar.ts";
 * import { Netref, RpycError } from "./netref.ts";
 *
 * let left = 2;
 * const host = {
 *   request: async (_h: number, a: readonly unknown[]) => {
 *     if (a[1] === "__iter__") return new Netref(host, ["builtins.list_iterator", 1, 3]);
 *     if (left === 0) throw new RpycError({ module: "builtins", name: "StopIteration", args: [], attrs: [], traceback: "" });
 *     return left--;
 *   },
 *   release: async () => {},
 * };
 * const seen = [];
 * for await (const v of iterate(new Netref(host, ["builtins.list", 1, 2]))) seen.push(v);
 * assert.deepEqual(seen, [2, 1]);
 * ```
 *
 * @param target a remote iterable
 * @param options `batch`, timeout and signal (each request's)
 * @returns its items (proxies for what brine cannot carry)
 */
export async function* iterate(
  target: unknown,
  options: IterateOptions = {},
): AsyncGenerator<unknown, void, undefined> {
  for await (const value of iterateRefs(refOf(target), options)) yield wrap(value);
}

// Python's truth of the values brine carries (objects are true).
function truthy(value: unknown): boolean {
  if (value === null || value === false || value === 0 || value === 0n || value === "") {
    return false;
  }
  if (Array.isArray(value) || value instanceof Uint8Array) return value.length > 0;
  if (typeof value === "object" && "value" in value && typeof value.value === "number") {
    return value.value !== 0; // a Float
  }
  return true;
}
