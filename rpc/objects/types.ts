/**
 * The types of remote objects: what a session sends its calls through, its
 * options, and how the other end's objects look from this end (`Remote`,
 * `RemotePromise`, `Received`).
 *
 * @module
 */

/**
 * What a session sends its calls through: a `Peer`.
 *
 * @example A peer is an object caller
 * ```ts
 * import type { ObjectCaller } from "./types.ts";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * const [a] = memoryPair();
 * const caller: ObjectCaller = new Peer(a, { codec: jsonRpc() });
 * await (caller as Peer).close();
 * ```
 */
export interface ObjectCaller {
  /** Calls a method of the other end. */
  call<T = unknown>(method: string, params?: readonly unknown[]): Promise<T>;
  /** Sends a notification to the other end. */
  notify(method: string, params?: readonly unknown[]): Promise<void>;
  /** Settles when the connection is closed. */
  readonly closed?: Promise<unknown>;
}

/**
 * Options of `ObjectSession`. The limits default to those of
 * `DEFAULT_LIMITS` (`rpc/limits.ts`), where they are `RpcLimits` too.
 *
 * @example A session with a root and tighter limits
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ObjectSessionOptions } from "./types.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * const options: ObjectSessionOptions = { root: { ping: () => "pong" }, maxExports: 100, maxDepth: 16 };
 * assert.equal(new ObjectSession(options).exportCount, 0);
 * ```
 */
export interface ObjectSessionOptions {
  /** What the other end reaches as its root (target `null`). */
  readonly root?: unknown;
  /**
   * Most objects this end exports on the connection at once, and most
   * outcomes of the other end's calls it keeps for pipelining; 10,000 by
   * default. More are refused with `ObjectErrorCode.TooManyExports`.
   */
  readonly maxExports?: number;
  /**
   * Deepest nesting of a value this end sends or receives; 64 by default.
   * Deeper is refused with `ObjectErrorCode.TooDeep`.
   */
  readonly maxDepth?: number;
  /** Told about bad release notifications and failed releases. */
  readonly onError?: (error: unknown) => void;
  /**
   * How references travel: `"tagged"` (the default) as tagged plain objects,
   * for any codec; `"extension"` as the msgpack extension type of
   * `referenceExtension` (register it with the msgpack codec on both ends).
   */
  readonly references?: "tagged" | "extension";
}

/**
 * Any function.
 *
 * @example
 * ```ts
 * import type { AnyFunction } from "./types.ts";
 * const f: AnyFunction = (a: number, b: string) => `${a}${b}`;
 * console.assert(f(1, "x") === "1x");
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyFunction = (...args: any[]) => any;

/**
 * Whether `T` has a function-valued member: such objects travel by reference.
 *
 * @example
 * ```ts
 * import type { HasMethods } from "./types.ts";
 * const byReference: HasMethods<{ run(): void }> = true;
 * const byValue: HasMethods<{ x: number }> = false;
 * console.assert(byReference && !byValue);
 * ```
 */
export type HasMethods<T> =
  { [K in keyof T]: T[K] extends AnyFunction ? true : never }[keyof T] extends never ? false
    : true;

/**
 * The members of a remote object: methods to call, properties to await.
 *
 * @example
 * ```ts
 * import type { RemoteMembers } from "./types.ts";
 * type Members = RemoteMembers<{ name: string; greet(): string }>;
 * const greet = (members: Members) => members.greet(); // a RemotePromise<string>
 * console.assert(typeof greet === "function");
 * ```
 */
export type RemoteMembers<T> = {
  readonly [K in keyof T]: T[K] extends AnyFunction ? RemoteMethod<T[K]> : RemoteProperty<T[K]>;
};

/**
 * A remote method: its arguments, and a {@linkcode RemotePromise} of its result.
 *
 * @example
 * ```ts
 * import type { RemoteMethod } from "./types.ts";
 * type Add = RemoteMethod<(a: number, b: number) => number>;
 * const sum = async (add: Add) => await add(1, 2); // a number
 * console.assert(typeof sum === "function");
 * ```
 */
export type RemoteMethod<F extends AnyFunction> = (
  ...args: Parameters<F>
) => RemotePromise<Awaited<ReturnType<F>>>;

/**
 * `catch` and `finally` of a call's result, as on a promise.
 *
 * @example
 * ```ts
 * import type { Settling } from "./types.ts";
 * const settling: Settling<number> = Promise.resolve(1);
 * console.assert(await settling.finally(() => {}) === 1);
 * ```
 */
export type Settling<T> = {
  /** As `Promise.prototype.catch`. */
  // deno-lint-ignore no-explicit-any
  catch<R = never>(onRejected: (reason: any) => R | PromiseLike<R>): Promise<T | R>;
  /** As `Promise.prototype.finally`. */
  finally(onFinally: () => void): Promise<T>;
};

/**
 * A remote property: awaited for its value, or reached through for pipelining.
 *
 * @example
 * ```ts
 * import type { RemoteProperty } from "./types.ts";
 * const read = async (version: RemoteProperty<string>) => await version;
 * console.assert(typeof read === "function");
 * ```
 */
export type RemoteProperty<V> =
  & PromiseLike<Received<V>>
  & Settling<Received<V>>
  & (V extends object ? RemoteMembers<V> : unknown);

/**
 * The client's view of a remote object (or function): every member is
 * reached asynchronously; methods return {@linkcode RemotePromise}s,
 * properties are awaited. `using` (or `ObjectSession.release`) releases it.
 * The proxy itself is not a promise: `await proxy` gives the proxy.
 *
 * @example
 * ```ts
 * import type { Remote } from "./types.ts";
 * class Counter { increment(by: number) { return by; } }
 * const bump = async (counter: Remote<Counter>) => await counter.increment(1);
 * console.assert(typeof bump === "function");
 * ```
 */
export type Remote<T> = T extends AnyFunction ? RemoteMethod<T> & Disposable
  : RemoteMembers<T> & Disposable;

/**
 * The result of a remote call: awaitable, and usable for pipelining before it arrives.
 *
 * @example
 * ```ts
 * import type { RemotePromise } from "./types.ts";
 * type Step = { next(): Step; value(): number };
 * const third = (first: RemotePromise<Step>) => first.next().value(); // one round trip
 * console.assert(typeof third === "function");
 * ```
 */
export type RemotePromise<T> =
  & PromiseLike<Received<T>>
  & Settling<Received<T>>
  & (T extends object ? RemoteMembers<T> : unknown);

/**
 * What a value of type `T` is once received: objects with methods (and
 * functions) arrive as proxies, plain data as it is.
 *
 * @example
 * ```ts
 * import type { Received } from "./types.ts";
 * const point: Received<{ x: number }> = { x: 1 }; // plain data arrives as it is
 * console.assert(point.x === 1);
 * ```
 */
export type Received<T> = T extends AnyFunction ? Remote<T>
  : T extends readonly (infer E)[] ? Received<E>[]
  : T extends Uint8Array | Date | Map<unknown, unknown> | Set<unknown> ? T
  : T extends AsyncIterable<infer E> ? AsyncIterable<Received<E>>
  : T extends object ? (HasMethods<T> extends true ? Remote<T> : T)
  : T;
