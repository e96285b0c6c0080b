/**
 * The XML-RPC codec, for the entries that carry it.
 *
 * @module
 */

export { xmlRpc, type XmlRpcOptions } from "../codecs/xml_rpc.ts";
