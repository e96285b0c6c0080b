/**
 * The JSON-RPC codec, for the entries that carry it: the same codec as
 * `@parley/rpc/json-rpc`'s, without the compact reader that speeds a
 * server's decoding up (`codecs/json_rpc/_compact.ts`, half a kilobyte of a
 * page's download, which a page answering a few calls has no use for).
 *
 * @module
 */

import {
  createJsonRpc,
  type JsonRpcCodec,
  type JsonRpcOptions,
} from "../codecs/json_rpc/_codec.ts";

export type {
  JsonRpcBigInt,
  JsonRpcCodec,
  JsonRpcOptions,
  JsonRpcVersion,
} from "../codecs/json_rpc/_codec.ts";

/**
 * Creates the JSON-RPC codec: in a page, what `jsonRpc()` of
 * `@parley/rpc/json-rpc` is, message for message and error for error.
 *
 * @param options limits, big-integer handling and JSON-RPC 1.0 support
 * @returns the codec
 * @throws {RangeError} when a limit is not a positive integer
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonRpc } from "./_json_rpc.ts";
 *
 * const codec = jsonRpc();
 * const text = codec.encode({ kind: "request", id: 1, method: "add", params: [1, 2] });
 * assert.deepEqual(codec.decode(text), { kind: "request", id: 1, method: "add", params: [1, 2] });
 * ```
 */
export function jsonRpc(options: JsonRpcOptions = {}): JsonRpcCodec {
  return createJsonRpc(options);
}
