/**
 * Connect's error model: its codes, their HTTP statuses, `ConnectError`,
 * and how parley's numeric error codes map onto Connect codes.
 *
 * @module
 */

import { ErrorCode, RpcError } from "../../rpc/errors.ts";
import type { RpcErrorObject } from "../../rpc/types.ts";

/**
 * Connect's error codes (gRPC's, in snake case), by their gRPC numbers.
 *
 * @example A ConnectError's numeric code is its gRPC number
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONNECT_CODES, ConnectError } from "../connect.ts";
 *
 * assert.equal(CONNECT_CODES.not_found, 5);
 * assert.equal(new ConnectError("not_found", "No such user").code, CONNECT_CODES.not_found);
 * // A gRPC status number back to its Connect code.
 * const byNumber = new Map(Object.entries(CONNECT_CODES).map(([code, n]) => [n, code]));
 * assert.equal(byNumber.get(14), "unavailable");
 * ```
 */
export const CONNECT_CODES = {
  canceled: 1,
  unknown: 2,
  invalid_argument: 3,
  deadline_exceeded: 4,
  not_found: 5,
  already_exists: 6,
  permission_denied: 7,
  resource_exhausted: 8,
  failed_precondition: 9,
  aborted: 10,
  out_of_range: 11,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  data_loss: 15,
  unauthenticated: 16,
} as const;

/** One of Connect's error codes, such as `"invalid_argument"`. */
export type ConnectCode = keyof typeof CONNECT_CODES;

const STATUS: Record<ConnectCode, number> = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
};

/**
 * The HTTP status of an error code, as the Connect protocol specifies it.
 *
 * @param code a Connect code
 * @returns the status, such as 400 for `invalid_argument`
 *
 * @example The status a handler answers an error with
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "../../codecs/protobuf.ts";
 * import { ConnectError, connectHandler, httpStatusOf } from "../connect.ts";
 *
 * assert.equal(httpStatusOf("invalid_argument"), 400);
 * assert.equal(httpStatusOf("unavailable"), 503);
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Empty {}
 *   service Vault { rpc Open(Empty) returns (Empty); }
 * `);
 * const handler = connectHandler({
 *   schema,
 *   service: {
 *     "demo.Vault/Open": () => {
 *       throw new ConnectError("unauthenticated", "Who are you?");
 *     },
 *   },
 * });
 * const response = await handler(new Request("http://localhost/demo.Vault/Open", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: "{}",
 * }));
 * assert.equal(response.status, httpStatusOf("unauthenticated")); // 401
 * assert.deepEqual(await response.json(), { code: "unauthenticated", message: "Who are you?" });
 * ```
 */
export function httpStatusOf(code: ConnectCode): number {
  return STATUS[code];
}

/**
 * The code of an error response that has no Connect error body (a proxy's
 * page, say), from its HTTP status, as Connect clients read it.
 *
 * @param status the HTTP status
 * @returns the Connect code
 */
export function codeOfHttpStatus(status: number): ConnectCode {
  switch (status) {
    case 400:
      return "internal";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "unimplemented";
    case 429:
    case 502:
    case 503:
    case 504:
      return "unavailable";
    default:
      return "unknown";
  }
}

/**
 * Whether a string is one of Connect's codes.
 *
 * @param value any value
 * @returns true for a Connect code
 */
export function isConnectCode(value: unknown): value is ConnectCode {
  return typeof value === "string" && Object.hasOwn(CONNECT_CODES, value);
}

/** One detail of a Connect error: a message and its full type name. */
export interface ConnectErrorDetail {
  /** The message's full type name, such as `"interop.InvalidOperation"`. */
  readonly type: string;
  /** The message (plain form) when its type is in the schema, else its bytes. */
  readonly value: unknown;
}

/**
 * An error of the Connect protocol: a handler throws it to answer with a
 * given Connect code, and a Connect client rejects with it. Its `code` is
 * the gRPC number of `connectCode`; its `data` is the first detail whose
 * type the schema knows (the calculator's `InvalidOperation`), if any.
 *
 * @example Thrown by a handler, rejected with by the client
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoService } from "../../codecs/protobuf.ts";
 * import { connectClient, ConnectError, connectHandler } from "../connect.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Name { string name = 1; }
 *   service Users { rpc Find(Name) returns (Name); }
 * `);
 * const handler = connectHandler({
 *   schema,
 *   service: protoService(schema, "demo.Users", {
 *     Find: ({ name }: { name: string }) => {
 *       throw new ConnectError("not_found", `No user ${name}`);
 *     },
 *   }),
 * });
 * // The client's fetch hands each request to the handler: no server needed.
 * await using client = connectClient("http://localhost", {
 *   schema,
 *   fetch: (input, init) => handler(new Request(input, init)),
 * });
 * const error = await client.call("demo.Users/Find", { name: "Ada" }).catch((e) => e);
 * assert.ok(error instanceof ConnectError);
 * assert.equal(error.connectCode, "not_found");
 * assert.equal(error.code, 5); // gRPC's NOT_FOUND
 * assert.equal(error.message, "No user Ada");
 * ```
 */
export class ConnectError extends RpcError {
  /** The Connect code, such as `"invalid_argument"`. */
  readonly connectCode: ConnectCode;
  /** The error's details, in order. */
  readonly details: readonly ConnectErrorDetail[];

  /**
   * Creates the error.
   *
   * @param connectCode the Connect code
   * @param message a short description
   * @param details messages with more detail
   * @param options standard error options, such as `cause`
   */
  constructor(
    connectCode: ConnectCode,
    message: string,
    details: readonly ConnectErrorDetail[] = [],
    options?: ErrorOptions,
  ) {
    const known = details.find((d) => !(d.value instanceof Uint8Array));
    super(CONNECT_CODES[connectCode], message, known?.value, options);
    this.name = "ConnectError";
    this.connectCode = connectCode;
    this.details = details;
  }
}

/**
 * The Connect code for an error object from a handler (parley's codes): the
 * JSON-RPC codes map to their Connect meaning, application codes to
 * `fallback`.
 *
 * @param error the error object
 * @param fallback the code for application errors
 * @returns the Connect code
 */
export function connectCodeOf(error: RpcErrorObject, fallback: ConnectCode): ConnectCode {
  switch (error.code) {
    case ErrorCode.MethodNotFound:
      return "unimplemented";
    case ErrorCode.InvalidParams:
    case ErrorCode.InvalidRequest:
    case ErrorCode.ParseError:
      return "invalid_argument";
    case ErrorCode.InternalError:
      return "internal";
    case ErrorCode.ServerBusy:
      return "resource_exhausted";
    case ErrorCode.RequestCancelled:
      return "canceled";
    default:
      return fallback;
  }
}
