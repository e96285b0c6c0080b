// Thrift's two ways of failing a call on the wire: a declared exception (a
// REPLY whose result struct sets that exception's field), which reaches the
// caller as a ThriftException, and TApplicationException (an EXCEPTION
// message) for every other error, whose type maps to and from the
// JSON-RPC-style error codes.

import { ErrorCode, RpcError } from "../../rpc/errors.ts";
import type { ThriftFunction, ThriftStruct } from "./schema.ts";

/**
 * TApplicationException's types, as Apache Thrift numbers them. An error
 * that is no declared exception travels as a TApplicationException; the
 * caller's error `data` holds its `type`.
 *
 * @example An unknown function, answered UNKNOWN_METHOD
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../../rpc/peer.ts";
 * import { memoryPair } from "../../rpc/testing.ts";
 * import { loadThrift, TApplicationExceptionType, thriftRpc } from "../thrift.ts";
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
 * import { RpcError } from "../../rpc/errors.ts";
 * import { Peer } from "../../rpc/peer.ts";
 * import { memoryPair } from "../../rpc/testing.ts";
 * import { loadThrift, ThriftException, thriftRpc } from "../thrift.ts";
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

/** The code and message of the error a declared exception becomes for the caller. */
export type ExceptionError = (
  exception: string,
  fields: Record<string, unknown>,
) => { code: number; message: string };

/** Code 1 and the exception's first string field (else its name). */
export const defaultExceptionError: ExceptionError = (exception, fields) => {
  const text = Object.values(fields).find((v) => typeof v === "string") as string | undefined;
  return { code: 1, message: text ?? exception };
};

/** TApplicationException's fields. */
export const APPLICATION_EXCEPTION: ThriftStruct = (() => {
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
 * The result field of the declared exception that `data` is an instance of:
 * a plain object whose keys are all fields of that exception.
 */
export function declaredException(fn: ThriftFunction, data: unknown): string | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  const keys = Object.keys(data);
  for (const thrown of fn.throws) {
    if (thrown.type.kind !== "struct") continue;
    const exception = thrown.type.resolve();
    if (keys.every((k) => exception.byName.has(k))) return thrown.name;
  }
  return undefined;
}

/** The TApplicationException type an error code travels as. */
export function applicationExceptionType(code: number): number {
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

/** The error code a received TApplicationException's type becomes. */
export function codeOfApplicationException(type: number): number {
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
