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
 * @example A peer is an object caller: what a session sends through it
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ObjectCaller } from "./types.ts";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * const served = new ObjectSession({ root: { ping: () => "pong" } });
 * const [a, b] = memoryPair();
 * served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
 * await using peer = new Peer(b, { codec: jsonRpc() });
 * const caller: ObjectCaller = peer;
 * // `$/call`: a target (null, the root), a path and the arguments
 * assert.equal(await caller.call("$/call", [null, ["ping"], []]), "pong");
 * ```
 */
export interface ObjectCaller {
  /**
   * Calls a method of the other end; `options.timeout` (`Infinity`: none)
   * overrides the peer's default for this call.
   */
  call<T = unknown>(
    method: string,
    params?: readonly unknown[],
    options?: { readonly timeout?: number },
  ): Promise<T>;
  /** Sends a notification to the other end. */
  notify(method: string, params?: readonly unknown[]): Promise<void>;
  /** Settles when the connection is closed. */
  readonly closed?: Promise<unknown>;
}

/**
 * Options of `ObjectSession`. The limits default to those of
 * `DEFAULT_LIMITS` (`rpc/limits.ts`), where they are `RpcLimits` too.
 *
 * @example A root, and a tighter bound on nesting
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ObjectSessionOptions } from "./types.ts";
 * import { ObjectErrorCode } from "./errors.ts";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * const root = { echo: (value: unknown) => value };
 * const options: ObjectSessionOptions = { root, maxDepth: 4 };
 * const [a, b] = memoryPair();
 * const served = new ObjectSession(options);
 * served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
 * const used = new ObjectSession();
 * await using peer = new Peer(b, { codec: jsonRpc(), service: used.service });
 * used.attach(peer);
 * const api = used.root<typeof root>();
 * assert.deepEqual(await api.echo([[1]]), [[1]]);
 * await assert.rejects(async () => await api.echo([[[[[[[[1]]]]]]]]), {
 *   name: "RpcError",
 *   code: ObjectErrorCode.TooDeep,
 * });
 * // A limit that is not a positive integer is refused when the session is made.
 * assert.throws(() => new ObjectSession({ root, maxDepth: 0 }), RangeError);
 * ```
 */
export interface ObjectSessionOptions {
  /** What the other end reaches as its root (target `null`). */
  readonly root?: unknown;
  /**
   * Most objects this end exports on the connection at once, and most
   * outcomes of the other end's calls it keeps for pipelining; 10,000 by
   * default. More are refused with `ObjectErrorCode.TooManyExports`. A
   * positive integer (else a `RangeError` when the session is made).
   */
  readonly maxExports?: number;
  /**
   * Deepest nesting of a value this end sends or receives; 64 by default.
   * Deeper is refused with `ObjectErrorCode.TooDeep`. A positive integer
   * (else a `RangeError` when the session is made).
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
  /**
   * Items of credit a stream read from the other end grants at once: the
   * producer pushes up to that many ahead of the reader, which grants more
   * each time it has read half of them, so it never holds more than this
   * many; 1,024 by default (docs/benchmarks.md), at most 65,536. `0` pulls one item per round trip,
   * as a peer that grants no credit does. An integer (else a `RangeError`
   * when the session is made).
   */
  readonly streamWindow?: number;
}

/**
 * Any function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AnyFunction } from "./types.ts";
 * const f: AnyFunction = (a: number, b: string) => `${a}${b}`;
 * assert.equal(f(1, "x"), "1x");
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyFunction = (...args: any[]) => any;

/**
 * Whether `T` has a function-valued member: such objects travel by reference.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { HasMethods } from "./types.ts";
 * // Checked by the compiler: the other literal would not type-check.
 * const byReference: HasMethods<{ run(): void }> = true;
 * const byValue: HasMethods<{ x: number }> = false;
 * assert.deepEqual([byReference, byValue], [true, false]);
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
 * import assert from "node:assert/strict";
 * import type { RemoteMembers } from "./types.ts";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * const root = { name: "greeter", greet: (who: string) => `hello ${who}` };
 * const [a, b] = memoryPair();
 * const served = new ObjectSession({ root });
 * served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
 * const used = new ObjectSession();
 * await using peer = new Peer(b, { codec: jsonRpc(), service: used.service });
 * used.attach(peer);
 * const members: RemoteMembers<typeof root> = used.root<typeof root>();
 * assert.equal(await members.name, "greeter"); // a property, awaited
 * assert.equal(await members.greet("Ada"), "hello Ada"); // a method, called
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
 * import assert from "node:assert/strict";
 * import type { RemoteMethod } from "./types.ts";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * const root = { add: (x: number, y: number) => x + y };
 * const [a, b] = memoryPair();
 * const served = new ObjectSession({ root });
 * served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
 * const used = new ObjectSession();
 * await using peer = new Peer(b, { codec: jsonRpc(), service: used.service });
 * used.attach(peer);
 * const add: RemoteMethod<typeof root.add> = used.root<typeof root>().add;
 * assert.equal(await add(1, 2), 3);
 * ```
 */
