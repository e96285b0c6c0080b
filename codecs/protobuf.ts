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

import { DecodeError, ErrorCode } from "../rpc/errors.ts";
import type {
  Codec,
  CodecFeatures,
  CodecForkOptions,
  DecodedFrame,
  Frame,
  RpcErrorObject,
  RpcId,
  RpcMessage,
} from "../rpc/types.ts";
import { STREAM_EVENT } from "../rpc/types.ts";
import { decodeStreamEvent, encodeStreamEvent } from "./protobuf/_stream_events.ts";
import {
  invalid,
  malformedReply,
  methodName,
  remember,
  requestOf,
  wireId,
} from "./protobuf/_messages.ts";
import {
  type EnvelopeError,
  readEnvelope,
  readError,
  writeFailure,
  writeRequest,
  writeResult,
} from "./protobuf/_envelope.ts";
import type { ProtoMessageType, ProtoMethod, ProtoSchema } from "./protobuf/schema.ts";

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

const FORMAT = "protobuf";
const EMPTY = new Uint8Array(0);

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

class ProtobufCodec implements Codec {
  readonly name = FORMAT;
  readonly mediaType = "application/x-protobuf";
  readonly features: CodecFeatures;
  readonly #schema: ProtoSchema;
  readonly #details: ProtoMessageType | undefined;
  readonly #max: number;
  readonly #streams: boolean;
  // The method of each call this side sent (to decode its reply) and of
  // each call it received (to encode its reply).
  readonly #outgoing = new Map<RpcId, ProtoMethod>();
  readonly #incoming = new Map<RpcId, ProtoMethod>();

  constructor(
    schema: ProtoSchema,
    details: ProtoMessageType | undefined,
    max: number,
    streams: boolean,
  ) {
    this.#schema = schema;
    this.#details = details;
    this.#max = max;
    this.#streams = streams;
    this.features = { batch: false, notifications: true, replyToParseError: true, streams };
  }

