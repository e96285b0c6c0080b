/**
 * The protobuf codec: services described by `.proto` files, loaded at run
 * time ({@linkcode loadProto}), called and served over byte streams and
 * WebSockets in the envelope of the interop contract
 * (`shared/interop/envelope.proto`, written down in `docs/protocol.md`):
 *
 * ```proto
 * message Request  { uint64 id = 1; string method = 2; bytes payload = 3; }
 * message Response { uint64 id = 1; oneof outcome { bytes payload = 2; Error error = 3; } }
 * message Error    { int32 code = 1; string message = 2; bytes details = 3; }
 * ```
 *
 * A method is called by its wire name, `package.Service/Method`; its params
 * are the request message in parley's plain form (see {@linkcode loadProto}:
 * `bigint` for 64-bit integers, `Uint8Array` for bytes), given as an object
 * (or as the one element of an array), and its result is the response
 * message. Both are checked against the method's types: an unknown field or
 * a value of the wrong type fails the call before anything is sent. Id 0 is
 * a notification. A request that is malformed (no method name, an unknown
 * method, a payload that does not decode) decodes as an invalid message that
 * the session answers (-32600, -32601, -32602), never as silence; the rules
 * that tell a Request from a Response are in `docs/protocol.md`. Errors carry a code and a message; their `data` travels in
 * `details` as a message of the `errorDetails` type (or as bytes).
 *
 * The codec keeps, per connection, the method of each call in flight both
 * ways (a reply is encoded with its method's types), so every connection
 * forks its own instance, which peers and responders do by themselves.
 *
 * On HTTP, protobuf services speak the Connect protocol: see
 * `protocols/connect.ts`.
 *
 * @example A call and its reply through the envelope
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protobufRpc } from "./protobuf.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Pair { int32 a = 1; int32 b = 2; }
 *   message Total { int32 total = 1; }
 *   service Adder { rpc Add(Pair) returns (Total); }
 * `);
 * const client = protobufRpc({ schema }).fork!();
 * const server = protobufRpc({ schema }).fork!();
 * const call = server.decode(
 *   client.encode({ kind: "request", id: 1, method: "demo.Adder/Add", params: { a: 2, b: 40 } }),
 * );
 * assert.deepEqual(call, { kind: "request", id: 1, method: "demo.Adder/Add", params: { a: 2, b: 40 } });
 * const reply = server.encode({ kind: "result", id: 1, result: { total: 42 } });
 * assert.deepEqual(client.decode(reply), { kind: "result", id: 1, result: { total: 42 } });
 * ```
 *
 * @module
 */

import type { Codec } from "../rpc/types.ts";
import { ProtobufCodec } from "./protobuf/_codec.ts";
import type { ProtoSchema } from "./protobuf/schema.ts";

export {
  loadProto,
  type LoadProtoOptions,
  type ProtoMessage,
  type ProtoMessageType,
  type ProtoMethod,
  type ProtoSchema,
  type ProtoSource,
  ProtoValueError,
} from "./protobuf/schema.ts";
export {
  type ProtoCaller,
  type ProtoClient,
  protoClient,
  type ProtoImplementation,
  type ProtoInput,
  protoService,
} from "./protobuf/service.ts";
export { protoTypes } from "./protobuf/typescript.ts";

/** Options of {@linkcode protobufRpc}. */
export interface ProtobufRpcOptions {
  /** The services and messages, from {@linkcode loadProto}. */
  readonly schema: ProtoSchema;
  /**
   * The full name of the message type that error `data` travels as in
   * `Error.details` (the calculator's `"interop.InvalidOperation"`). Data that
   * does not fit it, and all data when this is absent, travels only as
   * `Uint8Array` details; details are decoded with this type when present.
   */
  readonly errorDetails?: string;
  /**
   * How many calls in flight a connection remembers the method of, each
   * way; 65,536 by default. Calls beyond it that were never answered (given
   * up by their caller) are forgotten, oldest first.
   */
  readonly maxInFlight?: number;
}

/**
 * Creates the protobuf envelope codec for the services of `schema`.
 *
 * @param options the schema, the type of error details
 * @returns the codec (binary; fork one per connection, as peers do)
 *
 * @example An error whose data travels as a message of the schema
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "../rpc/errors.ts";
 * import { Peer } from "../rpc/peer.ts";
 * import { memoryPair } from "../rpc/testing.ts";
 * import { loadProto, protobufRpc } from "./protobuf.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Pair { int32 a = 1; int32 b = 2; }
 *   message Quotient { int32 q = 1; }
 *   message DivideError { string why = 1; }
 *   service Divider { rpc Divide(Pair) returns (Quotient); }
 * `);
 * const codec = protobufRpc({ schema, errorDetails: "demo.DivideError" });
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec,
 *   service: {
 *     "demo.Divider/Divide": ({ a, b }: { a: number; b: number }) => {
 *       if (b === 0) throw new RpcError(1, "Cannot divide", { why: "division by zero" });
 *       return { q: Math.trunc(a / b) };
 *     },
 *   },
 * });
 * const client = new Peer(b, { codec });
 * assert.deepEqual(await client.call("demo.Divider/Divide", { a: 7, b: 2 }), { q: 3 });
 * await assert.rejects(
 *   client.call("demo.Divider/Divide", { a: 7, b: 0 }),
 *   { code: 1, message: "Cannot divide", data: { why: "division by zero" } },
 * );
 * await client.close();
 * await server.closed;
 * ```
 */
export function protobufRpc(options: ProtobufRpcOptions): Codec {
  const details = options.errorDetails === undefined
    ? undefined
    : options.schema.message(options.errorDetails);
  return new ProtobufCodec(options.schema, details, options.maxInFlight ?? 65_536, false);
}
