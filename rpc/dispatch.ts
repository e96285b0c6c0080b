/**
 * The dispatcher: finds the handler a method name refers to, safely, and
 * turns a handler's failure into the error object for the reply.
 *
 * @module
 */

import { ErrorCode, RpcError } from "./errors.ts";
import {
  type AnyMethodDefinition,
  contextHandlerOf,
  isServiceDefinition,
  type ResolvedMethod,
  type Service,
} from "./service.ts";
import { checksOf } from "./schema_checks.ts";
import type { RpcErrorObject } from "./types.ts";

/** Finds the handler for a method name, or `undefined` when none is exposed. */
export type Dispatcher = (method: string) => ResolvedMethod | undefined;

// Names that are never callable, whatever the object has: they would hand
// the caller the object's machinery rather than its behaviour.
const FORBIDDEN = new Set([
  "constructor",
  "__proto__",
  "prototype",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "toString",
  "valueOf",
  "then",
]);

/**
 * Builds the dispatcher of a service. Exposed are: a plain object's own
 * function-valued properties; a class instance's own methods and those its
 * classes declare (never `Object.prototype`'s, `constructor`, `__proto__`,
 * accessors, or names starting with `_`); every method of a
 * {@linkcode defineService} definition, with validation.
 *
 * @param service the object to serve
 * @returns the dispatcher
 *
 * @example A class instance: its methods, never its machinery
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDispatcher } from "./dispatch.ts";
 *
 * class Counter {
 *   n = 0;
 *   inc() {
 *     return ++this.n;
 *   }
 * }
 * const dispatch = createDispatcher(new Counter());
 * const ctx = { id: 1, method: "inc", signal: new AbortController().signal };
 * assert.equal(dispatch("inc")?.invoke([], ctx), 1);
 * assert.equal(dispatch("inc")?.invoke([], ctx), 2);
 * assert.equal(dispatch("constructor"), undefined);
 * assert.equal(dispatch("toString"), undefined);
 * assert.equal(dispatch("n"), undefined);
 * ```
 */
export function createDispatcher(service: Service): Dispatcher {
  const prefixed = prefixOf(service);
  if (prefixed !== undefined) {
    const inner = createDispatcher(prefixed.service);
    const { prefix } = prefixed;
    return (name) => name.startsWith(prefix) ? inner(name.slice(prefix.length)) : undefined;
  }
  const layers = layersOf(service);
  if (layers !== undefined) {
    const dispatchers = layers.map(createDispatcher);
    return (name) => {
      for (const dispatch of dispatchers) {
        const resolved = dispatch(name);
        if (resolved !== undefined) return resolved;
      }
      return undefined;
    };
  }
  const cache = new Map<string, ResolvedMethod>();
  const find = isServiceDefinition(service)
    ? (name: string) => {
      const definition = Object.hasOwn(service, name)
        ? (service as Record<string, unknown>)[name]
        : undefined;
      return isAnyMethodDefinition(definition)
        ? checksOf(service).resolve(name, definition)
        : undefined;
    }
    : (name: string) => resolvePlain(service, name);
  return (name) => {
    let resolved = cache.get(name);
    if (resolved === undefined) {
      if (FORBIDDEN.has(name) || name.startsWith("_")) return undefined;
      resolved = find(name);
      // Only names that exist are cached, so hostile names cannot grow the map.
      if (resolved !== undefined) cache.set(name, resolved);
    }
    return resolved;
  };
}

/**
 * The names a service exposes, for introspection.
 *
 * @param service the object served
 * @returns the callable method names, sorted
 *
 * @example The names a class instance answers to
 * ```ts
 * import assert from "node:assert/strict";
 * import { listMethods } from "./dispatch.ts";
 *
 * class Calculator {
 *   add(a: number, b: number) {
 *     return a + b;
 *   }
 *   _secret() {
 *     return 42;
 *   }
 * }
 * const calculator = Object.assign(new Calculator(), { negate: (a: number) => -a });
 * assert.deepEqual(listMethods(calculator), ["add", "negate"]);
 * ```
 */
export function listMethods(service: Service): string[] {
  const prefixed = prefixOf(service);
  if (prefixed !== undefined) return listMethods(prefixed.service).map((n) => prefixed.prefix + n);
  const layers = layersOf(service);
  if (layers !== undefined) return [...new Set(layers.flatMap(listMethods))].sort();
  const names = new Set<string>();
  for (
    let o: object | null = service;
    o !== null && !isBuiltinPrototype(o);
    o = Object.getPrototypeOf(o)
  ) {
    for (const name of Object.getOwnPropertyNames(o)) names.add(name);
  }
  const dispatch = createDispatcher(service);
  return [...names].filter((name) => dispatch(name) !== undefined).sort();
}

const LAYERS: unique symbol = Symbol("parley.serviceLayers");
const PREFIXED: unique symbol = Symbol("parley.prefixedService");

