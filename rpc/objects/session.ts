/**
 * Remote objects over a peer, in the spirit of RPyC: one end's objects used
 * from the other as proxies, functions passed as callbacks, references
 * counted per connection and released explicitly or when garbage-collected,
 * async iterables consumed with `for await`, and promise pipelining (a call
 * on the result of a call that has not returned yet goes out at once). The
 * wire protocol is in `docs/protocol.md` ("Remote objects"): ordinary calls
 * (`$/call`, `$/get`, `$/release`) with tagged values, over any codec.
 *
 * @module
 */

import { RpcError } from "../errors.ts";
import { type CallContext, contextHandlerOf, type Service, withContext } from "../service.ts";
import { isExposed, isPlainObject } from "./expose.ts";
import { ReferenceTag } from "./extension.ts";

/** What a session sends its calls through: a `Peer`. */
export interface ObjectCaller {
  /** Calls a method of the other end. */
  call<T = unknown>(method: string, params?: readonly unknown[]): Promise<T>;
  /** Sends a notification to the other end. */
  notify(method: string, params?: readonly unknown[]): Promise<void>;
  /** Settles when the connection is closed. */
  readonly closed?: Promise<unknown>;
}

/** Error codes of the remote-objects protocol. */
export const ObjectErrorCode = {
  /** Unknown or released reference (or answer). */
  UnknownReference: -32001,
  /** The member is not exposed, or does not exist. */
  NotExposed: -32002,
  /** Too many exports on this connection. */
  TooManyExports: -32000,
} as const;

/** Options of {@linkcode ObjectSession}. */
export interface ObjectSessionOptions {
  /** What the other end reaches as its root (target `null`). */
  readonly root?: unknown;
  /** Most objects this end exports on the connection at once; 10,000 by default. */
  readonly maxExports?: number;
  /** Told about bad release notifications and failed releases. */
  readonly onError?: (error: unknown) => void;
  /**
   * How references travel: `"tagged"` (the default) as tagged plain objects,
   * for any codec; `"extension"` as the msgpack extension type of
   * `referenceExtension` (register it with the msgpack codec on both ends).
   */
  readonly references?: "tagged" | "extension";
}

/** Any function. */
// deno-lint-ignore no-explicit-any
export type AnyFunction = (...args: any[]) => any;
/** Whether `T` has a function-valued member: such objects travel by reference. */
export type HasMethods<T> =
  { [K in keyof T]: T[K] extends AnyFunction ? true : never }[keyof T] extends never ? false
    : true;
/** The members of a remote object: methods to call, properties to await. */
export type RemoteMembers<T> = {
  readonly [K in keyof T]: T[K] extends AnyFunction ? RemoteMethod<T[K]> : RemoteProperty<T[K]>;
};
/** A remote method: its arguments, and a {@linkcode RemotePromise} of its result. */
export type RemoteMethod<F extends AnyFunction> = (
  ...args: Parameters<F>
) => RemotePromise<Awaited<ReturnType<F>>>;
/** `catch` and `finally` of a call's result, as on a promise. */
export type Settling<T> = {
  /** As `Promise.prototype.catch`. */
  // deno-lint-ignore no-explicit-any
  catch<R = never>(onRejected: (reason: any) => R | PromiseLike<R>): Promise<T | R>;
  /** As `Promise.prototype.finally`. */
  finally(onFinally: () => void): Promise<T>;
};
/** A remote property: awaited for its value, or reached through for pipelining. */
export type RemoteProperty<V> =
  & PromiseLike<Received<V>>
  & Settling<Received<V>>
  & (V extends object ? RemoteMembers<V> : unknown);

/**
 * The client's view of a remote object (or function): every member is
 * reached asynchronously; methods return {@linkcode RemotePromise}s,
 * properties are awaited. `using` (or `ObjectSession.release`) releases it.
 * The proxy itself is not a promise: `await proxy` gives the proxy.
 */
