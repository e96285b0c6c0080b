/**
 * The HTTP transport: {@linkcode serveHttp} on `Deno.serve`, routing by path
 * so that several codecs share one port, and {@linkcode connectHttp} on
 * `fetch` (Web-standard, so the client also runs in browsers). One POST
 * carries one frame; JSON-RPC goes to `POST /rpc` as `application/json`,
 * XML-RPC to `POST /RPC2` as `text/xml`. Bodies may be gzipped both ways.
 *
 * @example A JSON-RPC server and client on one port
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectHttp, serveHttp } from "./http.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * await using server = serveHttp({
 *   routes: { "/rpc": { codec: jsonRpc(), service: { add: (a: number, b: number) => a + b } } },
 * });
 * await using client = connectHttp(`${server.url}/rpc`, { codec: jsonRpc(), timeout: 5_000 });
 * assert.equal(await client.call("add", [40, 2]), 42);
 * ```
 *
 * @module
 */

export {
  type Authenticate,
  type HttpRoute,
  type HttpServer,
  serveHttp,
  type ServeHttpMutualTlsOptions,
  type ServeHttpOptions,
  type WebSocketRequest,
  type WebSocketRouteOptions,
} from "./http/server.ts";
export { connectHttp, type ConnectHttpOptions, HttpClient, HttpError } from "./http/client.ts";
export {
  CloseCode,
  connectWebSocket,
  type ConnectWebSocketOptions,
  webSocketStream,
  type WebSocketStreamOptions,
} from "./websocket.ts";
