/**
 * The WebSocket client of every browser entry that has one: a {@linkcode Peer}
 * on a socket (calls both ways), reconnecting or not.
 *
 * @module
 */

export type { Peer } from "../rpc/peer.ts";
// The client without Deno's certificate diagnosis: browsers say no reason.
export {
  connectWebSocket,
  type ConnectWebSocketOptions,
} from "../rpc/transports/websocket/client.ts";
export {
  CloseCode,
  webSocketStream,
  type WebSocketStreamOptions,
} from "../rpc/transports/websocket/stream.ts";