export type RemoteMethod<F extends AnyFunction> = (
  ...args: Parameters<F>
) => RemotePromise<Awaited<ReturnType<F>>>;

/**
 * `catch` and `finally` of a call's result, as on a promise.
 *
 * @example A remote failure caught
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Settling } from "./types.ts";
 * import { RpcError } from "../errors.ts";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * const root = { fail: (): number => { throw new RpcError(4, "out of paper"); } };
 * const [a, b] = memoryPair();
 * const served = new ObjectSession({ root });
 * served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
 * const used = new ObjectSession();
 * await using peer = new Peer(b, { codec: jsonRpc(), service: used.service });
 * used.attach(peer);
 * const settling: Settling<number> = used.root<typeof root>().fail();
 * assert.equal(await settling.catch((error: RpcError) => error.message), "out of paper");
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
 * import assert from "node:assert/strict";
 * import type { RemoteProperty } from "./types.ts";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * const root = { config: { version: "1.2", limits: { users: 3 } } };
 * const [a, b] = memoryPair();
 * const served = new ObjectSession({ root });
 * served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
 * const used = new ObjectSession();
 * await using peer = new Peer(b, { codec: jsonRpc(), service: used.service });
 * used.attach(peer);
 * const config: RemoteProperty<typeof root.config> = used.root<typeof root>().config;
 * assert.equal(await config.limits.users, 3); // reached through, one round trip
 * assert.deepEqual(await config, root.config); // awaited: plain data, by value
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
 * @example A proxy released when its block ends
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Remote } from "./types.ts";
 * import { exposed } from "./expose.ts";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * class Counter {
 *   #n = 0;
 *   @exposed increment(by: number) { return this.#n += by; }
 * }
 * const root = { counter: () => new Counter() };
 * const [a, b] = memoryPair();
 * const served = new ObjectSession({ root });
 * served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
 * const used = new ObjectSession();
 * await using peer = new Peer(b, { codec: jsonRpc(), service: used.service });
 * used.attach(peer);
 * {
 *   using counter: Remote<Counter> = await used.root<typeof root>().counter();
 *   assert.equal(await counter.increment(2), 2);
 *   assert.equal(used.importCount, 1);
 * }
 * assert.equal(used.importCount, 0);
 * ```
 */
export type Remote<T> = T extends AnyFunction ? RemoteMethod<T> & Disposable
  : RemoteMembers<T> & Disposable;

/**
 * The result of a remote call: awaitable, and usable for pipelining before it arrives.
 *
 * @example Pipelining: calls on a result that has not arrived
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RemotePromise } from "./types.ts";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * type Step = { next(): Step; value(): number };
 * const step = (n: number): Step => ({ next: () => step(n + 1), value: () => n });
 * const root = { start: () => step(0) };
 * const [a, b] = memoryPair();
 * const served = new ObjectSession({ root });
 * served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
 * const used = new ObjectSession();
 * await using peer = new Peer(b, { codec: jsonRpc(), service: used.service });
 * used.attach(peer);
 * const first: RemotePromise<Step> = used.root<typeof root>().start();
 * assert.equal(await first.next().next().value(), 2); // sent before `first` arrived
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
 * import assert from "node:assert/strict";
 * import type { Received } from "./types.ts";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * const root = {
 *   point: () => ({ x: 1, y: 2 }),
 *   counter: () => ({ increment: (n: number) => n + 1 }),
 * };
 * const [a, b] = memoryPair();
 * const served = new ObjectSession({ root });
 * served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
 * const used = new ObjectSession();
 * await using peer = new Peer(b, { codec: jsonRpc(), service: used.service });
 * used.attach(peer);
 * const api = used.root<typeof root>();
 * const point: Received<{ x: number; y: number }> = await api.point();
 * assert.deepEqual(point, { x: 1, y: 2 }); // plain data arrives as it is
 * const counter: Received<{ increment(n: number): number }> = await api.counter();
 * assert.equal(await counter.increment(1), 2); // an object with methods, as a proxy
 * ```
 */
export type Received<T> = T extends AnyFunction ? Remote<T>
  : T extends readonly (infer E)[] ? Received<E>[]
  : T extends Uint8Array | Date | Map<unknown, unknown> | Set<unknown> ? T
  : T extends AsyncIterable<infer E> ? AsyncIterable<Received<E>>
  : T extends object ? (HasMethods<T> extends true ? Remote<T> : T)
  : T;
