/**
 * The smallest useful client over HTTP: JSON-RPC, one `fetch` per call, with
 * the typed proxy (`client.proxy<typeof service>()`). Budgeted at 12 KB
 * minified and gzipped (`tests/budget_test.ts`); `deno task build:web`
 * writes it to `dist/json_rpc_http.js`.
 *
 * @example A page's client, here against a server on this machine
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveHttp } from "../rpc/transports/http.ts";
 * import { connectHttp, jsonRpc } from "./json_rpc_http.ts";
 *
 * const service = { add: (a: number, b: number) => a + b };
 * await using server = serveHttp({ routes: { "/rpc": { codec: jsonRpc(), service } } });
 * await using client = connectHttp(`${server.url}/rpc`, { codec: jsonRpc() });
 * const calculator = client.proxy<typeof service>();
 * assert.equal(await calculator.add(1, 2), 3);
 * ```
 *
 * @module
 */

export * from "./_core.ts";
export * from "./_http.ts";
export * from "./_json_rpc.ts";
