/**
 * RPyC's classic mode, as `rpyc.classic.connect()` gives it
 * (`rpyc/core/service.py`'s `MasterService`): against a `SlaveService`
 * (`rpyc_classic`), `conn.modules.os` imports `os` on the server,
 * `conn.eval`/`conn.execute` run Python text there, `conn.namespace` is the
 * dict they run in, `conn.builtins` the `builtins` module.
 *
 * **Remote code execution, by design.** A classic server runs whatever any
 * client sends it: never offer it on a network you do not trust, and never
 * connect classic to a server you do not trust either (it hands back
 * objects whose methods run on your behalf). Nothing here is reachable
 * without asking for it: {@linkcode classic} (or `connectRpycClassic` in
 * the `./rpyc` export) is the only way in.
 *
 * @example Over a fake connection whose root echoes the CALLATTRs it gets
 * ```ts
 * import assert from "node:assert/strict";
 * import { classic } from "./classic.ts";
 * import { Netref } from "./netref.ts";
 * import { proxyOf } from "./proxy.ts";
 *
 * const host = { request: async (_h: number, a: readonly unknown[]) => a.slice(1), release: async () => {} };
 * const root = proxyOf(new Netref(host, ["SlaveService", 1, 2]));
 * const conn = classic({ root, session: undefined!, closed: Promise.resolve(), close: async () => {}, [Symbol.asyncDispose]: async () => {} });
 * assert.deepEqual(await conn.eval("1+1"), ["eval", ["1+1"], []]);
 * ```
 *
 * @module
 */

import { Netref, netrefOf, type RpycRequestOptions } from "./netref.ts";
import { attributeOf, proxyOf, type RemoteAttribute, type RemoteObject } from "./proxy.ts";
import type { RpycConnection } from "./connection.ts";

/**
 * The server's modules by name, imported on first use and cached as
 * Python's `ModuleNamespace` does: `modules.os`, `modules["os.path"]`.
 * Each is lazy: `await modules.os` gives the module's proxy,
 * `modules.os.getcwd()` calls into it.
 */
export type Modules = { readonly [name: string]: RemoteAttribute };

/** A classic connection: the root's helpers, as Python's `conn.modules` & co. */
export interface RpycClassic extends RpycConnection<RemoteObject> {
  /** The server's modules (`conn.modules.os`, `conn.modules["os.path"]`). */
  readonly modules: Modules;
  /** The server's `builtins` module (`conn.builtins.len`). */
  readonly builtins: RemoteAttribute;
  /** The dict `eval` and `execute` run in; await it for its proxy. */
  readonly namespace: RemoteAttribute;
  /** `eval(text, namespace)` on the server. */
  eval(text: string, options?: RpycRequestOptions): Promise<unknown>;
  /** `exec(text, namespace)` on the server. */
  execute(text: string, options?: RpycRequestOptions): Promise<void>;
  /** Imports a module by its dotted name (`getmodule`), without the cache. */
  getModule(name: string, options?: RpycRequestOptions): Promise<RemoteObject>;
}

/**
 * Gives a connection to a `SlaveService` its classic helpers: the
 * explicit opt-in into remote code execution.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classic } from "./classic.ts";
 * import { Netref } from "./netref.ts";
 * import { proxyOf } from "./proxy.ts";
 *
 * const seen: unknown[] = [];
 * const host = {
 *   request: async (_h: number, a: readonly unknown[]) => (seen.push(a.slice(1)), new Netref(host, ["module", 1, 3])),
 *   release: async () => {},
 * };
 * const root = proxyOf(new Netref(host, ["SlaveService", 1, 2]));
 * const conn = classic({ root, session: undefined!, closed: Promise.resolve(), close: async () => {}, [Symbol.asyncDispose]: async () => {} });
 * await conn.modules.os;
 * await conn.modules.os;
 * assert.deepEqual(seen, [["getmodule", ["os"], []]]); // imported once
 * ```
 *
 * @param conn a connection whose root is a `SlaveService`
 * @returns the same connection with `modules`, `builtins`, `namespace`, `eval`, `execute`
 */
export function classic(conn: RpycConnection<RemoteObject>): RpycClassic {
  const root = netrefOf(conn.root)!;
  const cache = new Map<string, Promise<Netref>>();
  const getModule = async (name: string, options?: RpycRequestOptions): Promise<Netref> => {
    const module = await root.callattr("getmodule", [name], options);
    if (!(module instanceof Netref)) throw new TypeError(`getmodule(${name}) gave no module`);
    return module;
  };
  const cached = (name: string): Promise<Netref> => {
    let module = cache.get(name);
    if (module === undefined) {
      module = getModule(name);
      cache.set(name, module);
      // A failed import is not cached, as in Python: it may work later.
      module.catch(() => cache.delete(name));
    }
    return module;
  };
  const modules = new Proxy({} as Modules, {
    get: (_target, name) => typeof name === "string" ? lazy(() => cached(name), []) : undefined,
  });
  return {
    ...conn,
    modules,
    get builtins() {
      return modules.builtins!;
    },
    get namespace() {
      return attributeOf(root, ["namespace"]);
    },
    eval: (text, options) => root.callattr("eval", [text], options).then(proxied),
    execute: async (text, options) => {
      await root.callattr("execute", [text], options);
    },
    getModule: async (name, options) => proxyOf(await getModule(name, options)),
  };
}

function proxied(value: unknown): unknown {
  return value instanceof Netref ? proxyOf(value) : value;
}

// An attribute path on an object that is fetched when first needed.
function lazy(load: () => Promise<Netref>, path: readonly string[]): RemoteAttribute {
  return new Proxy(function () {} as unknown as RemoteAttribute, {
    get(_target, name) {
      if (name === "then") {
        const value = load().then((ref) =>
          path.length === 0 ? proxyOf(ref) : attributeOf(ref, path) as PromiseLike<unknown>
        );
        return value.then.bind(value);
      }
      if (typeof name === "symbol") return undefined;
      return lazy(load, [...path, name]);
    },
    apply(_target, _this, args: unknown[]) {
      return load().then((ref) =>
        path.length === 0 ? proxyOf(ref)(...args) : attributeOf(ref, path)(...args)
      );
    },
  });
}
