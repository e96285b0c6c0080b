/**
 * parley: a transport-agnostic RPC core with pluggable codecs, framings and
 * transports. This root module is portable (browsers included); codecs,
 * framings and transports have their own export paths so that a program
 * imports only what it uses.
 *
 * @example A typed call over an in-memory pair
 * ```ts
 * import { Peer } from "./mod.ts";
 * import { memoryPair } from "./rpc/testing.ts";
 * import { jsonRpc } from "./codecs/json_rpc.ts";
 * const calculator = { add: (a: number, b: number) => a + b };
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service: calculator });
 * const client = new Peer(b, { codec: jsonRpc() });
 * const calc = client.proxy<typeof calculator>();
 * console.assert(await calc.add(1, 2) === 3);
 * await client.close();
 * await server.closed;
 * ```
 *
 * @module
 */

export * from "./rpc/types.ts";
export * from "./rpc/errors.ts";
export * from "./rpc/limits.ts";
export * from "./rpc/service.ts";
export { Float, float, floatText, isFloat } from "./rpc/float.ts";
export { containsFloats, hasFloats, markFloats, unwrapFloats } from "./rpc/schema_floats.ts";
export {
  combineServices,
  createDispatcher,
  type Dispatcher,
  listMethods,
  prefixService,
  toErrorObject,
} from "./rpc/dispatch.ts";
export { withSystemMethods } from "./rpc/system_methods.ts";
export {
  type OpenRpcContentDescriptor,
  type OpenRpcDocument,
  openRpcDocument,
  type OpenRpcInfo,
  type OpenRpcMethod,
  withOpenRpc,
} from "./rpc/openrpc.ts";
export { type BatchEntry, type CallOptions, type RpcClient, RpcClientBase } from "./rpc/client.ts";
export { Peer, type PeerOptions } from "./rpc/peer.ts";
export { createResponder, type Responder, type ResponderOptions } from "./rpc/responder.ts";
export { type Caller, createProxy } from "./rpc/proxy.ts";
export { framedStream, type FramedStreamOptions } from "./rpc/framed.ts";
export { memoryPair } from "./rpc/testing.ts";
