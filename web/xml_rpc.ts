/**
 * XML-RPC in a page: the codec (on saxes) and the HTTP client, with the
 * typed proxy. `deno task build:web` writes it to `dist/xml_rpc.js`.
 *
 * @example A page's client, here against a server on this machine
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveHttp } from "../rpc/transports/http.ts";
 * import { connectHttp, xmlRpc } from "./xml_rpc.ts";
 *
 * const service = { add: (a: number, b: number) => a + b };
 * await using server = serveHttp({ routes: { "/RPC2": { codec: xmlRpc(), service } } });
 * await using client = connectHttp(`${server.url}/RPC2`, { codec: xmlRpc() });
 * assert.equal(await client.proxy<typeof service>().add(1, 2), 3);
 * ```
 *
 * @module
 */

export * from "./_core.ts";
export * from "./_http.ts";
export * from "./_xml_rpc.ts";