/**
 * A service whose methods are called with a prefix: `prefixService("math.",
 * calculator)` answers `math.add` with the calculator's `add`, its checks
 * and its context included. Namespaces for one endpoint that serves several
 * services (Thrift's multiplexed `Calculator:add`, JSON-RPC's `math.add`);
 * combine several with {@linkcode combineServices}.
 *
 * @param prefix what every name starts with
 * @param service the service, of any kind
 * @returns the prefixed service
 *
 * @example `add` answered as `math.add`
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDispatcher, listMethods, prefixService } from "./dispatch.ts";
 *
 * const math = prefixService("math.", { add: (a: number, b: number) => a + b });
 * const dispatch = createDispatcher(math);
 * const ctx = { id: 1, method: "math.add", signal: new AbortController().signal };
 * assert.equal(dispatch("math.add")?.invoke([1, 2], ctx), 3);
 * assert.equal(dispatch("add"), undefined);
 * assert.deepEqual(listMethods(math), ["math.add"]);
 * ```
 */
export function prefixService(prefix: string, service: Service): Service {
  return Object.freeze({ [PREFIXED]: { prefix, service } });
}

function prefixOf(service: Service): { prefix: string; service: Service } | undefined {
  return (service as { [PREFIXED]?: { prefix: string; service: Service } })[PREFIXED];
}

/**
 * One service made of several: a name is looked up in each in turn, the
 * first that exposes it wins. How extra methods (such as XML-RPC's
 * `system.*`) are served next to a service of any kind.
 *
 * @param services the services, in the order they are searched
 * @returns the combined service
 *
 * @example The first service that has a name answers it
 * ```ts
 * import assert from "node:assert/strict";
 * import { combineServices, createDispatcher } from "./dispatch.ts";
 *
 * const dispatch = createDispatcher(combineServices({ a: () => 1 }, { a: () => 2, b: () => 3 }));
 * const ctx = { id: 1, method: "a", signal: new AbortController().signal };
 * assert.equal(dispatch("a")?.invoke([], ctx), 1);
 * assert.equal(dispatch("b")?.invoke([], ctx), 3);
 * assert.equal(dispatch("c"), undefined);
 * ```
 */
export function combineServices(...services: readonly Service[]): Service {
  return Object.freeze({ [LAYERS]: services });
}

function layersOf(service: Service): readonly Service[] | undefined {
  return (service as { [LAYERS]?: readonly Service[] })[LAYERS];
}

function isBuiltinPrototype(o: object): boolean {
  return o === Object.prototype || o === Function.prototype;
}

function isAnyMethodDefinition(value: unknown): value is AnyMethodDefinition {
  return typeof value === "object" && value !== null && "params" in value && "handler" in value;
}

function resolvePlain(service: object, name: string): ResolvedMethod | undefined {
  for (
    let o: object | null = service;
    o !== null && !isBuiltinPrototype(o);
    o = Object.getPrototypeOf(o)
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(o, name);
    if (descriptor === undefined) continue;
    // Accessors are not methods: calling a getter would run code by name.
    const fn = descriptor.value;
    if (typeof fn !== "function") return undefined;
    const contextual = contextHandlerOf(fn);
    if (contextual !== undefined) {
      return {
        invoke: (params, ctx) => contextual.call(service, ctx, ...argumentsOf(params)),
      };
    }
    return {
      invoke: (params) =>
        (fn as (...args: unknown[]) => unknown).apply(service, argumentsOf(params)),
    };
  }
  return undefined;
}

// Positional params are spread; named params arrive as one object argument.
function argumentsOf(params: unknown): unknown[] {
  if (params === undefined) return [];
  return Array.isArray(params) ? params as unknown[] : [params];
}

/**
 * Turns whatever a handler threw into the error object for the reply. An
 * `RpcError` travels as it is; anything else becomes -32603 "Internal error",
 * with its message and stack only when the server opted in.
 *
 * @param error what the handler threw
 * @param expose whether to send the message and stack of unexpected errors
 * @returns the error object for the wire
 *
 * @example An `RpcError` travels; a bug does not leak unless asked to
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "./errors.ts";
 * import { toErrorObject } from "./dispatch.ts";
 *
 * assert.deepEqual(toErrorObject(new RpcError(1, "Division by zero"), false), {
 *   code: 1,
 *   message: "Division by zero",
 * });
 * const bug = new TypeError("x is undefined");
 * assert.deepEqual(toErrorObject(bug, false), { code: -32603, message: "Internal error" });
 * const exposed = toErrorObject(bug, true);
 * assert.equal(exposed.message, "x is undefined");
 * assert.deepEqual(exposed.data, { name: "TypeError", stack: bug.stack });
 * ```
 */
export function toErrorObject(error: unknown, expose: boolean): RpcErrorObject {
  if (error instanceof RpcError) return error.toObject();
  if (!expose) return { code: ErrorCode.InternalError, message: "Internal error" };
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    code: ErrorCode.InternalError,
    message: e.message || "Internal error",
    data: { name: e.name, stack: e.stack },
  };
}
