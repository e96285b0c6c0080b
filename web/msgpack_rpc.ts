/**
 * msgpack-rpc in a page: the codec (on msgpackr) over a WebSocket or HTTP,
 * with the typed proxy. `deno task build:web` writes it to
 * `dist/msgpack_rpc.js`.
 *
 * @example A page's client, here against a server on this machine
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveHttp } from "../rpc/transports/http.ts";
 * import { connectWebSocket, msgpackRpc } from "./msgpack_rpc.ts";
 *
 * const service = { add: (a: number, b: number) => a + b };
 * await using server = serveHttp({
 *   routes: { "/rpc": { codec: msgpackRpc(), service, websocket: true } },
 * });
 * await using peer = await connectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
 *   codec: msgpackRpc(),
 * });
 * assert.equal(await peer.proxy<typeof service>().add(1, 2), 3);
 * ```
 *
 * @module
 */

export * from "./_core.ts";
export * from "./_websocket.ts";
export * from "./_reconnect.ts";
export * from "./_http.ts";
export * from "./_msgpack_rpc.ts";
