/**
 * Remote objects in a page: an {@linkcode ObjectSession} over JSON-RPC on a
 * WebSocket (callbacks, objects by reference, pipelined calls). Budgeted at
 * 20 KB minified and gzipped (`tests/budget_test.ts`); `deno task build:web`
 * writes it to `dist/objects.js`.
 *
 * @example A page using the server's objects, here on this machine
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveHttp } from "../rpc/transports/http.ts";
 * import { connectWebSocket, jsonRpc, ObjectSession, serveObjects } from "./objects.ts";
 *
 * const root = { greet: (name: string) => `hello, ${name}` };
 * await using server = serveHttp({
 *   routes: { "/objects": { codec: jsonRpc(), service: {}, websocket: { service: serveObjects(root) } } },
 * });
 * const session = new ObjectSession();
 * await using peer = await connectWebSocket(`${server.url.replace("http", "ws")}/objects`, {
 *   codec: jsonRpc(),
 *   service: session.service,
 * });
 * session.attach(peer);
 * assert.equal(await session.root<typeof root>().greet("page"), "hello, page");
 * ```
 *
 * @module
 */

export * from "./_core.ts";
export * from "./_websocket.ts";
export * from "./_json_rpc.ts";
// Not the msgpack extension for references: this bundle's codec is JSON-RPC.
export {
  expose,
  exposed,
  isExposed,
  ObjectErrorCode,
  ObjectSession,
  serveObjects,
} from "../rpc/objects/mod.ts";
export type * from "../rpc/objects/mod.ts";
