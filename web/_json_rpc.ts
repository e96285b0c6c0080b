/**
 * The JSON-RPC codec, for the entries that carry it.
 *
 * @module
 */

export {
  jsonRpc,
  type JsonRpcBigInt,
  type JsonRpcCodec,
  type JsonRpcOptions,
  type JsonRpcVersion,
} from "../codecs/json_rpc.ts";
