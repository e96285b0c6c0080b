// The envelope codec of one connection (codecs/protobuf.ts makes it): each
// message kind encoded with its method's types, a frame told apart as a
// request or a reply (docs/protocol.md), the method of each call in flight
// both ways, and error details as the schema's message or as bytes. The
// envelope's bytes are _envelope.ts's, its smaller pieces _messages.ts's,
// stream events _stream_events.ts's.

import { DecodeError, ErrorCode } from "../../rpc/errors.ts";
import type {
  Codec,
  CodecFeatures,
  CodecForkOptions,
  DecodedFrame,
  Frame,
  RpcErrorObject,
  RpcId,
  RpcMessage,
} from "../../rpc/types.ts";
import { STREAM_EVENT } from "../../rpc/types.ts";
import { decodeStreamEvent, encodeStreamEvent } from "./_stream_events.ts";
import { invalid, malformedReply, methodName, remember, requestOf, wireId } from "./_messages.ts";
import {
  type EnvelopeError,
  readEnvelope,
  readError,
  writeFailure,
  writeRequest,
  writeResult,
} from "./_envelope.ts";
import type { ProtoMessageType, ProtoMethod, ProtoSchema } from "./schema.ts";

const FORMAT = "protobuf";
const EMPTY = new Uint8Array(0);

/** The protobuf envelope codec: fork one per connection (it keeps that connection's calls). */
export class ProtobufCodec implements Codec {
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
