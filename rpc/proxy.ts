/**
 * The typed proxy: a thin layer of `Proxy` over the explicit call API.
 *
 * @module
 */

import { checksOf } from "./schema_checks.ts";
import type { AnyMethodDefinition, RemoteService, ServiceDefinition } from "./service.ts";
import type { RpcParams } from "./types.ts";

/** How the proxy makes a call. */
export type Caller = (method: string, params: RpcParams) => Promise<unknown>;

/**
 * Builds a proxy whose every property is a method of the remote service.
 * Given a zod definition, params are validated before sending (a `TypeError`
 * on mismatch) and results after receiving (a `ProtocolError`).
 *
 * @typeParam S the service's type
 * @param call makes one call
 * @param definition the service's zod definition, to validate calls
 * @returns the proxy
 *
 * @example
 * ```ts
 * import { createProxy } from "./proxy.ts";
 * const calls: string[] = [];
 * const calc = createProxy<{ add(a: number, b: number): number }>((method) => {
 *   calls.push(method);
 *   return Promise.resolve(3);
 * });
 * console.assert(await calc.add(1, 2) === 3);
 * console.assert(calls[0] === "add");
 * ```
 */
export function createProxy<S extends object>(
  call: Caller,
  definition?: ServiceDefinition,
): RemoteService<S> {
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(Object.create(null), {
    get(_target, name) {
      // Not a thenable, so `await proxy` does not call the remote "then".
      if (typeof name !== "string" || name === "then") return undefined;
      let fn = methods.get(name);
      if (fn === undefined) {
        const method = definition === undefined
          ? undefined
          : (Object.hasOwn(definition, name)
            ? (definition as unknown as Record<string, AnyMethodDefinition>)[name]
            : undefined);
        if (definition !== undefined && method === undefined) return undefined;
        fn = method === undefined
          ? (...args) => call(name, args)
          : checksOf(definition!).validated(call, name, method);
        methods.set(name, fn);
      }
      return fn;
    },
  }) as RemoteService<S>;
}
