/**
 * Protocol Buffers in a page: `.proto` schemas (on protobufjs), the Connect
 * client (unary calls over `fetch`, what a gRPC-web-era page wants), and the
 * protobuf envelope codec over a WebSocket or HTTP. `deno task build:web`
 * writes it to `dist/protobuf.js`.
 *
 * @example A Connect client, here against a server on this machine
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectHandler } from "../protocols/connect.ts";
 * import { serveHttp } from "../rpc/transports/http.ts";
 * import { connectClient, loadProto, protoClient, protoService } from "./protobuf.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Pair { int64 a = 1; int64 b = 2; }
 *   message Total { int64 total = 1; }
 *   service Adder { rpc Add(Pair) returns (Total); }
 * `);
 * const service = protoService(schema, "demo.Adder", {
 *   Add: ({ a, b }: { a: bigint; b: bigint }) => ({ total: a + b }),
 * });
 * await using server = serveHttp({ routes: {}, handlers: { "/": connectHandler({ schema, service }) } });
 * await using client = connectClient(server.url, { schema });
 * type Adder = { Add(request: { a: bigint | number; b: bigint | number }): { total: bigint } };
 * const adder = protoClient<Adder>(client, schema, "demo.Adder");
 * assert.deepEqual(await adder.Add({ a: 2, b: 3 }), { total: 5n });
 * ```
 *
 * @module
 */

export * from "./_core.ts";
export * from "./_websocket.ts";
export * from "./_http.ts";
export * from "./_protobuf.ts";