  fork(options?: CodecForkOptions): Codec {
    return new ProtobufCodec(this.#schema, this.#details, this.#max, options?.streams === true);
  }

  encode(message: RpcMessage | readonly RpcMessage[]): Frame {
    if (Array.isArray(message)) throw new TypeError("The protobuf envelope carries no batches");
    const one = message as RpcMessage;
    switch (one.kind) {
      case "request":
      case "notification": {
        if (one.kind === "notification" && one.method === STREAM_EVENT) {
          return encodeStreamEvent(
            one.params,
            { outgoing: this.#outgoing, incoming: this.#incoming },
            wireId,
          );
        }
        // A streaming call opens with a request that carries field 4
        // (docs/protocol.md), on a connection that carries streams.
        const opens = one.kind === "request" && one.stream === true && this.#streams;
        const method = opens ? this.#streaming(one.method) : this.#schema.unary(one.method);
        const payload = method.request.encode(requestOf(one.params, method));
        if (one.kind === "notification") return writeRequest(0, method.name, payload);
        const id = wireId(one.id);
        remember(this.#outgoing, one.id, method, this.#max);
        return writeRequest(id, method.name, payload, opens);
      }
      case "result": {
        const method = this.#incoming.get(one.id);
        if (method === undefined) {
          throw new TypeError(`No call with id ${one.id} was received on this connection`);
        }
        const payload = method.response.encode(one.result ?? {});
        this.#incoming.delete(one.id);
        return writeResult(wireId(one.id), payload);
      }
      case "error": {
        if (one.id !== null) this.#incoming.delete(one.id);
        return writeFailure(one.id === null ? 0 : wireId(one.id), {
          code: one.error.code | 0,
          message: one.error.message,
          details: this.#encodeDetails(one.error.data),
        });
      }
    }
  }

  // The method a streaming call opens.
  #streaming(name: string): ProtoMethod {
    const method = this.#schema.method(name);
    if (method !== undefined && !method.clientStreaming && !method.serverStreaming) {
      throw new TypeError(`"${name}" is a unary method: call it, do not open a stream`);
    }
    return method ?? this.#schema.unary(name); // unary() says what is wrong with the name
  }

  decode(frame: Frame): DecodedFrame {
    if (typeof frame === "string") {
      throw new DecodeError(FORMAT, "A protobuf envelope is binary, not text");
    }
    let envelope;
    try {
      envelope = readEnvelope(frame);
    } catch (error) {
      throw new DecodeError(FORMAT, `Not an envelope: ${(error as EnvelopeError).message}`);
    }
    const { id, second, third, stream } = envelope;
    if (stream !== undefined && second === undefined && id !== 0) {
      return decodeStreamEvent(id, stream, { outgoing: this.#outgoing, incoming: this.#incoming });
    }
    const name = second === undefined ? undefined : methodName(second);
    const awaited = id === 0 ? undefined : this.#outgoing.get(id);
    // Request and Response share field numbers. Fields 2 and 3 both present,
    // or a method name in field 2 (known, or under an id this side does not
    // await) make a request; a reply is what this side awaits. Anything else
    // is a request that no method name can be read from (answered -32600,
    // never left unanswered), except bytes of exactly an Error's shape in
    // field 3 alone: an error reply this side does not await (stray, or about
    // no call), which must never be answered, or two peers could answer each
    // other's errors forever.
    const opens = stream !== undefined;
    if (second !== undefined && third !== undefined) {
      return this.#request(id, second, name, third, opens);
    }
    if (name !== undefined && (this.#schema.methods.has(name) || awaited === undefined)) {
      return this.#request(id, second, name, EMPTY, opens);
    }
    if (awaited !== undefined) return this.#response(id, awaited, second, third);
    if (third !== undefined) {
      const failure = this.#readFailure(third);
      if (failure !== undefined) return { kind: "error", id: id === 0 ? null : id, error: failure };
    }
    return this.#request(id, second, undefined, third ?? EMPTY, false);
  }

  // `opens`: the request carries field 4, opening a streaming call.
  #request(
    id: RpcId,
    field: Uint8Array | undefined,
    name: string | undefined,
    payload: Uint8Array,
    opens: boolean,
  ): DecodedFrame {
    if (name === undefined) {
      // A malformed request is answered even without an id (under id 0, as
      // JSON-RPC answers an invalid request under null): never silence.
      const why = field === undefined || field.length === 0
        ? "no method name"
        : "the method name is not printable ASCII of at most 1024 bytes";
      return invalid(id === 0 ? null : id, ErrorCode.InvalidRequest, `Invalid request: ${why}`);
    }
    const replyId = id === 0 ? undefined : id;
    const method = this.#schema.method(name);
    const streaming = method !== undefined && (method.clientStreaming || method.serverStreaming);
    // A streaming method called as a unary one (no field 4) is not found, as it always was.
    if (method === undefined || streaming && (!opens || replyId === undefined)) {
      return invalid(replyId, ErrorCode.MethodNotFound, "Method not found", { method: name });
    }
    if (streaming && !this.#streams) {
      return invalid(
        replyId,
        ErrorCode.MethodNotFound,
        `${name} is a streaming method: this transport carries one message each way ` +
          `(call it over the protobuf envelope on TCP or WebSocket)`,
        { method: name },
      );
    }
    let params;
    try {
      params = method.request.decode(payload);
    } catch (error) {
      return invalid(
        replyId,
        ErrorCode.InvalidParams,
        `Invalid params: the payload is not a ${method.request.name}`,
        { reason: (error as Error).message },
      );
    }
    if (replyId === undefined) return { kind: "notification", method: name, params };
    remember(this.#incoming, id, method, this.#max);
    return { kind: "request", id, method: name, params };
  }

  #response(
    id: RpcId,
    method: ProtoMethod,
    payload: Uint8Array | undefined,
    error: Uint8Array | undefined,
  ): DecodedFrame {
    this.#outgoing.delete(id);
    if (error !== undefined) {
      const failure = this.#readFailure(error);
      if (failure === undefined) return malformedReply(id, "the error is not an rpc.Error");
      return { kind: "error", id, error: failure };
    }
    // A server stream's messages came before; its reply only ends it.
    if (method.serverStreaming) return { kind: "result", id, result: null };
    try {
      return { kind: "result", id, result: method.response.decode(payload ?? EMPTY) };
    } catch (cause) {
      return malformedReply(
        id,
        `the payload is not a ${method.response.name}: ${(cause as Error).message}`,
      );
    }
  }

  // An Error's fields, or undefined when the bytes are not one.
  #readFailure(bytes: Uint8Array): RpcErrorObject | undefined {
    let fields;
    try {
      fields = readError(bytes);
    } catch {
      return undefined;
    }
    return fields.details.length === 0
      ? { code: fields.code, message: fields.message }
      : { code: fields.code, message: fields.message, data: this.#decodeDetails(fields.details) };
  }

  #encodeDetails(data: unknown): Uint8Array {
    if (data === undefined || data === null) return EMPTY;
    if (data instanceof Uint8Array) return data;
    if (this.#details === undefined) return EMPTY;
    try {
      return this.#details.encode(data);
    } catch {
      return EMPTY; // data of another shape (zod's issues, say) does not travel
    }
  }

  #decodeDetails(bytes: Uint8Array): unknown {
    if (this.#details === undefined) return bytes;
    try {
      return this.#details.decode(bytes);
    } catch {
      return bytes;
    }
  }
}
