/**
 * The smallest useful client with calls both ways: JSON-RPC over a WebSocket,
 * with the typed proxy (`peer.proxy<typeof service>()`). Budgeted at 12 KB
 * minified and gzipped (`tests/budget_test.ts`); `deno task build:web`
 * writes it to `dist/json_rpc_websocket.js`.
 *
 * @example A page's client, here against a server on this machine
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveHttp } from "../rpc/transports/http.ts";
 * import { connectWebSocket, jsonRpc } from "./json_rpc_websocket.ts";
 *
 * const service = { add: (a: number, b: number) => a + b };
 * await using server = serveHttp({
 *   routes: { "/rpc": { codec: jsonRpc(), service, websocket: true } },
 * });
 * await using peer = await connectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
 *   codec: jsonRpc(),
 * });
 * const calculator = peer.proxy<typeof service>();
 * assert.equal(await calculator.add(1, 2), 3);
 * ```
 *
 * @module
 */

export * from "./_core.ts";
export * from "./_websocket.ts";
export * from "./_json_rpc.ts";
