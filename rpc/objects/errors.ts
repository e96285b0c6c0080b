/**
 * The errors of the remote-objects protocol: codes of their own in the
 * implementation-defined server-error range (-32000..-32099), clear of
 * `ErrorCode.ServerBusy` (-32000) and of every code of the interop contract.
 * Malformed params are `ErrorCode.InvalidParams`, as for any call. The
 * errors themselves are made in `_errors.ts`.
 *
 * @module
 */

/**
 * Error codes of the remote-objects protocol (`docs/protocol.md`, "Remote
 * objects"). A caller receives them as the `code` of an `RpcError`.
 *
 * | code   | name               | meaning                                                        |
 * | ------ | ------------------ | -------------------------------------------------------------- |
 * | -32001 | `UnknownReference` | unknown or released reference (or answer), or no root served   |
 * | -32002 | `NotExposed`       | the member is not exposed or does not exist, or is not callable |
 * | -32003 | `TooManyExports`   | over `maxExports` objects or kept results on the connection    |
 * | -32004 | `TooDeep`          | a value nested deeper than `maxDepth`                          |
 *
 * @example Telling a released reference from a busy server
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorCode, RpcError } from "../errors.ts";
 * import { ObjectErrorCode } from "./errors.ts";
 *
 * const error = new RpcError(ObjectErrorCode.UnknownReference, "Unknown or released reference");
 * assert.notEqual(error.code, ErrorCode.ServerBusy);
 * assert.equal(error.code, -32001);
 * ```
 */
export const ObjectErrorCode = {
  /** Unknown or released reference (or answer); or the callee serves no root object. */
  UnknownReference: -32001,
  /** The member is not exposed, does not exist, or is not a function where one is called. */
  NotExposed: -32002,
  /** Too many objects exported, or call results kept, on this connection (`maxExports`). */
  TooManyExports: -32003,
  /** A value nested deeper than `maxDepth` levels. */
  TooDeep: -32004,
} as const;