export type Remote<T> = T extends AnyFunction ? RemoteMethod<T> & Disposable
  : RemoteMembers<T> & Disposable;

/** The result of a remote call: awaitable, and usable for pipelining before it arrives. */
export type RemotePromise<T> =
  & PromiseLike<Received<T>>
  & Settling<Received<T>>
  & (T extends object ? RemoteMembers<T> : unknown);

/**
 * What a value of type `T` is once received: objects with methods (and
 * functions) arrive as proxies, plain data as it is.
 */
export type Received<T> = T extends AnyFunction ? Remote<T>
  : T extends readonly (infer E)[] ? Received<E>[]
  : T extends Uint8Array | Date | Map<unknown, unknown> | Set<unknown> ? T
  : T extends AsyncIterable<infer E> ? AsyncIterable<Received<E>>
  : T extends object ? (HasMethods<T> extends true ? Remote<T> : T)
  : T;

type Target = null | { readonly $you: number } | { readonly $answer: number };
type Entry = readonly [kind: "ref" | "answer", id: number, count: number];

interface Export {
  readonly value: unknown;
  count: number;
}

interface Import {
  readonly proxy: WeakRef<object>;
  received: number;
}

interface StubMeta {
  readonly session: ObjectSession;
  readonly target: Target;
  readonly path: readonly string[];
  /** For imports: their id; for answers: theirs. */
  readonly kind: "import" | "answer" | "root";
  readonly id: number;
}

const stubs = new WeakMap<object, StubMeta>();
const released = new WeakSet<object>();

/** Exports async iterables: the other end pulls with `next` and stops with `return`. */
class ExportedIterator {
  readonly #iterator: AsyncIterator<unknown>;
  constructor(iterable: AsyncIterable<unknown>) {
    this.#iterator = iterable[Symbol.asyncIterator]();
  }
  next(): Promise<IteratorResult<unknown>> {
    return this.#iterator.next();
  }
  async return(): Promise<IteratorResult<unknown>> {
    return await this.#iterator.return?.() ?? { done: true, value: undefined };
  }
}
const ITERATOR_MEMBERS = new Set(["next", "return"]);

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] ===
    "function";
}

// Values the codec carries as they are.
function isCodecValue(value: object): boolean {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date ||
    value instanceof Map || value instanceof Set;
}

function unknownReference(what: string): RpcError {
  return new RpcError(ObjectErrorCode.UnknownReference, `Unknown or released reference: ${what}`);
}

function notExposed(name: unknown): RpcError {
  return new RpcError(ObjectErrorCode.NotExposed, `"${String(name)}" is not exposed`);
}

/**
 * One connection's remote objects: serve `session.service` on the peer (the
 * `service` option), {@linkcode ObjectSession.attach} the peer, then use
 * {@linkcode ObjectSession.root}. Both ends may export objects; each keeps
 * its own session.
 *
 * @example A callback called back over the same connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * const root = {
 *   work: async (steps: number, progress: (step: number) => unknown) => {
 *     for (let i = 1; i <= steps; i++) await progress(i);
 *     return "done";
 *   },
 * };
 * const [a, b] = memoryPair();
 * const served = new ObjectSession({ root });
 * served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
 * const used = new ObjectSession();
 * const peer = new Peer(b, { codec: jsonRpc(), service: used.service });
 * used.attach(peer);
 * const api = used.root<typeof root>();
 * const seen: number[] = [];
 * assert.equal(await api.work(3, (step) => { seen.push(step); }), "done");
 * assert.deepEqual(seen, [1, 2, 3]);
 * await peer.close();
 * ```
 */
export class ObjectSession {
  /** Serve it on the peer: the `$/call`, `$/get` and `$/release` methods. */
  readonly service: Service;
  readonly #root: unknown;
  readonly #maxExports: number;
  readonly #onError: (error: unknown) => void;
  readonly #extension: boolean;
  #caller: ObjectCaller | (() => ObjectCaller) | undefined;

