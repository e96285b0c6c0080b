/**
 * What runs in a browser, in one entry point for `deno task build:web`:
 * the core, the codecs (protobuf included), the Connect client, and the
 * client transports on `fetch` and `WebSocket`. Nothing here touches `Deno.*`.
 *
 * ```sh
 * deno task build:web   # writes dist/parley.js
 * ```
 *
 * @example In a page
 * ```ts ignore
 * import { connectWebSocket, jsonRpc } from "/parley.js";
 *
 * const server = await connectWebSocket(`ws://${location.host}/rpc`, {
 *   codec: jsonRpc(),
 *   service: { show: (text: string) => console.log(text) }, // the server calls it
 * });
 * console.log(await server.call("add", [1, 2]));
 * ```
 *
 * @module
 */

export * from "./mod.ts";
export { jsonRpc, type JsonRpcOptions } from "./codecs/json_rpc.ts";
export { xmlRpc, type XmlRpcOptions } from "./codecs/xml_rpc.ts";
export {
  type MsgpackExtension,
  msgpackExtension,
  msgpackRpc,
  type MsgpackRpcOptions,
} from "./codecs/msgpack_rpc.ts";
export {
  loadProto,
  protobufRpc,
  type ProtobufRpcOptions,
  type ProtoClient,
  protoClient,
  type ProtoInput,
  type ProtoMessage,
  type ProtoSchema,
  protoService,
  ProtoValueError,
} from "./codecs/protobuf.ts";
export {
  expose,
  exposed,
  ObjectSession,
  type ObjectSessionOptions,
  referenceExtension,
  type Remote,
  type RemotePromise,
  serveObjects,
} from "./rpc/objects/mod.ts";
export {
  CONNECT_CODES,
  type ConnectClient,
  connectClient,
  type ConnectClientOptions,
  type ConnectCode,
  ConnectError,
} from "./protocols/connect.ts";
export {
  connectHttp,
  type ConnectHttpOptions,
  HttpClient,
  HttpError,
} from "./rpc/transports/http/client.ts";
export {
  CloseCode,
  connectWebSocket,
  type ConnectWebSocketOptions,
  ReconnectingWebSocket,
  type ReconnectOptions,
  reconnectWebSocket,
  type ReconnectWebSocketOptions,
  webSocketStream,
  type WebSocketStreamOptions,
} from "./rpc/transports/websocket.ts";
