// The Thrift codec of one connection: which function a name is (bare, or
// `Service:method` when multiplexed), the sequence ids of the calls it
// sent and the ids of those it received, so that replies find their call;
// the message bodies are _messages.ts's, where a buffered message ends
// _measure.ts's.

import { DecodeError, ErrorCode } from "../../rpc/errors.ts";
import type {
  Codec,
  DecodedFrame,
  Frame,
  MeasureState,
  RpcId,
  RpcMessage,
} from "../../rpc/types.ts";
import {
  isUnderrun,
  MessageType,
  type Protocol,
  type ProtocolName,
  reader,
  TType,
} from "./_protocol.ts";
import { MessageWalk } from "./_measure.ts";
import { type ReadState, skipValue } from "./_values.ts";
import { ThriftRequiredError } from "./_errors.ts";
import type { ExceptionError } from "./_exceptions.ts";
import { readArgs, readReply, writeCall, writeError, writeResult } from "./_messages.ts";
import type { ThriftFunction, ThriftSchema, ThriftService } from "./schema.ts";

/** The codec's options, resolved (thriftRpc's defaults filled in). */
export interface Settings {
  /** The IDL. */
  readonly schema: ThriftSchema;
  /** The service whose functions are called by bare name. */
  readonly service: ThriftService | undefined;
  /** TBinaryProtocol or TCompactProtocol. */
  readonly protocol: ProtocolName;
  /** TMultiplexedProtocol: `Service:method` names. */
  readonly multiplexed: boolean;
  /** The error a declared exception becomes for the caller. */
  readonly exceptionError: ExceptionError;
  /** Largest message `measure()` waits for, in bytes. */
  readonly maxSize: number;
  /** How many calls in flight are remembered, each way. */
  readonly maxInFlight: number;
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

/** The Thrift codec: fork one per connection (it keeps that connection's calls). */
export class ThriftCodec implements Codec {
  /** The codec's name. */
  readonly name = FORMAT;
  /** The media type of its frames over HTTP. */
  readonly mediaType = "application/x-thrift";
  /** No batches; ONEWAY notifications; a message that cannot be read closes the stream. */
  readonly features = { batch: false, notifications: true, replyToParseError: false } as const;
  readonly #settings: Settings;
  // Calls this side made, by sequence id; calls it received, by id.
  readonly #outgoing = new Map<number, Outgoing>();
  readonly #incoming = new Map<RpcId, Incoming>();
  #nextSeqId = 1;

  /** Creates the codec of one connection. */
  constructor(settings: Settings) {
    this.#settings = settings;
  }

  /** A codec with the same settings and no calls, for another connection. */
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

  /** A message's bytes; a result or error answers the call received with its id. */
  encode(message: RpcMessage | readonly RpcMessage[]): Frame {
    if (Array.isArray(message)) throw new TypeError("Thrift carries no batches");
    const one = message as RpcMessage;
    const { protocol } = this.#settings;
    switch (one.kind) {
      case "request":
      case "notification": {
        const fn = this.#function(one.method);
        if (fn === undefined) {
          throw new TypeError(`"${one.method}" is not a function of the Thrift service`);
        }
        if (one.kind === "notification") {
          return writeCall(protocol, one.method, MessageType.ONEWAY, 0, fn, one.params);
        }
        if (fn.oneway) throw new TypeError(`${one.method} is oneway: send it as a notification`);
        const seqid = this.#nextSeqId;
        this.#nextSeqId = seqid >= 0x7fffffff ? 1 : seqid + 1;
        const bytes = writeCall(protocol, one.method, MessageType.CALL, seqid, fn, one.params);
        this.#outgoing.set(seqid, { id: one.id, fn });
        if (this.#outgoing.size > this.#settings.maxInFlight) {
          this.#outgoing.delete(this.#outgoing.keys().next().value!);
        }
        return bytes;
      }
      case "result": {
        const call = this.#incoming.get(one.id);
        if (call?.fn === undefined) {
          throw new TypeError(`No call with id ${one.id} was received on this connection`);
        }
        const bytes = writeResult(protocol, call.name, Number(one.id), call.fn, one.result);
        this.#incoming.delete(one.id);
        return bytes;
      }
      case "error": {
        const call = one.id === null ? undefined : this.#incoming.get(one.id);
        if (one.id !== null) this.#incoming.delete(one.id);
        const seqid = one.id === null ? 0 : Number(one.id);
        return writeError(protocol, call?.name ?? "", seqid, call?.fn, one.error);
      }
    }
  }

  /** A message from its bytes: a reply finds the call it answers by seqid. */
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
    let params;
    try {
      params = readArgs(p, state, fn);
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
    return readReply(p, state, name, mtype, call.id, call.fn, this.#settings.exceptionError);
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