  // What this end exports, by id and by value.
  readonly #exports = new Map<number, Export>();
  readonly #exportIds = new Map<unknown, number>();
  #nextExport = 1;
  // What this end imports, by the other end's id; collected proxies release themselves.
  readonly #imports = new Map<number, Import>();
  readonly #finalizer = new FinalizationRegistry<number>((id) => this.#collected(id));
  // The outcomes of the other end's calls, kept for its pipelined calls.
  readonly #answers = new Map<number, Promise<unknown>>();
  #nextAnswer = 1;
  #releases: Entry[] = [];
  #flushing = false;
  #closed = false;

  /**
   * Creates a session.
   *
   * @param options the root the other end reaches, limits
   */
  constructor(options: ObjectSessionOptions = {}) {
    this.#root = options.root;
    this.#maxExports = options.maxExports ?? 10_000;
    this.#onError = options.onError ?? (() => {});
    this.#extension = options.references === "extension";
    this.service = {
      "$/call": withContext((ctx: CallContext, ...params: unknown[]) =>
        this.#serveCall(ctx, params)
      ),
      "$/get": (...params: unknown[]) => this.#serveGet(params),
      "$/release": (...params: unknown[]) => this.#serveRelease(params),
    };
  }

  /**
   * Sends this session's calls through `caller` (a `Peer`, or a function that
   * returns it once it exists). Everything exported is dropped when its
   * connection closes.
   *
   * @param caller the peer
   */
  attach(caller: ObjectCaller | (() => ObjectCaller)): void {
    this.#caller = caller;
    queueMicrotask(() => {
      try {
        void this.#peer().closed?.then(() => this.close(), () => this.close());
      } catch {
        // Not available yet: the transport drops the session with the connection.
      }
    });
  }

  /** How many objects this end exports on the connection. */
  get exportCount(): number {
    return this.#exports.size;
  }

  /** How many of the other end's objects this end holds proxies for. */
  get importCount(): number {
    return this.#imports.size;
  }

  /** How many of the other end's call outcomes this end keeps for pipelining. */
  get answerCount(): number {
    return this.#answers.size;
  }

  /**
   * A proxy of the other end's root object.
   *
   * @typeParam T the root's type, as the other end defines it
   * @returns the proxy: `await root.name`, `root.method(args)`
   */
  root<T>(): Remote<T> {
    return this.#stub(null, [], "root", 0) as Remote<T>;
  }

  /**
   * Releases a proxy now instead of when it is garbage-collected: the other
   * end may forget the object. Using the proxy afterwards is an error.
   *
   * @param proxy a proxy this session made
   */
  release(proxy: unknown): void {
    const meta = typeof proxy === "object" || typeof proxy === "function"
      ? stubs.get(proxy as object)
      : undefined;
    if (meta === undefined || meta.session !== this || meta.kind !== "import") return;
    if (released.has(proxy as object)) return;
    released.add(proxy as object);
    this.#finalizer.unregister(proxy as object);
    const entry = this.#imports.get(meta.id);
    if (entry === undefined) return;
    this.#imports.delete(meta.id);
    this.#queueRelease(["ref", meta.id, entry.received]);
  }

  /** Drops everything: exports, answers, imports (their proxies fail from now on). */
  close(): void {
    this.#closed = true;
    this.#exports.clear();
    this.#exportIds.clear();
    this.#answers.clear();
    this.#imports.clear();
    this.#releases = [];
  }

