/**
 * The WebSocket client of every browser entry that has one: a {@linkcode Peer}
 * on a socket (calls both ways), reconnecting or not.
 *
 * @module
 */

export type { Peer } from "../rpc/peer.ts";
export {
  CloseCode,
  connectWebSocket,
  type ConnectWebSocketOptions,
  webSocketStream,
  type WebSocketStreamOptions,
} from "../rpc/transports/websocket.ts";
