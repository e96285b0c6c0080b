/**
 * Serving and calling one protobuf service by its methods' own names
 * (`Add`), while they travel under their wire names
 * (`interop.Calculator/Add`).
 *
 * @module
 */

import { renameMethods } from "../../rpc/service.ts";
import type { CallOptions, RpcParams } from "../../rpc/types.ts";
import type { ProtoMessage, ProtoSchema } from "./schema.ts";

/** What a client needs for {@linkcode protoClient}: `Peer` and `HttpClient` fit, and the Connect client. */
export interface ProtoCaller {
  /** Calls a method by its wire name. */
  call<T = unknown>(
    method: string,
    params?: RpcParams,
    options?: CallOptions,
  ): Promise<T>;
}

/**
 * What may be sent for a message of type `T` (a decoded message's type,
 * such as `deno task proto:types` writes): every field optional (absent
 * means the default), `null` as absent, numbers accepted for 64-bit fields.
 */
export type ProtoInput<T> = T extends bigint ? bigint | number
  : T extends Uint8Array ? Uint8Array
  : T extends readonly (infer E)[] ? readonly ProtoInput<E>[]
  : T extends object ? { readonly [K in keyof T]?: ProtoInput<T[K]> | null }
  : T;

/**
 * A client of one service: each method takes its request message and
 * resolves to its response message. Without a type argument every message
 * is a {@linkcode ProtoMessage}; with one (such as what `deno task
 * proto:types` writes) the messages are typed.
 */
export type ProtoClient<S = Record<string, (request: ProtoMessage) => ProtoMessage>> = {
  readonly [K in keyof S]: S[K] extends (request: infer Q) => infer R ? (
      request: ProtoInput<Q>,
      options?: CallOptions,
    ) => Promise<Awaited<R>>
    : never;
};

/**
 * The handlers of a service `S` (such as `deno task proto:types` writes):
 * each takes the decoded request message and returns (or resolves to) what
 * may be sent as its response. Methods may be left out.
 */
export type ProtoImplementation<S> = {
  readonly [K in keyof S]?: S[K] extends (request: infer Q) => infer R
    ? (request: Q) => ProtoInput<R> | Promise<ProtoInput<R>>
    : never;
};

function serviceMethods(schema: ProtoSchema, service: string): Map<string, string> {
  const methods = new Map<string, string>();
  for (const method of schema.methods.values()) {
    if (method.service === service) methods.set(method.method, method.name);
  }
  if (methods.size === 0) {
    const known = [...new Set([...schema.methods.values()].map((m) => m.service))];
    throw new TypeError(
      `The schema has no service "${service}" (it has: ${known.join(", ") || "none"})`,
    );
  }
  return methods;
}

/**
 * Makes the object a peer serves for one protobuf service: `impl`'s methods,
 * named as in the `.proto` file (`Add`), each taking the request message and
 * returning (or resolving to) the response message, become callable under
 * their wire names. Handlers marked with `withContext` receive the call's
 * context first. Methods the implementation leaves out answer "Method not
 * found".
 *
 * @param schema the schema that declares the service
 * @param service the service's full name, such as `"interop.Calculator"`
 * @param impl the handlers, by method name (a plain object or a class instance)
 * @returns the service to serve, keyed by wire name
 * @throws {TypeError} when the schema has no such service, or `impl` has a
 * method the service does not declare (a typo would otherwise go unnoticed)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "./schema.ts";
 * import { protoService } from "./service.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Name { string name = 1; }
 *   service Greeter { rpc Greet(Name) returns (Name); }
 * `);
 * const served = protoService(schema, "demo.Greeter", {
 *   Greet: ({ name }: { name: string }) => ({ name: `Hello, ${name}` }),
 * });
 * assert.deepEqual(Object.keys(served), ["demo.Greeter/Greet"]);
 * ```
 */
export function protoService<S = Record<string, unknown>>(
  schema: ProtoSchema,
  service: string,
  impl: ProtoImplementation<S> | object,
): Record<string, (...args: never[]) => unknown> {
  const methods = serviceMethods(schema, service);
  return renameMethods(impl, (name) => methods.get(name), (name) => {
    throw new TypeError(
      `${service} has no method "${name}" (it has: ${[...methods.keys()].join(", ")})`,
    );
  });
}

/**
 * A client of one protobuf service over any parley client (a `Peer` with
 * the protobuf codec, a Connect client): `client.Add({ num1, num2 })` calls
 * `interop.Calculator/Add`.
 *
 * @typeParam S the service's methods, for typed messages
 * @param caller what sends the calls
 * @param schema the schema that declares the service
 * @param service the service's full name, such as `"interop.Calculator"`
 * @returns the client
 * @throws {TypeError} when the schema has no such service
 *
 * @example Calling a service served over an in-memory pair
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../../rpc/peer.ts";
 * import { memoryPair } from "../../rpc/testing.ts";
 * import { loadProto, protobufRpc, protoClient, protoService } from "../protobuf.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Name { string name = 1; }
 *   service Greeter { rpc Greet(Name) returns (Name); }
 * `);
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec: protobufRpc({ schema }),
 *   service: protoService(schema, "demo.Greeter", {
 *     Greet: ({ name }: { name: string }) => ({ name: `Hello, ${name}` }),
 *   }),
 * });
 * const peer = new Peer(b, { codec: protobufRpc({ schema }) });
 * // The methods' types: written by hand here, or by `deno task proto:types`.
 * type Greeter = { Greet(request: { name: string }): { name: string } };
 * const greeter = protoClient<Greeter>(peer, schema, "demo.Greeter");
 * // Greet travels as demo.Greeter/Greet.
 * assert.deepEqual(await greeter.Greet({ name: "Ada" }), { name: "Hello, Ada" });
 * await peer.close();
 * await server.closed;
 * ```
 */
export function protoClient<S = Record<string, (request: ProtoMessage) => ProtoMessage>>(
  caller: ProtoCaller,
  schema: ProtoSchema,
  service: string,
): ProtoClient<S> {
  const client: Record<string, unknown> = {};
  for (const [name, wire] of serviceMethods(schema, service)) {
    client[name] = (
      request: ProtoMessage = {},
      options?: CallOptions,
    ) => caller.call(wire, request, options);
  }
  return Object.freeze(client) as ProtoClient<S>;
}
