/**
 * Serving and calling one protobuf service by its methods' own names
 * (`Add`), while they travel under their wire names
 * (`interop.Calculator/Add`).
 *
 * @module
 */

import { ErrorCode, RpcError } from "../../rpc/errors.ts";
import {
  type CallContext,
  contextHandlerOf,
  renameMethods,
  withContext,
} from "../../rpc/service.ts";
import type { CallOptions, RpcParams, RpcStream, StreamCallOptions } from "../../rpc/types.ts";
import type { ProtoMessage, ProtoMethod, ProtoSchema } from "./schema.ts";

/**
 * What a client needs for {@linkcode protoClient}: `Peer` and `HttpClient`
 * fit, and the Connect client; streaming methods need `openStream`, which a
 * `Peer` with the protobuf envelope has.
 */
export interface ProtoCaller {
  /** Calls a method by its wire name. */
  call<T = unknown>(
    method: string,
    params?: RpcParams,
    options?: CallOptions,
  ): Promise<T>;
  /** Makes a streaming call by its wire name. */
  openStream?(method: string, params?: RpcParams, options?: StreamCallOptions): RpcStream;
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
 * A client of one service: each unary method takes its request message and
 * resolves to its response message; a method whose response streams
 * returns an `AsyncIterable` of them (leaving the `for await` loop cancels
 * the call); a method whose request streams takes an `AsyncIterable`.
 * Without a type argument every message is a {@linkcode ProtoMessage}; with
 * one (such as what `deno task proto:types` writes) the messages are typed.
 */
export type ProtoClient<S = Record<string, (request: ProtoMessage) => ProtoMessage>> = {
  readonly [K in keyof S]: S[K] extends (request: infer Q) => infer R ? (
      request: Q extends AsyncIterable<infer E> ? AsyncIterable<ProtoInput<E>> : ProtoInput<Q>,
      options?: CallOptions,
    ) => R extends AsyncIterable<unknown> ? R : Promise<Awaited<R>>
    : never;
};

/**
 * The handlers of a service `S` (such as `deno task proto:types` writes):
 * each takes the decoded request message and returns (or resolves to) what
 * may be sent as its response. A streaming method's handler takes the
 * request message, or an `AsyncIterable` of them when the request streams,
 * and the call's context (its `signal` aborts when the caller cancels), and
 * returns an `AsyncIterable` (an async generator) when the response streams.
 * Methods may be left out.
 */
export type ProtoImplementation<S> = {
  readonly [K in keyof S]?: S[K] extends (request: infer Q) => infer R
    ? R extends AsyncIterable<infer E>
      ? (request: Q, ctx: CallContext) => AsyncIterable<ProtoInput<E>>
    : Q extends AsyncIterable<unknown>
      ? (requests: Q, ctx: CallContext) => ProtoInput<R> | Promise<ProtoInput<R>>
    : (request: Q) => ProtoInput<R> | Promise<ProtoInput<R>>
    : never;
};

function serviceMethods(schema: ProtoSchema, service: string): Map<string, ProtoMethod> {
  const methods = new Map<string, ProtoMethod>();
  for (const method of schema.methods.values()) {
    if (method.service === service) methods.set(method.method, method);
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
 * A streaming method's handler takes the request message (or, when the
 * request streams, an `AsyncIterable` of them) and the call's context, and
 * returns an `AsyncIterable` (an async generator) when the response streams:
 * a peer with the protobuf envelope sends its messages as the caller grants
 * credit, and stops it (its `finally` runs, its context's signal aborts)
 * when the caller cancels. A transport that carries one message each way
 * refuses such a call, saying so.
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
 *
 * @example A server stream, called through protoClient
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../../rpc/peer.ts";
 * import { memoryPair } from "../../rpc/testing.ts";
 * import { loadProto, protobufRpc, protoClient, protoService } from "../protobuf.ts";
 * import { peerStreams } from "../../rpc/peer/streams.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Up { int32 to = 1; }
 *   message N { int32 n = 1; }
 *   service Counter { rpc Count(Up) returns (stream N); }
 * `);
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec: protobufRpc({ schema }),
 *   streams: peerStreams, // streaming calls: a peer carries them only when given this
 *   service: protoService(schema, "demo.Counter", {
 *     Count: async function* ({ to }: { to: number }) {
 *       for (let n = 1; n <= to; n++) yield { n };
 *     },
 *   }),
 * });
 * const peer = new Peer(b, { codec: protobufRpc({ schema }), streams: peerStreams });
 * type Counter = { Count(request: { to: number }): AsyncIterable<{ n: number }> };
 * const counter = protoClient<Counter>(peer, schema, "demo.Counter");
 * const seen = [];
 * for await (const { n } of counter.Count({ to: 3 })) seen.push(n);
 * assert.deepEqual(seen, [1, 2, 3]);
 * await peer.close();
 * await server.closed;
 * ```
 */
export function protoService<S = Record<string, unknown>>(
  schema: ProtoSchema,
  service: string,
  impl: ProtoImplementation<S> | object,
): Record<string, (...args: never[]) => unknown> {
  const methods = serviceMethods(schema, service);
  const served = renameMethods(impl, (name) => methods.get(name)?.name, (name) => {
    throw new TypeError(
      `${service} has no method "${name}" (it has: ${[...methods.keys()].join(", ")})`,
    );
  });
  for (const [name, method] of methods) {
    const fn = (impl as Record<string, unknown>)[name];
    if (typeof fn !== "function" || !(method.clientStreaming || method.serverStreaming)) continue;
    served[method.name] = streamingHandler(impl, fn as (...args: unknown[]) => unknown, method);
  }
  return served;
}

// A streaming method's handler as a peer calls it: with the caller's
// messages when the request streams, and the context. A connection that
// carries no streams (one request, one reply: HTTP POST, NATS) has no
// `input` in the context, and the call is refused saying so.
function streamingHandler(
  impl: object,
  fn: (...args: unknown[]) => unknown,
  method: ProtoMethod,
) {
  const contextual = contextHandlerOf(fn);
  return withContext((ctx: CallContext, request: unknown) => {
    if (!("input" in ctx)) {
      throw new RpcError(
        ErrorCode.MethodNotFound,
        `${method.name} is a streaming method: this transport carries one message each way ` +
          `(serve it over the protobuf envelope on TCP or WebSocket)`,
        { method: method.name },
      );
    }
    const first = method.clientStreaming ? ctx.input : request;
    return contextual !== undefined ? contextual.call(impl, ctx, first) : fn.call(impl, first, ctx);
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
  for (const [name, method] of serviceMethods(schema, service)) {
    const wire = method.name;
    client[name] = method.clientStreaming || method.serverStreaming
      ? streamingCall(caller, method)
      : (request: ProtoMessage = {}, options?: CallOptions) => caller.call(wire, request, options);
  }
  return Object.freeze(client) as ProtoClient<S>;
}

// A streaming method of a client: the server's messages as an async
// iterable, or the call's one reply when only the request streams.
function streamingCall(caller: ProtoCaller, method: ProtoMethod) {
  return (request: unknown, options: CallOptions = {}) => {
    if (caller.openStream === undefined) {
      throw new TypeError(
        `${method.name} is a streaming method: this client carries one message each way ` +
          `(call it through a Peer with the protobuf envelope)`,
      );
    }
    const stream = method.clientStreaming
      ? caller.openStream(method.name, undefined, {
        ...options,
        input: request as AsyncIterable<unknown>,
      })
      : caller.openStream(method.name, request as ProtoMessage, options);
    if (method.serverStreaming) {
      stream.result.catch(() => {}); // its error ends the messages' loop
      return stream.messages;
    }
    return stream.result;
  };
}
