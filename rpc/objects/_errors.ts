/**
 * The errors the remote-objects session replies with, each with its
 * {@linkcode ObjectErrorCode} (or invalid params).
 *
 * @module
 */

import { ErrorCode, RpcError } from "../errors.ts";
import { ObjectErrorCode } from "./errors.ts";

/** An unknown or released reference; `what` says which. */
export function unknownReference(what: string): RpcError {
  return new RpcError(ObjectErrorCode.UnknownReference, `Unknown or released reference: ${what}`);
}

/** A member the other end may not reach. */
export function notExposed(name: unknown): RpcError {
  return new RpcError(ObjectErrorCode.NotExposed, `"${String(name)}" is not exposed`);
}

/** Over the `maxExports` limit; `what` says of what. */
export function tooMany(what: string, limit: number): RpcError {
  return new RpcError(
    ObjectErrorCode.TooManyExports,
    `Too many ${what} on this connection (limit ${limit})`,
  );
}

/** A value nested deeper than `limit`. */
export function tooDeep(limit: number): RpcError {
  return new RpcError(ObjectErrorCode.TooDeep, `A value nested deeper than ${limit} levels`);
}

/** Params of the wrong shape. */
export function invalidParams(message: string): RpcError {
  return new RpcError(ErrorCode.InvalidParams, message);
}
