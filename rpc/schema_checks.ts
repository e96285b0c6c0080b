/**
 * What a schema-defined method checks, on either side: the server's
 * dispatcher validates a call's params and its handler's result, the typed
 * proxy validates params before sending and the result on arrival; doubles
 * are marked and unwrapped by schema (`schema_floats.ts`).
 *
 * {@linkcode defineService} attaches these checks to every definition it
 * makes, and the dispatcher and the proxy reach them through the definition
 * ({@linkcode checksOf}). So only a program that defines a service loads
 * them: a browser client that calls through an untyped or `typeof`-typed
 * proxy does not carry them in its bundle.
 *
 * @module
 */

import { ErrorCode, ProtocolError, RpcError } from "./errors.ts";
import { containsFloats, markFloats, unwrapFloats } from "./schema_floats.ts";
import type { AnyMethodDefinition, CallContext, ResolvedMethod } from "./schema.ts";

/** The checks a definition made by `defineService` carries. */
export interface SchemaChecks {
  /**
   * How the dispatcher calls one method of a definition: params validated
   * (-32602 with the schema's issues otherwise), the result checked.
   */
  resolve(name: string, definition: AnyMethodDefinition): ResolvedMethod;
  /**
   * How the proxy calls one method of a definition: params validated before
   * sending (a `TypeError`), the result on arrival (a `ProtocolError`).
   */
  validated(
    call: (method: string, params: unknown[]) => Promise<unknown>,
    name: string,
    definition: AnyMethodDefinition,
  ): (...args: unknown[]) => Promise<unknown>;
}

/** The key under which a definition carries its {@linkcode SchemaChecks}. */
export const SCHEMA_CHECKS: unique symbol = Symbol("parley.schemaChecks");

/**
 * The checks of a service definition.
 *
 * @param definition an object made by `defineService`
 * @returns its checks
 * @throws {TypeError} for an object marked as a definition by hand, without them
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { defineService, method } from "./service.ts";
 * import { checksOf } from "./schema_checks.ts";
 *
 * const add = method({
 *   params: z.tuple([z.number().int(), z.number().int()]),
 *   result: z.number().int(),
 *   handler: (a, b) => a + b,
 * });
 * const checks = checksOf(defineService({ add }));
 * const resolved = checks.resolve("add", add);
 * const ctx = { id: 1, method: "add", signal: new AbortController().signal };
 * assert.equal(resolved.invoke([1, 2], ctx), 3);
 * assert.throws(() => resolved.invoke(["1", 2], ctx), { code: -32602 });
 * ```
 */
export function checksOf(definition: object): SchemaChecks {
  const checks = (definition as { readonly [SCHEMA_CHECKS]?: SchemaChecks })[SCHEMA_CHECKS];
  if (checks === undefined) {
    throw new TypeError("A service definition must be made with defineService()");
  }
  return checks;
}

/** The checks `defineService` attaches. */
export const schemaChecks: SchemaChecks = { resolve: resolveDefinition, validated };

function resolveDefinition(name: string, definition: AnyMethodDefinition): ResolvedMethod {
  const names = definition.names;
  const handler = definition.handler as (...args: unknown[]) => unknown;
  // The context goes right after the declared params, absent optional ones
  // included, so that it never lands in an optional param's place.
  const arity = definition.params.def.items.length;
  return {
    definition,
    invoke: (params, ctx: CallContext) => {
      const positional = toPositional(name, params, names);
      const parsed = parseParams(definition, positional);
      if (!parsed.success) {
        throw new RpcError(ErrorCode.InvalidParams, "Invalid params", parsed.error.issues);
      }
      const args = parsed.data as unknown[];
      while (args.length < arity) args.push(undefined);
      const result = handler(...args, ctx);
      return result instanceof Promise
        ? result.then((value) => checkResult(name, definition, value))
        : checkResult(name, definition, result);
    },
  };
}

function toPositional(
  name: string,
  params: unknown,
  names: readonly string[] | undefined,
): unknown[] {
  if (params === undefined) return [];
  if (Array.isArray(params)) return params;
  const named = params as Record<string, unknown>;
  // `{}` is how many clients call a method that takes nothing (JSON-RPC
  // by-name with no members): the same as no params.
  if (names === undefined && Object.keys(named).length === 0) return [];
  if (names === undefined) {
    throw new RpcError(ErrorCode.InvalidParams, `Method "${name}" takes positional params only`);
  }
  const unknown = Object.keys(named).filter((key) => !names.includes(key));
  if (unknown.length > 0) {
    throw new RpcError(ErrorCode.InvalidParams, "Invalid params", {
      unknown,
      expected: names,
    });
  }
  // Trailing absent names are dropped so that optional tuple items stay optional.
  const positional = names.map((key) => Object.hasOwn(named, key) ? named[key] : undefined);
  while (positional.length > 0 && positional[positional.length - 1] === undefined) {
    positional.pop();
  }
  return positional;
}

// Doubles a codec kept as Floats (keepFloats) are plain numbers to zod; the
// unwrapping costs nothing on the common path, where the first parse passes.
function parseParams(definition: AnyMethodDefinition, positional: unknown[]) {
  const parsed = definition.params.safeParse(positional);
  return parsed.success || !containsFloats(positional)
    ? parsed
    : definition.params.safeParse(unwrapFloats(positional));
}

// The result leaves with its doubles marked, so that a whole-number double
// stays a double in the codecs that tell them apart.
function checkResult(name: string, definition: AnyMethodDefinition, value: unknown): unknown {
  let parsed = definition.result.safeParse(value);
  if (!parsed.success && containsFloats(value)) {
    parsed = definition.result.safeParse(unwrapFloats(value));
  }
  if (!parsed.success) {
    throw new Error(`Method "${name}" returned a value that does not match its result schema`, {
      cause: parsed.error,
    });
  }
  return markFloats(definition.result, parsed.data);
}

function validated(
  call: (method: string, params: unknown[]) => Promise<unknown>,
  name: string,
  method: AnyMethodDefinition,
): (...args: unknown[]) => Promise<unknown> {
  return async (...args) => {
    const params = method.params.safeParse(args);
    if (!params.success) {
      throw new TypeError(`Invalid params for "${name}": ${params.error.message}`, {
        cause: params.error,
      });
    }
    // Doubles leave marked as doubles; a result decoded with Floats is
    // checked as plain numbers.
    const received = await call(name, markFloats(method.params, args) as unknown[]);
    let result = method.result.safeParse(received);
    if (!result.success && containsFloats(received)) {
      result = method.result.safeParse(unwrapFloats(received));
    }
    if (!result.success) {
      throw new ProtocolError(`Result of "${name}" does not match its schema`, {
        cause: result.error,
      });
    }
    return result.data;
  };
}
