/**
 * The reconnecting WebSocket client, for the entries that carry it (it costs
 * the smallest bundle about 0.8 KB gzipped).
 *
 * @module
 */

export {
  ReconnectingWebSocket,
  type ReconnectOptions,
  reconnectWebSocket,
  type ReconnectWebSocketOptions,
  type RetryPolicy,
} from "../rpc/transports/websocket.ts";
