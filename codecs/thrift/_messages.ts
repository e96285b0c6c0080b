// One Thrift message's bytes, each way: a call's args struct, a reply's
// result struct (its `success` or a declared exception's field) and
// TApplicationException. Which call a reply answers (seqids, calls in
// flight) is the codec's business (_codec.ts): these see one message only.

import { ErrorCode } from "../../rpc/errors.ts";
import type { DecodedFrame, RpcErrorObject, RpcId, RpcParams } from "../../rpc/types.ts";
import { MessageType, type Protocol, type ProtocolName, writer } from "./_protocol.ts";
import { type ReadState, readStruct, writeStruct } from "./_values.ts";
import {
  APPLICATION_EXCEPTION,
  applicationExceptionType,
  codeOfApplicationException,
  declaredException,
  type ExceptionError,
  ThriftException,
} from "./_exceptions.ts";
import type { ThriftFunction } from "./schema.ts";

/**
 * A CALL (`MessageType.CALL`) or ONEWAY message of `fn`, its params,
 * positional or named, as the args struct.
 *
 * @throws {TypeError} for more params than `fn` takes
 * @throws {ThriftValueError} when a param does not fit its type
 */
export function writeCall(
  protocol: ProtocolName,
  method: string,
  mtype: number,
  seqid: number,
  fn: ThriftFunction,
  params: RpcParams | undefined,
): Uint8Array {
  const out = writer(protocol);
  const p = out.protocol;
  p.writeMessageBegin(method, mtype, seqid);
  writeStruct(p, fn.args, argsOf(params, fn), method);
  p.writeMessageEnd();
  return out.bytes();
}

/**
 * A REPLY carrying `result` as field 0 `success` (an empty struct for `void`).
 *
 * @throws {ThriftValueError} when the result does not fit its type
 */
export function writeResult(
  protocol: ProtocolName,
  name: string,
  seqid: number,
  fn: ThriftFunction,
  result: unknown,
): Uint8Array {
  const out = writer(protocol);
  const p = out.protocol;
  p.writeMessageBegin(name, MessageType.REPLY, seqid);
  writeStruct(p, fn.result, fn.returns === undefined ? {} : { success: result }, `${name} result`);
  p.writeMessageEnd();
  return out.bytes();
}

/**
 * An error as a REPLY with a declared exception of `fn` when its `data`
 * fits one, else as an EXCEPTION: a TApplicationException whose type
 * follows the error's code.
 */
export function writeError(
  protocol: ProtocolName,
  name: string,
  seqid: number,
  fn: ThriftFunction | undefined,
  error: RpcErrorObject,
): Uint8Array {
  const declared = fn === undefined ? undefined : declaredException(fn, error.data);
  if (declared !== undefined && fn !== undefined) {
    try {
      const inner = writer(protocol);
      inner.protocol.writeMessageBegin(name, MessageType.REPLY, seqid);
      writeStruct(inner.protocol, fn.result, { [declared]: error.data }, `${name} result`);
      inner.protocol.writeMessageEnd();
      return inner.bytes();
    } catch {
      // Data that does not fit after all: a TApplicationException below.
    }
  }
  const out = writer(protocol);
  const p = out.protocol;
  p.writeMessageBegin(name, MessageType.EXCEPTION, seqid);
  writeStruct(p, APPLICATION_EXCEPTION, {
    message: error.message,
    type: applicationExceptionType(error.code),
  }, "TApplicationException");
  p.writeMessageEnd();
  return out.bytes();
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

/**
 * Reads the rest of a CALL or ONEWAY message of `fn` (after its header):
 * the arguments in the IDL's order, absent ones as their zero values
 * (see {@linkcode ReadState.zeros}), trailing absent ones left out.
 *
 * @throws {ThriftRequiredError} when a required argument is absent; the
 * message has then been read whole
 */
export function readArgs(p: Protocol, state: ReadState, fn: ThriftFunction): unknown[] {
  state.zeros = true;
  const args = readStruct(p, fn.args, state);
  p.readMessageEnd();
  const params = fn.args.fields.map((f) => args[f.name]);
  while (params.length > 0 && params[params.length - 1] === undefined) params.pop();
  return params;
}

/**
 * Reads the rest of a REPLY or EXCEPTION message (after its header) that
 * answers the call `id` of `fn`: its result, a declared exception as a
 * {@linkcode ThriftException}, or a TApplicationException as an error.
 */
export function readReply(
  p: Protocol,
  state: ReadState,
  name: string,
  mtype: number,
  id: RpcId,
  fn: ThriftFunction,
  exceptionError: ExceptionError,
): DecodedFrame {
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
      const { code, message } = exceptionError(exception, record);
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
