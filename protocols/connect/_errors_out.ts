/**
 * What a handler threw, as the Connect error a reply carries: unary calls
 * send it as the JSON body, streaming calls in the end-of-stream message.
 *
 * @module
 */

import type { ProtoMethod } from "../../codecs/protobuf/schema.ts";
import type { StatusOptions } from "../grpc/_status.ts";
import { RpcError } from "../../rpc/errors.ts";
import type { RpcErrorObject } from "../../rpc/types.ts";
import { type ConnectCode, connectCodeOf, ConnectError } from "./errors.ts";
import type { WireError } from "./_end_stream.ts";

/**
 * How errors map: the options of `connectHandler` that say so, as gRPC's
 * statuses have them, with Connect's code of an application error.
 */
export interface ErrorMapping extends Omit<StatusOptions, "errorStatus"> {
  /** The code of an application error; `unknown` when absent or `undefined`. */
  readonly errorCode?: (error: RpcErrorObject) => ConnectCode | undefined;
}

/** The two steps from a thrown error to the error on the wire. */
export interface ErrorsOut {
  /**
   * A thrown error as a `ConnectError`: a `ConnectError` as it is, an
   * `RpcError` by its code (its `data` one detail of `errorDetails`),
   * anything else `internal` with its message hidden unless `exposeErrors`.
   */
  connectErrorOf(error: unknown): ConnectError;
  /** A `ConnectError` with its details encoded (a detail that does not encode is left out). */
  wireErrorOf(error: ConnectError): WireError;
}

/**
 * The error mapping of one handler.
 *
 * @param mapping the schema, the details' type and the codes
 * @returns its two steps
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "../../codecs/protobuf.ts";
 * import { RpcError } from "../../rpc/errors.ts";
 * import { errorsOut } from "./_errors_out.ts";
 *
 * const schema = loadProto(`syntax = "proto3"; package p; message Why { string why = 1; }`);
 * const out = errorsOut({
 *   schema,
 *   errorDetails: "p.Why",
 *   errorCode: () => "invalid_argument",
 *   exposeErrors: false,
 *   onError() {},
 * });
 * const error = out.connectErrorOf(new RpcError(1, "no", { why: "no" }));
 * assert.equal(error.connectCode, "invalid_argument");
 * assert.deepEqual(out.wireErrorOf(error).details[0]?.type, "p.Why");
 * assert.equal(out.connectErrorOf(new Error("secret")).message, "Internal error");
 * ```
 */
export function errorsOut(mapping: ErrorMapping): ErrorsOut {
  const { schema, onError } = mapping;
  const details = mapping.errorDetails === undefined
    ? undefined
    : schema.message(mapping.errorDetails);
  return {
    connectErrorOf(error) {
      if (error instanceof ConnectError) return error;
      if (!(error instanceof RpcError)) {
        onError(error);
        const message = mapping.exposeErrors && error instanceof Error
          ? error.message
          : "Internal error";
        return new ConnectError("internal", message || "Internal error");
      }
      const object = error.toObject();
      const code = connectCodeOf(object, mapping.errorCode?.(object) ?? "unknown");
      let found: { type: string; value: unknown }[] = [];
      if (details !== undefined && object.data !== undefined) {
        try {
          found = [{ type: details.name, value: details.encode(object.data) }];
        } catch {
          found = []; // data of another shape (zod's issues, say) does not travel
        }
      }
      return new ConnectError(code, object.message, found);
    },
    wireErrorOf(error) {
      const encoded = error.details.flatMap((d) => {
        if (d.value instanceof Uint8Array) return [{ type: d.type, value: d.value }];
        try {
          return [{ type: d.type, value: schema.message(d.type).encode(d.value) }];
        } catch (cause) {
          onError(cause);
          return [];
        }
      });
      return { code: error.connectCode, message: error.message, details: encoded };
    },
  };
}

/**
 * A handler's reply message encoded; a value that is not one is told to
 * `onError` and becomes an `internal` error (its message sent only with
 * `exposeErrors`).
 *
 * @param method the method whose reply it is
 * @param encode encodes the value (and throws for one that does not fit)
 * @param mapping `onError` and `exposeErrors`
 * @returns the encoded reply
 * @throws {ConnectError} `internal`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "../../codecs/protobuf.ts";
 * import { encodeReply } from "./_errors_out.ts";
 *
 * const schema = loadProto(`syntax = "proto3"; package p; message N { int32 n = 1; }
 *   service S { rpc M(N) returns (N); }`);
 * const method = schema.method("p.S/M")!;
 * const told: unknown[] = [];
 * const mapping = { exposeErrors: false, onError: (e: unknown) => told.push(e) };
 * assert.deepEqual(encodeReply(method, () => method.response.encode({ n: 1 }), mapping), new Uint8Array([8, 1]));
 * assert.throws(() => encodeReply(method, () => method.response.encode({ n: "x" }), mapping), {
 *   connectCode: "internal",
 *   message: "Internal error",
 * });
 * assert.equal(told.length, 1);
 * ```
 */
export function encodeReply(
  method: ProtoMethod,
  encode: () => Uint8Array,
  mapping: Pick<ErrorMapping, "exposeErrors" | "onError">,
): Uint8Array {
  try {
    return encode();
  } catch (error) {
    mapping.onError(
      new Error(`${method.name} returned a value that is not a ${method.response.name}`, {
        cause: error,
      }),
    );
    throw new ConnectError("internal", mapping.exposeErrors ? String(error) : "Internal error");
  }
}