  #peer(): ObjectCaller {
    const caller = typeof this.#caller === "function" ? this.#caller() : this.#caller;
    if (caller === undefined) throw new Error("The object session is not attached to a peer");
    return caller;
  }

  // ----------------------------------------------------------- values out

  /** A reference tag in this session's form. */
  #tag(tag: Record<string, unknown>): unknown {
    return this.#extension ? new ReferenceTag(tag) : tag;
  }

  #export(value: unknown, type: "object" | "function" | "iterator"): unknown {
    let id = this.#exportIds.get(value);
    if (id === undefined) {
      if (this.#exports.size >= this.#maxExports) {
        throw new RpcError(
          ObjectErrorCode.TooManyExports,
          `Too many objects exported on this connection (limit ${this.#maxExports})`,
        );
      }
      id = this.#nextExport++;
      this.#exports.set(id, { value, count: 0 });
      this.#exportIds.set(value, id);
    }
    this.#exports.get(id)!.count++;
    return this.#tag({ $ref: id, type });
  }

  /** A value as it travels: plain data as it is, objects with behaviour by reference. */
  #toWire(value: unknown, depth = 0): unknown {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) return value;
    if (depth > 64) throw new RangeError("A value nested deeper than 64 levels");
    const meta = stubs.get(value as object);
    if (meta !== undefined) {
      if (meta.session !== this) {
        throw new TypeError("A reference from another connection cannot be passed on");
      }
      if (released.has(value as object)) throw new Error("This remote reference was released");
      if (meta.kind === "import") return this.#tag({ $you: meta.id });
      if (meta.kind === "answer" && meta.path.length === 0) return this.#tag({ $answer: meta.id });
      throw new TypeError("Only remote objects and call results can be passed back");
    }
    if (typeof value === "function") return this.#export(value, "function");
    if (Array.isArray(value)) return value.map((item) => this.#toWire(item, depth + 1));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      let escape = false;
      for (const [key, item] of Object.entries(value)) {
        // With the extension, a map is never a reference: nothing to escape.
        if (key.startsWith("$") && !this.#extension) escape = true;
        out[key] = this.#toWire(item, depth + 1);
      }
      return escape ? { $esc: out } : out;
    }
    if (isCodecValue(value as object)) return value;
    if (isAsyncIterable(value)) return this.#export(new ExportedIterator(value), "iterator");
    return this.#export(value, "object");
  }

  // ------------------------------------------------------------ values in

  /** A value as it arrived: references become proxies (or this end's own objects). */
  #fromWire(value: unknown, answers: Promise<unknown>[] | undefined, depth = 0): unknown {
    if (value === null || typeof value !== "object") return value;
    if (value instanceof ReferenceTag) return this.#fromTag(value.tag, answers);
    if (depth > 64) throw new RpcError(-32602, "A value nested deeper than 64 levels");
    if (Array.isArray(value)) return value.map((item) => this.#fromWire(item, answers, depth + 1));
    if (!isPlainObject(value)) return value;
    const keys = Object.keys(value);
    if (!this.#extension && keys.length === 1 && keys[0] === "$esc" && isPlainObject(value.$esc)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value.$esc)) {
        out[key] = this.#fromWire(item, answers, depth + 1);
      }
      return out;
    }
    const tagged = !this.#extension &&
      ((typeof value.$ref === "number" && keys.every((k) => k === "$ref" || k === "type")) ||
        (keys.length === 1 &&
          (typeof value.$you === "number" || typeof value.$answer === "number")));
    if (tagged) return this.#fromTag(value, answers);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = this.#fromWire(item, answers, depth + 1);
    }
    return out;
  }

  // A tag's meaning on this end: a proxy, this end's own object, or an answer.
  #fromTag(
    tag: Readonly<Record<string, unknown>>,
    answers: Promise<unknown>[] | undefined,
  ): unknown {
    if (typeof tag.$ref === "number") return this.#import(tag.$ref, tag.type);
    if (typeof tag.$you === "number") {
      const entry = this.#exports.get(tag.$you);
      if (entry === undefined) throw unknownReference(`$you ${tag.$you}`);
      return entry.value;
    }
    if (typeof tag.$answer === "number") {
      if (answers === undefined) throw new RpcError(-32602, "An answer cannot travel in a result");
      const answer = this.#answers.get(tag.$answer);
      if (answer === undefined) throw unknownReference(`$answer ${tag.$answer}`);
      answers.push(answer);
      return new AnswerSlot(answer);
    }
    throw new RpcError(-32602, "Invalid params: an unknown reference tag");
  }

  #import(id: number, type: unknown): object {
    const existing = this.#imports.get(id);
    const alive = existing?.proxy.deref();
    if (existing !== undefined && alive !== undefined) {
      existing.received++;
      return alive;
    }
    const proxy = type === "iterator"
      ? this.#iteratorProxy(id)
      : this.#stub({ $you: id }, [], "import", id);
    this.#imports.set(id, { proxy: new WeakRef(proxy), received: (existing?.received ?? 0) + 1 });
    this.#finalizer.register(proxy, id, proxy);
    return proxy;
  }

  #collected(id: number): void {
    const entry = this.#imports.get(id);
    if (entry === undefined || entry.proxy.deref() !== undefined) return;
    this.#imports.delete(id);
    this.#queueRelease(["ref", id, entry.received]);
  }

  #queueRelease(entry: Entry): void {
    if (this.#closed) return;
    this.#releases.push(entry);
    if (this.#flushing) return;
    this.#flushing = true;
    // Releases are batched: one notification for all that a turn dropped.
    setTimeout(() => {
      this.#flushing = false;
      const entries = this.#releases;
      this.#releases = [];
      if (entries.length === 0 || this.#closed) return;
      try {
        this.#peer().notify("$/release", entries).catch(this.#onError);
      } catch (error) {
        this.#onError(error);
      }
    }, 0);
  }

  // -------------------------------------------------------------- serving

  #target(wire: unknown): unknown {
    const target = wire instanceof ReferenceTag ? wire.tag : wire;
    if (target === null || target === undefined) {
      if (this.#root === undefined) throw unknownReference("this end serves no root object");
      return this.#root;
    }
    if (isPlainObject(target) && typeof target.$you === "number") {
      const entry = this.#exports.get(target.$you);
      if (entry === undefined) throw unknownReference(`$you ${target.$you}`);
      return entry.value;
    }
    if (isPlainObject(target) && typeof target.$answer === "number") {
      const answer = this.#answers.get(target.$answer);
      if (answer === undefined) throw unknownReference(`$answer ${target.$answer}`);
      return answer;
    }
    throw new RpcError(-32602, "Invalid params: a target is null, {$you} or {$answer}");
  }

  #member(holder: unknown, name: unknown): unknown {
    if (
      holder instanceof ExportedIterator && typeof name === "string" && ITERATOR_MEMBERS.has(name)
    ) {
      return (holder as unknown as Record<string, unknown>)[name];
    }
    if (!isExposed(holder, name)) throw notExposed(name);
    return (holder as Record<string, unknown>)[name as string];
  }

  #serveCall(ctx: CallContext, params: unknown[]): Promise<unknown> {
    const [target, path, args, answer] = params;
    if (
      !Array.isArray(path) || !Array.isArray(args) || params.length > 4 ||
      (answer !== undefined && !Number.isSafeInteger(answer))
    ) {
      throw new RpcError(-32602, "Invalid params: $/call takes [target, path, args, answer?]");
    }
    // Everything the call refers to is looked up now, in the order calls
    // arrive, so that a release that follows cannot take it away.
    this.#roomForAnswer(answer);
    const base = this.#target(target);
    const pending: Promise<unknown>[] = [];
    const decoded = this.#fromWire(args, pending) as unknown[];
    const outcome = (async () => {
      let holder = await base;
      if (pending.length > 0) await Promise.all(pending);
      const values = pending.length === 0 ? decoded : await fill(decoded) as unknown[];
      let fn: unknown = holder;
      for (let i = 0; i < path.length; i++) {
        holder = fn;
        fn = this.#member(holder, path[i]);
        if (i < path.length - 1) fn = await fn;
      }
      if (typeof fn !== "function") throw notExposed(path.at(-1) ?? "(the target)");
      const self = path.length === 0 ? undefined : holder;
      // A method marked withContext gets the call's context: its signal fires
      // when the caller cancels or the connection drops.
      const contextual = contextHandlerOf(fn);
      if (contextual !== undefined) return await contextual.call(self, ctx, ...values);
      return await (fn as (...args: unknown[]) => unknown).apply(self, values);
    })();
    if (typeof answer === "number") this.#keepAnswer(answer, outcome);
    return outcome.then((result) => this.#toWire(result));
  }

  async #serveGet(params: unknown[]): Promise<unknown> {
    const [target, path, answer] = params;
    if (!Array.isArray(path) || path.length === 0 || params.length > 3) {
      throw new RpcError(-32602, "Invalid params: $/get takes [target, path, answer?]");
    }
    this.#roomForAnswer(answer);
    const base = this.#target(target);
    const outcome = (async () => {
      let holder: unknown = await base;
      let value: unknown = holder;
      for (const name of path) {
        holder = value;
        value = await this.#member(holder, name);
      }
      // A method read without calling it stays bound to its object.
      return typeof value === "function" ? value.bind(holder) : value;
    })();
    if (typeof answer === "number") this.#keepAnswer(answer, outcome);
    return this.#toWire(await outcome);
  }

  // Outcomes are kept for pipelined calls until the caller releases them,
  // within the same limit as exports: a caller that never releases cannot
  // grow the table forever. Checked before the call runs.
  #roomForAnswer(answer: unknown): void {
    if (typeof answer !== "number" || this.#answers.has(answer)) return;
    if (this.#answers.size >= this.#maxExports) {
      throw new RpcError(
        ObjectErrorCode.TooManyExports,
        `Too many call results kept on this connection (limit ${this.#maxExports})`,
      );
    }
  }

  #keepAnswer(answer: number, outcome: Promise<unknown>): void {
    outcome.catch(() => {});
    this.#answers.set(answer, outcome);
  }

  #serveRelease(params: unknown[]): void {
    for (const entry of params) {
      if (!Array.isArray(entry) || entry.length !== 3 || typeof entry[1] !== "number") {
        this.#onError(new RpcError(-32602, "A $/release entry is [kind, id, count]"));
        continue;
      }
      const [kind, id, count] = entry;
      if (kind === "answer") {
        this.#answers.delete(id);
      } else if (kind === "ref") {
        const exported = this.#exports.get(id);
        if (exported === undefined) continue;
        exported.count -= typeof count === "number" && count > 0 ? count : 1;
        if (exported.count <= 0) {
          this.#exports.delete(id);
          this.#exportIds.delete(exported.value);
        }
      }
    }
  }

  // --------------------------------------------------------------- calling

  #call(target: Target, path: readonly string[], args: readonly unknown[]): object {
    const id = this.#nextAnswer++;
    const wireArgs = args.map((arg) => this.#toWire(arg));
    const promise = this.#peer().call("$/call", [this.#wireTarget(target), path, wireArgs, id])
      .then((result) => this.#fromWire(result, undefined));
    const state: AnswerState = { promise, settled: false, value: undefined };
    promise.then((value) => {
      state.settled = true;
      state.value = value;
    }, () => {
      state.settled = true;
    }).finally(() => this.#queueRelease(["answer", id, 1]));
    return this.#stub({ $answer: id }, [], "answer", id, state);
  }

  #get(target: Target, path: readonly string[]): Promise<unknown> {
    return this.#peer().call("$/get", [this.#wireTarget(target), path]).then((result) =>
      this.#fromWire(result, undefined)
    );
  }

  #wireTarget(target: Target): unknown {
    return target === null ? null : this.#tag(target as Record<string, unknown>);
  }

  #stub(
    target: Target,
    path: readonly string[],
    kind: StubMeta["kind"],
    id: number,
    answer?: AnswerState,
  ): object {
    const check = (proxy: object) => {
      if (released.has(proxy)) throw new Error("This remote reference was released");
      if (this.#closed) throw new Error("The connection of this remote reference is closed");
    };
    // A call result that has arrived and is a remote object: later use goes to it directly.
    const resolved = (): StubMeta | undefined => {
      if (answer?.settled !== true) return undefined;
      const value = answer.value;
      return (typeof value === "object" || typeof value === "function") && value !== null
        ? stubs.get(value as object)
        : undefined;
    };
    const proxy: object = new Proxy(function () {}, {
      get: (_, key) => {
        if (key === "then") {
          // A remote object itself is not awaitable: `await proxy` gives the proxy.
          if (path.length === 0 && kind !== "answer") return undefined;
          return (resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown) => {
            try {
              check(proxy);
            } catch (error) {
              return Promise.reject(error).then(resolve, reject);
            }
            const value = path.length === 0 ? answer!.promise : this.#get(target, path);
            return value.then(resolve, reject);
          };
        }
        // A call's result (or a property) is a promise: catch and finally too.
        if ((key === "catch" || key === "finally") && (path.length > 0 || kind === "answer")) {
          const settled = () => (proxy as PromiseLike<unknown>).then((v) => v);
          return key === "catch"
            ? (onRejected: (e: unknown) => unknown) => Promise.resolve(settled()).catch(onRejected)
            : (onFinally: () => void) => Promise.resolve(settled()).finally(onFinally);
        }
        if (key === Symbol.dispose) return () => this.release(proxy);
        if (key === Symbol.asyncDispose) return () => Promise.resolve(this.release(proxy));
        if (typeof key === "symbol") return undefined;
        const forward = resolved();
        if (forward !== undefined) {
          return this.#stub(
            forward.target,
            [...forward.path, ...path, key],
            forward.kind,
            forward.id,
          );
        }
        return this.#stub(target, [...path, key], kind, id, answer);
      },
      apply: (_, _this, args) => {
        check(proxy);
        const forward = resolved();
        if (forward !== undefined) {
          return this.#call(forward.target, [...forward.path, ...path], args);
        }
        return this.#call(target, path, args);
      },
      set: () => false,
    });
    stubs.set(proxy, { session: this, target, path, kind, id });
    return proxy;
  }

  #iteratorProxy(id: number): object {
    const target = { $you: id };
    const iterable = {
      [Symbol.asyncIterator]: (): AsyncIterator<unknown> => {
        let done = false;
        return {
          next: async () => {
            if (done) return { done: true, value: undefined };
            const step = await this.#peer().call("$/call", [this.#wireTarget(target), ["next"], []])
              .then((r) => this.#fromWire(r, undefined)) as IteratorResult<unknown>;
            if (step.done) {
              done = true;
              this.release(iterable);
            }
            return step;
          },
          return: async (value?: unknown) => {
            if (!done) {
              done = true;
              // Leaving the loop tells the other end to stop.
              await this.#peer().call("$/call", [this.#wireTarget(target), ["return"], []]).catch(
                () => {},
              );
              this.release(iterable);
            }
            return { done: true, value };
          },
        };
      },
      [Symbol.dispose]: () => this.release(iterable),
    };
    stubs.set(iterable, { session: this, target, path: [], kind: "import", id });
    return iterable;
  }
}

interface AnswerState {
  readonly promise: Promise<unknown>;
  settled: boolean;
  value: unknown;
}

/** An argument that is the outcome of an earlier call, awaited before the call runs. */
class AnswerSlot {
  constructor(readonly promise: Promise<unknown>) {}
}

// Replaces the answer slots in decoded arguments with their outcomes.
async function fill(value: unknown): Promise<unknown> {
  if (value instanceof AnswerSlot) return await value.promise;
  if (Array.isArray(value)) return await Promise.all(value.map(fill));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = await fill(item);
    return out;
  }
  return value;
}
