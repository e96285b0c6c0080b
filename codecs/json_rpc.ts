/**
 * The JSON-RPC 2.0 codec, with JSON-RPC 1.0 on request.
 *
 * Every message is one JSON text; an array of messages is a batch. Values
 * map onto JSON as follows:
 *
 * | value | on the wire | decoded as |
 * |---|---|---|
 * | `bigint` within ±(2^53 − 1) | number | number |
 * | `bigint` beyond | `TypeError` when encoding (never rounded) | — |
 * | integer literal beyond ±(2^53 − 1) | — | `bigint` (option `bigint: "bigint"`) or `DecodeError` (`"error"`) |
 * | `number` beyond ±(2^53 − 1) (a double, e.g. `2 ** 60`) | with an exponent (`1.152921504606847e+18`, via `JSON.rawJSON`) | the same `number` |
 * | `-0` | `0` | `0` |
 * | `Uint8Array` | standard padded base64 string | string (`Uint8Array.fromBase64` turns it back) |
 * | `Date` | ISO 8601 string (`toJSON`) | string |
 * | `Map` with string keys / `Set` | object / array | object / array |
 * | other typed arrays, `ArrayBuffer`, `Map` with other keys | `TypeError` | — |
 * | `NaN`, `±Infinity`, invalid `Date` | `null`, as `JSON.stringify` does | `null` |
 * | `undefined`, functions, symbols | left out of objects, `null` in arrays; `result: undefined` is `null` | — |
 *
 * Decoding never pollutes prototypes: `JSON.parse` makes `"__proto__"` an
 * ordinary own member. Handlers that merge params into other objects should
 * still skip that key.
 *
 * @example Encoding a call and decoding it on the other side
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonRpc } from "./json_rpc.ts";
 *
 * const codec = jsonRpc();
 * const text = codec.encode({ kind: "request", id: 1, method: "add", params: [1, 2] });
 * assert.equal(text, '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}');
 * assert.deepEqual(codec.decode(text), { kind: "request", id: 1, method: "add", params: [1, 2] });
 * ```
 *
 * @module
 */

import { decodeCompact } from "./json_rpc/_compact.ts";
import { createJsonRpc, type JsonRpcCodec, type JsonRpcOptions } from "./json_rpc/_codec.ts";

export {
  CANCEL_METHOD,
  type JsonRpcBigInt,
  type JsonRpcCodec,
  type JsonRpcOptions,
  type JsonRpcVersion,
} from "./json_rpc/_codec.ts";

/**
 * Creates the JSON-RPC codec.
 *
 * Requests with `"id": null` (allowed but discouraged by the specification)
 * decode as invalid (-32600, answered under id `null`): the message model
 * has no null request id, and the caller could not match the reply to its
 * call anyway, as every error without a readable id also goes under `null`.
 *
 * @param options limits, big-integer handling and JSON-RPC 1.0 support
 * @returns the codec
 * @throws {RangeError} when a limit is not a positive integer
 *
 * @example Answering a batch
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonRpc } from "./json_rpc.ts";
 *
 * const codec = jsonRpc();
 * const frame = codec.decode('[{"jsonrpc":"2.0","method":"ping","id":"a"},{"foo":1}]');
 * assert.equal(frame.kind, "batch");
 * const text = codec.encode([
 *   { kind: "result", id: "a", result: null },
 *   { kind: "error", id: null, error: { code: -32600, message: "Invalid Request" } },
 * ]);
 * assert.equal(JSON.parse(text).length, 2);
 * ```
 */
export function jsonRpc(options: JsonRpcOptions = {}): JsonRpcCodec {
  return createJsonRpc(options, decodeCompact);
}
