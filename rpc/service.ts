/**
 * Services: what a peer serves. A service is a plain object of functions, a
 * class instance (only its own declared methods are callable), or a service
 * defined with zod schemas ({@linkcode defineService}) whose params are
 * validated and whose TypeScript types are inferred from the schemas.
 *
 * @module
 */

import type {
  AnyMethodDefinition,
  CallContext,
  InputOf,
  OutputOf,
  Schema,
  TupleSchema,
} from "./schema.ts";
import { SCHEMA_CHECKS, schemaChecks } from "./schema_checks.ts";

export type {
  AnyMethodDefinition,
  CallContext,
  InputOf,
  OutputOf,
  ResolvedMethod,
  Schema,
  SchemaError,
  SchemaResult,
  TupleSchema,
} from "./schema.ts";

const CONTEXT_HANDLER: unique symbol = Symbol("parley.contextHandler");

/** A function that {@linkcode withContext} marked to receive the call context. */
interface ContextAware {
  [CONTEXT_HANDLER]?: (ctx: CallContext, ...args: unknown[]) => unknown;
}

/**
 * Marks a handler that wants the call's context (its `AbortSignal`, id and
 * method) as its first argument. The caller still sees only the other
 * arguments, so a typed proxy of the service is unchanged.
 *
 * @typeParam A the arguments the caller passes
 * @typeParam R the result
 * @param fn the handler, called with the context first
 * @returns a function with the caller's signature
 *
 * @example A handler that stops when the caller cancels
 * ```ts
 * import assert from "node:assert/strict";
 * import { withContext } from "./service.ts";
 * import { ErrorCode, RpcError } from "./errors.ts";
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const started = Promise.withResolvers<void>();
 * const stopped = Promise.withResolvers<unknown>();
 * const service = {
 *   wait: withContext((ctx) =>
 *     new Promise<void>(() => {
 *       ctx.signal.addEventListener("abort", () => stopped.resolve(ctx.signal.reason));
 *       started.resolve();
 *     })
 *   ),
 * };
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service });
 * const client = new Peer(b, { codec: jsonRpc() });
 * const caller = new AbortController();
 * const call = client.call("wait", [], { signal: caller.signal });
 * await started.promise;
 * caller.abort();
 * await assert.rejects(call, { name: "AbortError" });
 * const reason = await stopped.promise;
 * assert.ok(reason instanceof RpcError);
 * assert.equal(reason.code, ErrorCode.RequestCancelled);
 * await client.close();
 * await server.closed;
 * ```
 */
export function withContext<A extends unknown[], R>(
  fn: (ctx: CallContext, ...args: A) => R,
): (...args: A) => R {
  const plain = (..._args: A): R => {
    throw new TypeError("A withContext() handler can only be called through a peer");
  };
  (plain as ContextAware)[CONTEXT_HANDLER] = fn as (
    ctx: CallContext,
    ...args: unknown[]
  ) => unknown;
  return plain;
}

/** A method of a zod-defined service: schemas for params and result, and the handler. */
export interface MethodDefinition<
  P extends TupleSchema = TupleSchema,
  R extends Schema = Schema,
> {
  /** The positional params, as a zod tuple. */
  readonly params: P;
  /** Names of the positional params, in order, so that named params work too. */
  readonly names?: readonly string[];
  /** The result's schema. */
  readonly result: R;
  /** A line for humans (introspection, OpenRPC). */
  readonly description?: string;
  /** The handler: validated params, then the call context. */
  readonly handler: (...args: [...OutputOf<P>, CallContext]) => InputOf<R> | Promise<InputOf<R>>;
}

/**
 * Defines one method of a zod service; an identity function that lets
 * TypeScript infer the handler's argument types from the schemas.
 *
 * @typeParam P the params' tuple schema
 * @typeParam R the result's schema
 * @param definition the schemas and the handler
 * @returns the same definition
 *
 * @example A method whose handler's types come from its schemas
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { method } from "./service.ts";
 *
 * const add = method({
 *   params: z.tuple([z.number(), z.number()]),
 *   names: ["a", "b"],
 *   result: z.number(),
 *   handler: (a, b) => a + b, // a and b are numbers
 * });
 * const ctx = { id: 1, method: "add", signal: new AbortController().signal };
 * assert.equal(add.handler(1, 2, ctx), 3);
 * assert.deepEqual(add.names, ["a", "b"]);
 * ```
 */
export function method<P extends TupleSchema, R extends Schema>(
  definition: MethodDefinition<P, R>,
): MethodDefinition<P, R> {
  return definition;
}

/**
 * Marks an object made by {@linkcode defineService}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { defineService, method, SERVICE_DEFINITION } from "./service.ts";
 *
 * const id = method({ params: z.tuple([z.string()]), result: z.string(), handler: (s) => s });
 * assert.equal(defineService({ id })[SERVICE_DEFINITION], true);
 * ```
 */
export const SERVICE_DEFINITION: unique symbol = Symbol("parley.serviceDefinition");

/** A service whose methods are all {@linkcode MethodDefinition}s. */
export type ServiceDefinition<
  M extends Record<string, AnyMethodDefinition> = Record<string, AnyMethodDefinition>,
> =
  & M
  & { readonly [SERVICE_DEFINITION]: true };

