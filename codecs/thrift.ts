/**
 * The Thrift codec: services from `.thrift` IDL loaded at run time
 * ({@linkcode loadThrift}), on the wire through Apache Thrift's own
 * TBinaryProtocol and TCompactProtocol from the `thrift` npm package, so
 * that Apache Thrift's clients and servers in every language are peers.
 *
 * A Thrift message is one frame: on TCP, `lengthPrefix()` is Thrift's
 * *framed* transport and `selfDelimiting(codec.measure)` its *buffered*
 * one (each message delimits itself); over HTTP one message per POST
 * (THttpServer style); on a WebSocket one binary message each.
 *
 * | parley | Thrift |
 * |---|---|
 * | request `add`, params `[1, 2]` or `{num1: 1, num2: 2}` | CALL `add`, the args struct by field id |
 * | notification | ONEWAY (seqid 0) |
 * | result | REPLY, field 0 `success` (empty struct for `void`) |
 * | an error whose `data` fits a declared exception | REPLY with that exception's field set |
 * | -32601 / -32600 / -32602 / other errors | EXCEPTION: TApplicationException UNKNOWN_METHOD / INVALID_MESSAGE_TYPE / PROTOCOL_ERROR / INTERNAL_ERROR |
 *
 * Ids travel as 32-bit sequence ids; each connection maps them back. A
 * declared exception reaches the caller as an error whose `data` is the
 * exception's fields (its code and message from `exceptionError`). Fields
 * of the wrong type (another wire type than the IDL's, or a non-empty
 * container of other element types, at any depth) and unknown fields are
 * skipped, as Thrift requires. A call's arguments are read as Apache
 * Thrift's C++ server reads them: an absent field (never sent, or skipped)
 * of default requiredness holds its IDL default, else its type's zero value
 * (false, 0, "", empty), so that the handler gets a value for every
 * argument; a required one left missing is invalid params, answered
 * PROTOCOL_ERROR. Replies keep absent fields absent. A message that cannot
 * be read closes the connection (a Thrift stream cannot resynchronise).
 *
 * With `multiplexed: true` the codec speaks TMultiplexedProtocol: methods
 * travel as `Service:method`, and several services share one port (serve an
 * object keyed by those names, which {@linkcode thriftService} makes).
 *
 * @example A call and its reply through TBinaryProtocol
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadThrift, thriftRpc } from "./thrift.ts";
 *
 * const schema = loadThrift("service Adder { i64 add(1: i64 a, 2: i64 b) }");
 * const client = thriftRpc({ schema }).fork!();
 * const server = thriftRpc({ schema }).fork!();
 * const call = server.decode(client.encode({ kind: "request", id: 1, method: "add", params: [2, 40] }));
 * assert.deepEqual(call, { kind: "request", id: 1, method: "add", params: [2n, 40n] });
 * const reply = server.encode({ kind: "result", id: 1, result: 42n });
 * assert.deepEqual(client.decode(reply), { kind: "result", id: 1, result: 42n });
 * ```
 *
 * @module
 */

import { DecodeError, ErrorCode, RpcError } from "../rpc/errors.ts";
import type {
  Codec,
  DecodedFrame,
  Frame,
  MeasureState,
  RpcId,
  RpcMessage,
  RpcParams,
} from "../rpc/types.ts";
import {
  isUnderrun,
  MessageType,
  type Protocol,
  type ProtocolName,
  reader,
  TType,
  writer,
} from "./thrift/_protocol.ts";
import { MessageWalk } from "./thrift/_measure.ts";
import {
  type ReadState,
  readStruct,
  skipValue,
  ThriftRequiredError,
  writeStruct,
} from "./thrift/_values.ts";
import type { ThriftFunction, ThriftSchema, ThriftService, ThriftStruct } from "./thrift/schema.ts";

export {
  loadThrift,
  type ThriftField,
  type ThriftFunction,
  type ThriftSchema,
  type ThriftService,
  type ThriftStruct,
  type ThriftType,
} from "./thrift/schema.ts";
export { ThriftReadError, ThriftValueError } from "./thrift/_values.ts";
export { thriftService } from "./thrift/service.ts";

