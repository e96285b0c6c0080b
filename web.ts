/**
 * Everything that runs in a browser, in one entry point: the core, the
 * codecs (protobuf included), remote objects, the Connect client, and the
 * client transports on `fetch` and `WebSocket`. Nothing here touches
 * `Deno.*`. `deno task build:web` bundles it as `dist/parley.js`, beside
 * smaller bundles for one use each (`web/`: JSON-RPC over WebSocket or
 * HTTP, remote objects, one per codec); `docs/browser.md` lists their sizes.
 *
 * @example A page's client, here against a server on this machine
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveHttp } from "./rpc/transports/http.ts";
 * import { connectWebSocket, jsonRpc } from "./web.ts";
 *
 * const service = { add: (a: number, b: number) => a + b };
 * await using server = serveHttp({
 *   routes: { "/rpc": { codec: jsonRpc(), service, websocket: true } },
 * });
 * await using page = await connectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
 *   codec: jsonRpc(),
 * });
 * assert.equal(await page.proxy<typeof service>().add(1, 2), 3);
 * ```
 *
 * @module
 */

export * from "./mod.ts";
// The parts the per-use entries share (web/), then what only this one has.
export * from "./web/_json_rpc.ts";
export * from "./web/_websocket.ts";
export * from "./web/_reconnect.ts";
export * from "./web/_http.ts";
export * from "./web/_xml_rpc.ts";
export * from "./web/_msgpack_rpc.ts";
export * from "./web/_protobuf.ts";
export * from "./rpc/objects/mod.ts";
