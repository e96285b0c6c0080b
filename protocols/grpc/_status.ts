/**
 * How what a handler threw becomes a gRPC status: the code (Connect's codes
 * are gRPC's, one mapping for both protocols), `grpc-message`, and
 * `grpc-status-details-bin` (a `google.rpc.Status` holding the error's data
 * as one detail).
 *
 * @module
 */

import { loadProto, type ProtoMessageType, type ProtoSchema } from "../../codecs/protobuf.ts";
import { RpcError } from "../../rpc/errors.ts";
import type { RpcErrorObject } from "../../rpc/types.ts";
import {
  codeOfHttpStatus,
  CONNECT_CODES,
  type ConnectCode,
  connectCodeOf,
  ConnectError,
  type ConnectErrorDetail,
} from "../connect/errors.ts";

/** A call's outcome when it is not OK. */
export interface GrpcStatus {
  /** The gRPC status code, 1 to 16. */
  readonly code: number;
  /** `grpc-message`, before percent-encoding. */
  readonly message: string;
  /** `grpc-status-details-bin`: an encoded `google.rpc.Status`. */
  readonly details?: Uint8Array;
}

/** What {@linkcode statusOf} needs to know. */
export interface StatusOptions {
  /** The schema that the details' types are in. */
  readonly schema: ProtoSchema;
  /** The message type that an `RpcError`'s `data` travels as in the details. */
  readonly errorDetails?: string;
  /** The gRPC status of an application error (an `RpcError` with its own code). */
  readonly errorStatus?: (error: RpcErrorObject) => number | undefined;
  /** Send the message of unexpected errors. */
  readonly exposeErrors: boolean;
  /** Told about unexpected errors. */
  readonly onError: (error: unknown) => void;
}

const STATUS_PROTO = `
syntax = "proto3";
package google.rpc;
message Any { string type_url = 1; bytes value = 2; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
`;
let statusType: ProtoMessageType | undefined;

/**
 * `google.rpc.Status` encoded, with one detail per `{ type, value }`
 * (`type` a full message name, `value` its encoding) as
 * `type.googleapis.com/` Any values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeStatusDetails } from "./_status.ts";
 *
 * // code 3, message "x", no details
 * assert.deepEqual(encodeStatusDetails(3, "x", []), new Uint8Array([8, 3, 18, 1, 120]));
 * ```
 */
export function encodeStatusDetails(
  code: number,
  message: string,
  details: readonly { type: string; value: Uint8Array }[],
): Uint8Array {
  // Google's common protos by hand: two messages, loaded on the first error with details.
  statusType ??= loadProto(STATUS_PROTO, { keepCase: true }).message("google.rpc.Status");
  return statusType.encode({
    code,
    message,
    details: details.map((d) => ({ type_url: `type.googleapis.com/${d.type}`, value: d.value })),
  });
}

/**
 * The details of a `grpc-status-details-bin` (a `google.rpc.Status`, in
 * base64 with or without padding): each `Any` as its type name and its
 * message decoded when the schema knows the type, else its bytes. Bytes
 * that are not a `google.rpc.Status` have no details.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "../../codecs/protobuf.ts";
 * import { decodeStatusDetails, encodeStatusDetails } from "./_status.ts";
 *
 * const schema = loadProto(`syntax = "proto3"; package p; message Why { string why = 1; }`);
 * const why = schema.message("p.Why").encode({ why: "no" });
 * const header = encodeStatusDetails(3, "no", [{ type: "p.Why", value: why }]).toBase64();
 * assert.deepEqual(decodeStatusDetails(header, schema), [{ type: "p.Why", value: { why: "no" } }]);
 * ```
 */
export function decodeStatusDetails(header: string, schema: ProtoSchema): ConnectErrorDetail[] {
  statusType ??= loadProto(STATUS_PROTO, { keepCase: true }).message("google.rpc.Status");
  let status: Record<string, unknown>;
  try {
    const bytes = Uint8Array.fromBase64(header.padEnd(Math.ceil(header.length / 4) * 4, "="));
    status = statusType.decode(bytes);
  } catch {
    return [];
  }
  const details = (status.details ?? []) as { type_url: string; value: Uint8Array }[];
  return details.map(({ type_url, value }) => {
    const type = type_url.slice(type_url.lastIndexOf("/") + 1);
    try {
      return { type, value: schema.message(type).decode(value) };
    } catch {
      return { type, value }; // a type this schema does not know, or bytes that do not decode
    }
  });
}

