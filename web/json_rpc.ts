/**
 * JSON-RPC in a page, every way: over a WebSocket (reconnecting or not) and
 * over HTTP, with the typed proxy. `deno task build:web` writes it to
 * `dist/json_rpc.js`; a page that needs only one transport loads
 * `json_rpc_websocket.js` or `json_rpc_http.js`, which are smaller.
 *
 * @example Both transports against one server on this machine
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveHttp } from "../rpc/transports/http.ts";
 * import { connectHttp, jsonRpc, reconnectWebSocket } from "./json_rpc.ts";
 *
 * const service = { add: (a: number, b: number) => a + b };
 * await using server = serveHttp({
 *   routes: { "/rpc": { codec: jsonRpc(), service, websocket: true } },
 * });
 * await using http = connectHttp(`${server.url}/rpc`, { codec: jsonRpc() });
 * await using ws = await reconnectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
 *   codec: jsonRpc(),
 * });
 * assert.equal(await http.proxy<typeof service>().add(1, 2), 3);
 * assert.equal(await ws.proxy<typeof service>().add(2, 3), 5);
 * ```
 *
 * @module
 */

export * from "./_core.ts";
export * from "./_websocket.ts";
export * from "./_reconnect.ts";
export * from "./_http.ts";
export * from "./_json_rpc.ts";