/**
 * Defines a service with zod schemas: the server validates every call's params
 * (invalid params answer -32602 with zod's issues in `data`), a client may
 * validate too, and the proxy's types are inferred from the schemas.
 *
 * @typeParam M the methods
 * @param methods the methods, each made with {@linkcode method}
 * @returns the service definition
 *
 * @example Served and called, by position, by name, and with invalid params
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { defineService, method } from "./service.ts";
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const greeter = defineService({
 *   greet: method({
 *     params: z.tuple([z.string()]),
 *     names: ["name"],
 *     result: z.string(),
 *     handler: (name) => `Hello, ${name}`,
 *   }),
 * });
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service: greeter });
 * const client = new Peer(b, { codec: jsonRpc() });
 * assert.equal(await client.proxy(greeter).greet("Ada"), "Hello, Ada");
 * assert.equal(await client.call("greet", { name: "Bob" }), "Hello, Bob");
 * await assert.rejects(client.call("greet", [42]), { code: -32602 });
 * await client.close();
 * await server.closed;
 * ```
 */
export function defineService<M extends Record<string, AnyMethodDefinition>>(
  methods: M,
): ServiceDefinition<M> {
  // The checks travel with the definition, so that only code that defines
  // services loads them (and schema_floats.ts): see schema_checks.ts.
  return Object.freeze({
    ...methods,
    [SERVICE_DEFINITION]: true as const,
    [SCHEMA_CHECKS]: schemaChecks,
  });
}

/**
 * Whether `service` was made by {@linkcode defineService}.
 *
 * @param service any value
 * @returns true for a zod service definition
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { defineService, isServiceDefinition, method } from "./service.ts";
 *
 * const id = method({ params: z.tuple([z.string()]), result: z.string(), handler: (s) => s });
 * assert.ok(isServiceDefinition(defineService({ id })));
 * assert.ok(!isServiceDefinition({ id: (s: string) => s }));
 * ```
 */
export function isServiceDefinition(service: unknown): service is ServiceDefinition {
  return typeof service === "object" && service !== null && SERVICE_DEFINITION in service;
}

/** Something a peer can serve. */
export type Service = object;

/**
 * Unwraps a {@linkcode withContext} marker.
 *
 * @param fn a service's function
 * @returns the context-taking handler, when `fn` was marked
 *
 * @example Calling a marked handler the way a server does
 * ```ts
 * import assert from "node:assert/strict";
 * import { contextHandlerOf, withContext } from "./service.ts";
 *
 * const whoAmI = withContext((ctx) => ctx.method);
 * const handler = contextHandlerOf(whoAmI);
 * const ctx = { id: 1, method: "whoAmI", signal: new AbortController().signal };
 * assert.equal(handler?.(ctx), "whoAmI");
 * assert.equal(contextHandlerOf(() => 1), undefined);
 * ```
 */
export function contextHandlerOf(
  fn: unknown,
): ((ctx: CallContext, ...args: unknown[]) => unknown) | undefined {
  return typeof fn === "function" ? (fn as ContextAware)[CONTEXT_HANDLER] : undefined;
}

/** The client's view of a service: every method returns a promise. */
export type RemoteService<S> = {
  readonly [
    K in keyof S & string as S[K] extends
      | { readonly params: Schema; readonly result: Schema }
      | ((...args: never[]) => unknown) ? K
      : never
  ]: S[K] extends
    { readonly params: infer P extends Schema; readonly result: infer R extends Schema }
    ? (...args: Extract<InputOf<P>, readonly unknown[]>) => Promise<OutputOf<R>>
    : S[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/**
 * Serves `impl`'s methods under other names: each own or class-declared
 * method (not `constructor`, not names starting with `_`) is exposed as
 * `rename(name)`, called with `impl` as `this`; a `withContext` handler keeps
 * receiving its context. What protocols with qualified names use
 * (`interop.Calculator/Add`, `Calculator:add`).
 *
 * @param impl a plain object or a class instance
 * @param rename the exposed name of a method; `undefined` refuses it
 * @param refuse called for a method `rename` refuses (throw to reject `impl`)
 * @returns the service, keyed by the new names
 *
 * @example Qualified names, the way gRPC spells them
 * ```ts
 * import assert from "node:assert/strict";
 * import { renameMethods } from "./service.ts";
 *
 * class Calculator {
 *   add(a: number, b: number) {
 *     return a + b;
 *   }
 *   reset() {}
 * }
 * const refused: string[] = [];
 * const service = renameMethods(
 *   new Calculator(),
 *   (name) => name === "add" ? "interop.Calculator/Add" : undefined,
 *   (name) => refused.push(name),
 * );
 * assert.deepEqual(Object.keys(service), ["interop.Calculator/Add"]);
 * const add = service["interop.Calculator/Add"] as (a: number, b: number) => number;
 * assert.equal(add(1, 2), 3);
 * assert.deepEqual(refused, ["reset"]);
 * ```
 */
export function renameMethods(
  impl: object,
  rename: (name: string) => string | undefined,
  refuse: (name: string) => void,
): Record<string, (...args: never[]) => unknown> {
  const names = new Set<string>(Object.keys(impl));
  for (
    let proto = Object.getPrototypeOf(impl);
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== "constructor") names.add(name);
    }
  }
  const out: Record<string, (...args: never[]) => unknown> = {};
  for (const name of names) {
    const fn = (impl as Record<string, unknown>)[name];
    if (typeof fn !== "function" || name.startsWith("_")) continue;
    const exposed = rename(name);
    if (exposed === undefined) {
      refuse(name);
      continue;
    }
    const contextual = contextHandlerOf(fn);
    out[exposed] = contextual !== undefined
      ? withContext((ctx, ...args: unknown[]) => contextual.call(impl, ctx, ...args))
      : (...args: unknown[]) => (fn as (...args: unknown[]) => unknown).apply(impl, args);
  }
  return out;
}
