/**
 * The msgpack-rpc codec, for the entries that carry it.
 *
 * @module
 */

export {
  MsgpackExt,
  type MsgpackExtension,
  msgpackExtension,
  msgpackRpc,
  type MsgpackRpcOptions,
  RawString,
} from "../codecs/msgpack_rpc.ts";