/**
 * TApplicationException's types, as Apache Thrift numbers them. An error
 * that is no declared exception travels as a TApplicationException; the
 * caller's error `data` holds its `type`.
 *
 * @example An unknown function, answered UNKNOWN_METHOD
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../rpc/peer.ts";
 * import { memoryPair } from "../rpc/testing.ts";
 * import { loadThrift, TApplicationExceptionType, thriftRpc } from "./thrift.ts";
 *
 * const schema = loadThrift("service Clock { i64 now(), void reset() }");
 * const [a, b] = memoryPair();
 * // The server implements now() only.
 * const server = new Peer(a, { codec: thriftRpc({ schema }), service: { now: () => 0n } });
 * const client = new Peer(b, { codec: thriftRpc({ schema }) });
 * await assert.rejects(client.call("reset"), {
 *   code: -32601,
 *   data: { type: TApplicationExceptionType.UNKNOWN_METHOD },
 * });
 * await client.close();
 * await server.closed;
 * ```
 */
export const TApplicationExceptionType = {
  UNKNOWN: 0,
  UNKNOWN_METHOD: 1,
  INVALID_MESSAGE_TYPE: 2,
  WRONG_METHOD_NAME: 3,
  BAD_SEQUENCE_ID: 4,
  MISSING_RESULT: 5,
  INTERNAL_ERROR: 6,
  PROTOCOL_ERROR: 7,
} as const;

/**
 * A declared exception of a Thrift function, as the caller receives it: an
 * `RpcError` (code and message from the codec's `exceptionError`, `data` the
 * exception's fields) that also says which exception it is.
 *
 * @example A handler's error that fits a declared exception
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "../rpc/errors.ts";
 * import { Peer } from "../rpc/peer.ts";
 * import { memoryPair } from "../rpc/testing.ts";
 * import { loadThrift, ThriftException, thriftRpc } from "./thrift.ts";
 *
 * const schema = loadThrift(`
 *   exception InvalidOperation { 1: i32 whatOp, 2: string why }
 *   service Divider { i32 divide(1: i32 a, 2: i32 b) throws (1: InvalidOperation ouch) }
 * `);
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec: thriftRpc({ schema }),
 *   service: {
 *     divide: (x: number, y: number) => {
 *       // Data whose keys are the exception's fields travels as that exception.
 *       if (y === 0) throw new RpcError(1, "no", { whatOp: 4, why: "Cannot divide by 0" });
 *       return Math.trunc(x / y);
 *     },
 *   },
 * });
 * const client = new Peer(b, { codec: thriftRpc({ schema }) });
 * const error = await client.call("divide", [1, 0]).catch((e) => e);
 * assert.ok(error instanceof ThriftException);
 * assert.equal(error.exception, "InvalidOperation");
 * assert.deepEqual(error.fields, { whatOp: 4, why: "Cannot divide by 0" });
 * assert.equal(error.message, "Cannot divide by 0"); // its first string field, by default
 * await client.close();
 * await server.closed;
 * ```
 */
export class ThriftException extends RpcError {
  /** The exception's type name in the IDL, such as `"InvalidOperation"`. */
  readonly exception: string;
  /** The exception's fields (also its `data`). */
  readonly fields: Record<string, unknown>;

  /**
   * Creates the error.
   *
   * @param exception the exception's type name
   * @param fields its fields
   * @param code the error code
   * @param message the message
   */
  constructor(exception: string, fields: Record<string, unknown>, code: number, message: string) {
    super(code, message, fields);
    this.name = "ThriftException";
    this.exception = exception;
    this.fields = fields;
  }
}

/** Options of {@linkcode thriftRpc}. */
export interface ThriftRpcOptions {
  /** The IDL, from {@linkcode loadThrift}. */
  readonly schema: ThriftSchema;
  /** The service whose functions are called by bare name; the schema's only service by default. */
  readonly service?: string;
  /** `"binary"` (TBinaryProtocol, the default) or `"compact"` (TCompactProtocol). */
  readonly protocol?: "binary" | "compact";
  /** Speak TMultiplexedProtocol: methods as `Service:method`. */
  readonly multiplexed?: boolean;
  /**
   * The code and message of the error a declared exception becomes for the
   * caller; `data` is always the exception's fields. By default code 1 and
   * the exception's first string field (else its name).
   */
  readonly exceptionError?: (
    exception: string,
    fields: Record<string, unknown>,
  ) => { code: number; message: string };
  /** Largest message `measure()` waits for, in bytes; 16 MiB by default. */
  readonly maxSize?: number;
  /** How many calls in flight a connection keeps the function of, each way; 65,536 by default. */
  readonly maxInFlight?: number;
}