const CODE_NAMES = new Map<number, ConnectCode>(
  Object.entries(CONNECT_CODES).map(([name, code]) => [code, name as ConnectCode]),
);

/**
 * The Connect code of a gRPC status number (Connect's codes are gRPC's);
 * `unknown` for a number outside 1..16.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codeName } from "./_status.ts";
 *
 * assert.equal(codeName(3), "invalid_argument");
 * assert.equal(codeName(99), "unknown");
 * ```
 */
export function codeName(status: number): ConnectCode {
  return CODE_NAMES.get(status) ?? "unknown";
}

/**
 * The error a client rejects with for gRPC status `code`: a `ConnectError`
 * (an `RpcError` whose `code` is the status; Connect's codes are gRPC's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grpcError } from "./_status.ts";
 *
 * const error = grpcError(5, "No such user");
 * assert.equal(error.code, 5);
 * assert.equal(error.connectCode, "not_found");
 * ```
 */
export function grpcError(
  code: number,
  message: string,
  details: readonly ConnectErrorDetail[] = [],
  options?: ErrorOptions,
): ConnectError {
  return new ConnectError(codeName(code), message, details, options);
}

/**
 * The gRPC status of a reply whose HTTP status is not 200, as gRPC's spec
 * maps them (404 → 12 UNIMPLEMENTED, 503 → 14 UNAVAILABLE, …; 2 UNKNOWN
 * otherwise).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statusOfHttp } from "./_status.ts";
 *
 * assert.equal(statusOfHttp(404), 12);
 * assert.equal(statusOfHttp(418), 2);
 * ```
 */
export function statusOfHttp(status: number): number {
  return CONNECT_CODES[codeOfHttpStatus(status)];
}

/**
 * The status of what a handler threw: a `ConnectError` keeps its code; an
 * `RpcError` with one of parley's codes maps as in Connect (method not
 * found → 12, invalid params → 3, …), any other to `errorStatus` (2 UNKNOWN
 * by default), its `data` encoded as an `errorDetails` message in
 * `grpc-status-details-bin`; anything else is 13 INTERNAL, its message
 * hidden unless `exposeErrors`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "../../codecs/protobuf.ts";
 * import { RpcError } from "../../rpc/errors.ts";
 * import { statusOf } from "./_status.ts";
 *
 * const schema = loadProto(`syntax = "proto3"; package p; message Why { string why = 1; }`);
 * const status = statusOf(new RpcError(1, "no", { why: "no" }), {
 *   schema, errorDetails: "p.Why", errorStatus: () => 3, exposeErrors: false, onError() {},
 * });
 * assert.equal(status.code, 3);
 * assert.equal(status.message, "no");
 * assert.ok(status.details !== undefined);
 * ```
 */
export function statusOf(error: unknown, options: StatusOptions): GrpcStatus {
  if (error instanceof ConnectError) {
    const details = error.details.flatMap((d) => {
      const value = d.value instanceof Uint8Array ? d.value : encodeOrNothing(d.type, d.value);
      return value === undefined ? [] : [{ type: d.type, value }];
    });
    return withDetails(error.code, error.message, details);
  }
  if (!(error instanceof RpcError)) {
    options.onError(error);
    const message = options.exposeErrors && error instanceof Error ? error.message : "";
    return { code: CONNECT_CODES.internal, message: message || "Internal error" };
  }
  const object = error.toObject();
  const fallback = options.errorStatus?.(object) ?? CONNECT_CODES.unknown;
  const connectCode = connectCodeOf(object, "unknown");
  const code = connectCode === "unknown" ? fallback : CONNECT_CODES[connectCode];
  const type = options.errorDetails;
  const value = type === undefined || object.data === undefined
    ? undefined
    : encodeOrNothing(type, object.data);
  return withDetails(code, object.message, value === undefined ? [] : [{ type: type!, value }]);

  // Data of another shape (zod's issues, say) does not travel.
  function encodeOrNothing(type: string, data: unknown): Uint8Array | undefined {
    try {
      return options.schema.message(type).encode(data);
    } catch {
      return undefined;
    }
  }
}

function withDetails(
  code: number,
  message: string,
  details: readonly { type: string; value: Uint8Array }[],
): GrpcStatus {
  if (details.length === 0) return { code, message };
  return { code, message, details: encodeStatusDetails(code, message, details) };
}
