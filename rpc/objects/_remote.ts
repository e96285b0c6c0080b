/**
 * The proxies that stand for the other end's objects: every member read
 * makes a longer path, every call goes out at once (promise pipelining),
 * `then` on a call's result awaits it. What a proxy does it asks of its
 * {@linkcode ProxyHost}, the session that made it.
 *
 * @module
 */

/** Where a proxy's calls go: the other end's root, one of its exports, or a call's answer. */
export type Target = null | { readonly $you: number } | { readonly $answer: number };

/** The state of a call's result, for forwarding later use once it has arrived. */
export interface AnswerState {
  /** The decoded result. */
  readonly promise: Promise<unknown>;
  /** Whether it has arrived (or failed). */
  settled: boolean;
  /** The result, once arrived. */
  value: unknown;
}

/** What a proxy asks of the session that made it. */
export interface ProxyHost {
  /** Whether the connection is closed: proxies fail from then on. */
  isClosed(): boolean;
  /** Calls `path` of `target` now; returns the result's proxy. */
  call(target: Target, path: readonly string[], args: readonly unknown[]): object;
  /** Reads `path` of `target`. */
  get(target: Target, path: readonly string[]): Promise<unknown>;
  /** Calls `next` or `return` of an exported iterator; the result as it arrived. */
  step(target: Target, member: "next" | "return"): Promise<unknown>;
  /** A result as this end sees it (references made proxies). */
  received(wire: unknown): unknown;
  /** Releases an imported proxy. */
  release(proxy: unknown): void;
  /** Items of credit a stream grants at once; 0 pulls one item per call. */
  readonly streamWindow: number;
  /** Grants `credit` items to an exported iterator; the reply as it arrived. */
  pull(target: Target, credit: number): Promise<unknown>;
  /** Takes the items pushed for the other end's iterator `id` until the returned function is called. */
  listen(id: number, listener: StreamListener): () => void;
}

/** What a stream being read is told: its pushed items, or that its connection closed. */
export interface StreamListener {
  /** A batch of pushed items, before unboxing. */
  items(items: unknown[]): void;
  /** The connection is gone. */
  close(error: unknown): void;
}

/** What a proxy stands for. */
export interface ProxyMeta {
  /** The session that made it. */
  readonly host: ProxyHost;
  /** Its target. */
  readonly target: Target;
  /** The members walked from the target. */
  readonly path: readonly string[];
  /** An import (the other end's export), a call's answer, or the root. */
  readonly kind: "import" | "answer" | "root";
  /** For imports: the other end's export id; for answers: the answer id. */
  readonly id: number;
}

const proxies = new WeakMap<object, ProxyMeta>();
const released = new WeakSet<object>();

/** What `value` stands for, when it is a proxy. */
export function proxyMeta(value: unknown): ProxyMeta | undefined {
  return (typeof value === "object" || typeof value === "function") && value !== null
    ? proxies.get(value)
    : undefined;
}

/** Makes `value` stand for `meta`, as the proxies do (the remote iterables). */
export function registerProxy(value: object, meta: ProxyMeta): void {
  proxies.set(value, meta);
}

/** Whether `proxy` was released. */
export function isReleased(proxy: object): boolean {
  return released.has(proxy);
}

/** Marks `proxy` released; false when it already was. */
export function markReleased(proxy: object): boolean {
  if (released.has(proxy)) return false;
  released.add(proxy);
  return true;
}

/** A proxy of `path` on `target`; for a call's result, `answer` is its state. */
export function remoteProxy(
  host: ProxyHost,
  target: Target,
  path: readonly string[],
  kind: ProxyMeta["kind"],
  id: number,
  answer?: AnswerState,
): object {
  const check = (proxy: object) => {
    if (released.has(proxy)) throw new Error("This remote reference was released");
    if (host.isClosed()) throw new Error("The connection of this remote reference is closed");
  };
  // A call result that has arrived and is a remote object: later use goes to it directly.
  const resolved = (): ProxyMeta | undefined =>
    answer?.settled === true ? proxyMeta(answer.value) : undefined;
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
          const value = path.length === 0 ? answer!.promise : host.get(target, path);
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
      if (key === Symbol.dispose) return () => host.release(proxy);
      if (key === Symbol.asyncDispose) return () => Promise.resolve(host.release(proxy));
      if (typeof key === "symbol") return undefined;
      const forward = resolved();
      if (forward !== undefined) {
        return remoteProxy(
          host,
          forward.target,
          [...forward.path, ...path, key],
          forward.kind,
          forward.id,
        );
      }
      return remoteProxy(host, target, [...path, key], kind, id, answer);
    },
    apply: (_, _this, args) => {
      check(proxy);
      const forward = resolved();
      if (forward !== undefined) return host.call(forward.target, [...forward.path, ...path], args);
      return host.call(target, path, args);
    },
    set: () => false,
  });
  proxies.set(proxy, { host, target, path, kind, id });
  return proxy;
}