const FORMAT = "thrift";

interface Outgoing {
  readonly id: RpcId;
  readonly fn: ThriftFunction;
}

interface Incoming {
  readonly name: string;
  readonly fn: ThriftFunction | undefined;
}

/** TApplicationException's fields. */
const APPLICATION_EXCEPTION: ThriftStruct = (() => {
  const fields = [
    { id: 1, name: "message", type: { kind: "string" }, requiredness: "optional" },
    { id: 2, name: "type", type: { kind: "i32" }, requiredness: "optional" },
  ] as const;
  return {
    name: "TApplicationException",
    kind: "exception",
    fields,
    byId: new Map(fields.map((f) => [f.id, f])),
    byName: new Map(fields.map((f) => [f.name, f])),
  };
})();

/**
 * Creates the Thrift codec for a schema.
 *
 * @param options the schema, the service, the protocol, multiplexing
 * @returns the codec (binary; fork one per connection, as peers do)
 * @throws {Error} when `service` is not in the schema, or the schema has
 * several services and none is named (unless multiplexed)
 *
 * @example Two peers over TCompactProtocol, with named params
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../rpc/peer.ts";
 * import { memoryPair } from "../rpc/testing.ts";
 * import { loadThrift, thriftRpc } from "./thrift.ts";
 *
 * const schema = loadThrift("service Greeter { string greet(1: string name, 2: i32 times) }");
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec: thriftRpc({ schema, protocol: "compact" }),
 *   service: { greet: (name: string, times: number) => `Hello, ${name}`.repeat(times) },
 * });
 * const client = new Peer(b, { codec: thriftRpc({ schema, protocol: "compact" }) });
 * // Params by position or by field name: both become the args struct.
 * assert.equal(await client.call("greet", ["Ada", 1]), "Hello, Ada");
 * assert.equal(await client.call("greet", { name: "Ada", times: 2 }), "Hello, AdaHello, Ada");
 * await client.close();
 * await server.closed;
 * ```
 */
export function thriftRpc(options: ThriftRpcOptions): Codec {
  const services = options.schema.services;
  const name = options.service ??
    (services.size === 1 ? [...services.keys()][0] : undefined);
  if (name === undefined && options.multiplexed !== true) {
    throw new Error(
      `The schema has ${services.size} services: name the one to speak (service), or multiplex`,
    );
  }
  const settings: Settings = {
    schema: options.schema,
    service: name === undefined ? undefined : options.schema.service(name),
    protocol: options.protocol ?? "binary",
    multiplexed: options.multiplexed === true,
    exceptionError: options.exceptionError ?? defaultExceptionError,
    maxSize: options.maxSize ?? 16 * 1024 * 1024,
    maxInFlight: options.maxInFlight ?? 65_536,
  };
  return new ThriftCodec(settings);
}

interface Settings {
  readonly schema: ThriftSchema;
  readonly service: ThriftService | undefined;
  readonly protocol: ProtocolName;
  readonly multiplexed: boolean;
  readonly exceptionError: NonNullable<ThriftRpcOptions["exceptionError"]>;
  readonly maxSize: number;
  readonly maxInFlight: number;
}

function defaultExceptionError(exception: string, fields: Record<string, unknown>) {
  const text = Object.values(fields).find((v) => typeof v === "string") as string | undefined;
  return { code: 1, message: text ?? exception };
}

class ThriftCodec implements Codec {
  readonly name = FORMAT;
  readonly mediaType = "application/x-thrift";
  readonly features = { batch: false, notifications: true, replyToParseError: false } as const;
  readonly #settings: Settings;
  // Calls this side made, by sequence id; calls it received, by id.
  readonly #outgoing = new Map<number, Outgoing>();
  readonly #incoming = new Map<RpcId, Incoming>();
  #nextSeqId = 1;

  constructor(settings: Settings) {
    this.#settings = settings;
  }

  fork(): Codec {
    return new ThriftCodec(this.#settings);
  }

  // "Calculator:add" or "add" → the function, or undefined.
  #function(name: string): ThriftFunction | undefined {
    const { multiplexed, schema, service } = this.#settings;
    const colon = name.indexOf(":");
    if (multiplexed && colon !== -1) {
      return schema.services.get(name.slice(0, colon))?.functions.get(name.slice(colon + 1));
    }
    return service?.functions.get(name);
  }

  encode(message: RpcMessage | readonly RpcMessage[]): Frame {
    if (Array.isArray(message)) throw new TypeError("Thrift carries no batches");
    const one = message as RpcMessage;
    // One writer at a time (they share a buffer): each branch makes its own.
    switch (one.kind) {
      case "request":
      case "notification": {
        const fn = this.#function(one.method);
        if (fn === undefined) {
          throw new TypeError(`"${one.method}" is not a function of the Thrift service`);
        }
        const out = writer(this.#settings.protocol);
        const p = out.protocol;
        let seqid = 0;
        if (one.kind === "request") {
          if (fn.oneway) throw new TypeError(`${one.method} is oneway: send it as a notification`);
          seqid = this.#nextSeqId;
          this.#nextSeqId = seqid >= 0x7fffffff ? 1 : seqid + 1;
        }
        p.writeMessageBegin(
          one.method,
          one.kind === "request" ? MessageType.CALL : MessageType.ONEWAY,
          seqid,
        );
        writeStruct(p, fn.args, argsOf(one.params, fn), one.method);
        p.writeMessageEnd();
        const bytes = out.bytes();
        if (one.kind === "request") {
          this.#outgoing.set(seqid, { id: one.id, fn });
          if (this.#outgoing.size > this.#settings.maxInFlight) {
            this.#outgoing.delete(this.#outgoing.keys().next().value!);
          }
        }
        return bytes;
      }
      case "result": {
        const call = this.#incoming.get(one.id);
        if (call?.fn === undefined) {
          throw new TypeError(`No call with id ${one.id} was received on this connection`);
        }
        const out = writer(this.#settings.protocol);
        const p = out.protocol;
        p.writeMessageBegin(call.name, MessageType.REPLY, Number(one.id));
        writeStruct(
          p,
          call.fn.result,
          call.fn.returns === undefined ? {} : { success: one.result },
          `${call.name} result`,
        );
        p.writeMessageEnd();
        const bytes = out.bytes();
        this.#incoming.delete(one.id);
        return bytes;
      }
      case "error": {
        const call = one.id === null ? undefined : this.#incoming.get(one.id);
        if (one.id !== null) this.#incoming.delete(one.id);
        const seqid = one.id === null ? 0 : Number(one.id);
        const name = call?.name ?? "";
        const declared = call?.fn === undefined
          ? undefined
          : declaredException(call.fn, one.error.data);
        if (declared !== undefined && call?.fn !== undefined) {
          try {
            const inner = writer(this.#settings.protocol);
            inner.protocol.writeMessageBegin(name, MessageType.REPLY, seqid);
            writeStruct(
              inner.protocol,
              call.fn.result,
              { [declared]: one.error.data },
              `${name} result`,
            );
            inner.protocol.writeMessageEnd();
            return inner.bytes();
          } catch {
            // Data that does not fit after all: a TApplicationException below.
          }
        }
        const out = writer(this.#settings.protocol);
        const p = out.protocol;
        p.writeMessageBegin(name, MessageType.EXCEPTION, seqid);
        writeStruct(p, APPLICATION_EXCEPTION, {
          message: one.error.message,
          type: applicationExceptionType(one.error.code),
        }, "TApplicationException");
        p.writeMessageEnd();
        return out.bytes();
      }
    }
  }

  decode(frame: Frame): DecodedFrame {
    if (typeof frame === "string") {
      throw new DecodeError(FORMAT, "A Thrift message is binary, not text");
    }
    const input = reader(this.#settings.protocol, frame);
    const p = input.protocol;
    const state: ReadState = { remaining: input.remaining, depth: 0 };
    let header: { fname: string; mtype: number; rseqid: number };
    try {
      header = p.readMessageBegin();
    } catch (error) {
      throw new DecodeError(FORMAT, `Not a Thrift message: ${messageOf(error)}`, undefined, {
        cause: error,
      });
    }
    const { fname, mtype, rseqid } = header;
    try {
      switch (mtype) {
        case MessageType.CALL:
        case MessageType.ONEWAY:
          return this.#call(p, state, fname, mtype, rseqid);
        case MessageType.REPLY:
        case MessageType.EXCEPTION:
          return this.#reply(p, state, fname, mtype, rseqid);
        default:
          this.#incoming.set(rseqid, { name: fname, fn: undefined });
          return {
            kind: "invalid",
            id: rseqid,
            error: { code: ErrorCode.InvalidRequest, message: `Invalid message type ${mtype}` },
          };
      }
    } catch (error) {
      if (error instanceof DecodeError) throw error;
      throw new DecodeError(FORMAT, `${fname}: ${messageOf(error)}`, undefined, { cause: error });
    }
  }

  #call(p: Protocol, state: ReadState, name: string, mtype: number, seqid: number): DecodedFrame {
    const fn = this.#function(name);
    // Replies carry the bare name, as Apache Thrift's TMultiplexedProcessor
    // has them: clients find their handler by it.
    const replyName = this.#settings.multiplexed ? name.slice(name.indexOf(":") + 1) : name;
    const oneway = mtype === MessageType.ONEWAY;
    if (fn === undefined) {
      // The arguments are skipped, so that a framing without lengths stays in step.
      skipValue(p, TType.STRUCT, state);
      if (oneway) {
        return {
          kind: "invalid",
          id: undefined,
          error: { code: ErrorCode.MethodNotFound, message: `Unknown function ${name}` },
        };
      }
      this.#incoming.set(seqid, { name: replyName, fn: undefined });
      return {
        kind: "invalid",
        id: seqid,
        error: {
          code: ErrorCode.MethodNotFound,
          message: `Unknown function ${name}`,
          data: { method: name },
        },
      };
    }
    let args;
    try {
      state.zeros = true;
      args = readStruct(p, fn.args, state);
    } catch (error) {
      if (!(error instanceof ThriftRequiredError)) throw error;
      // Read whole (the frame is the message), so the stream is in step: it
      // is answered, as Apache Thrift's Java server answers it.
      const invalidParams = {
        code: ErrorCode.InvalidParams,
        message: `Invalid params: ${error.message}`,
      };
      if (oneway) return { kind: "invalid", id: undefined, error: invalidParams };
      this.#incoming.set(seqid, { name: replyName, fn: undefined });
      return { kind: "invalid", id: seqid, error: invalidParams };
    }
    p.readMessageEnd();
    const params = fn.args.fields.map((f) => args[f.name]);
    while (params.length > 0 && params[params.length - 1] === undefined) params.pop();
    if (oneway) return { kind: "notification", method: name, params };
    this.#incoming.set(seqid, { name: replyName, fn });
    if (this.#incoming.size > this.#settings.maxInFlight) {
      this.#incoming.delete(this.#incoming.keys().next().value!);
    }
    return { kind: "request", id: seqid, method: name, params };
  }

  #reply(p: Protocol, state: ReadState, name: string, mtype: number, seqid: number): DecodedFrame {
    const call = this.#outgoing.get(seqid);
    if (call === undefined) {
      if (mtype === MessageType.EXCEPTION) {
        // Answering it would be an EXCEPTION too, which the other end could
        // answer again, forever: the connection is closed instead.
        throw new DecodeError(
          FORMAT,
          `An EXCEPTION for seqid ${seqid}, which is no call of this end`,
        );
      }
      skipValue(p, TType.STRUCT, state);
      this.#incoming.set(seqid, { name, fn: undefined });
      return {
        kind: "invalid",
        id: seqid,
        error: {
          code: ErrorCode.InvalidRequest,
          message: `Invalid message type: a REPLY to no call (seqid ${seqid})`,
        },
      };
    }
    this.#outgoing.delete(seqid);
    const { id, fn } = call;
    if (mtype === MessageType.EXCEPTION) {
      const fields = readStruct(p, APPLICATION_EXCEPTION, state);
      const type = typeof fields.type === "number" ? fields.type : 0;
      return {
        kind: "error",
        id,
        error: {
          code: codeOfApplicationException(type),
          message: typeof fields.message === "string" ? fields.message : "TApplicationException",
          data: { type },
        },
      };
    }
    const result = readStruct(p, fn.result, state);
    p.readMessageEnd();
    for (const thrown of fn.throws) {
      const fields = result[thrown.name];
      if (fields !== undefined) {
        const exception = thrown.type.kind === "struct" ? thrown.type.name : thrown.name;
        const record = fields as Record<string, unknown>;
        const { code, message } = this.#settings.exceptionError(exception, record);
        // An RpcError of its own kind, which peers reject the call with as it is.
        return { kind: "error", id, error: new ThriftException(exception, record, code, message) };
      }
    }
    if (fn.returns === undefined) return { kind: "result", id, result: null };
    if (!("success" in result)) {
      return {
        kind: "error",
        id,
        error: {
          code: ErrorCode.InternalError,
          message: `${name} failed: unknown result (MISSING_RESULT)`,
        },
      };
    }
    return { kind: "result", id, result: result.success };
  }

  /**
   * The length of the first whole message at the start of `buffer`, found
   * by walking through it (Thrift's buffered transport has no lengths).
   * With `state`, a walk that runs out of bytes goes on from where it
   * stopped when called again with more.
   */
  measure(buffer: Uint8Array, state?: MeasureState): number | undefined {
    let walk = state?.resume;
    if (!(walk instanceof MessageWalk)) {
      walk = new MessageWalk(this.#settings.protocol, this.#settings.maxSize);
      if (state !== undefined) state.resume = walk;
    }
    try {
      return (walk as MessageWalk).walk(buffer);
    } catch (error) {
      throw new DecodeError(FORMAT, `Not a Thrift message: ${messageOf(error)}`, undefined, {
        cause: error,
      });
    }
  }
}

function messageOf(error: unknown): string {
  if (isUnderrun(error)) return "the message is truncated";
  return error instanceof Error ? error.message || error.name : String(error);
}

// Params, positional or named, as the args struct.
function argsOf(params: RpcParams | undefined, fn: ThriftFunction): Record<string, unknown> {
  if (params === undefined) return {};
  if (!Array.isArray(params)) return params as Record<string, unknown>;
  if (params.length > fn.args.fields.length) {
    throw new TypeError(
      `${fn.name} takes ${fn.args.fields.length} arguments, not ${params.length}`,
    );
  }
  const args: Record<string, unknown> = {};
  params.forEach((value, i) => {
    if (value !== undefined) args[fn.args.fields[i]!.name] = value;
  });
  return args;
}

// The result field of the declared exception that `data` is an instance of:
// a plain object whose keys are all fields of that exception.
function declaredException(fn: ThriftFunction, data: unknown): string | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  const keys = Object.keys(data);
  for (const thrown of fn.throws) {
    if (thrown.type.kind !== "struct") continue;
    const exception = thrown.type.resolve();
    if (keys.every((k) => exception.byName.has(k))) return thrown.name;
  }
  return undefined;
}

function applicationExceptionType(code: number): number {
  switch (code) {
    case ErrorCode.MethodNotFound:
      return TApplicationExceptionType.UNKNOWN_METHOD;
    case ErrorCode.InvalidRequest:
      return TApplicationExceptionType.INVALID_MESSAGE_TYPE;
    case ErrorCode.InvalidParams:
      return TApplicationExceptionType.PROTOCOL_ERROR;
    default:
      return TApplicationExceptionType.INTERNAL_ERROR;
  }
}

function codeOfApplicationException(type: number): number {
  switch (type) {
    case TApplicationExceptionType.UNKNOWN_METHOD:
      return ErrorCode.MethodNotFound;
    case TApplicationExceptionType.INVALID_MESSAGE_TYPE:
      return ErrorCode.InvalidRequest;
    case TApplicationExceptionType.PROTOCOL_ERROR:
      return ErrorCode.InvalidParams;
    default:
      return ErrorCode.InternalError;
  }
}
