/**
 * The Connect protocol (connectrpc.com): protobuf services over plain HTTP,
 * `POST /package.Service/Method`. Unary calls with `application/proto` or
 * `application/json` bodies, errors as Connect's JSON error body; streaming
 * calls (server, client, bidi) with `application/connect+proto` or `+json`
 * enveloped messages and the end-of-stream message. The server side is a
 * Web-standard request handler ({@linkcode connectHandler}), the client side
 * a `fetch` client ({@linkcode connectClient}); both interoperate with
 * connect-es, connect-go and the other Connect implementations. The handler
 * also answers gRPC-Web's unary and server-streaming calls on the same
 * route (docs/grpc.md, "gRPC-Web"). Handlers read the request's headers and
 * set the reply's headers and trailers with {@linkcode callMetadata}.
 *
 * @example Serving the handler with serveHttp and calling it
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoClient, protoService } from "../codecs/protobuf.ts";
 * import { serveHttp } from "../rpc/transports/http.ts";
 * import { connectClient, connectHandler } from "./connect.ts";
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
 * // The methods' types: written by hand here, or by `deno task proto:types`.
 * type Adder = { Add(request: { a: bigint | number; b: bigint | number }): { total: bigint } };
 * const adder = protoClient<Adder>(client, schema, "demo.Adder");
 * assert.deepEqual(await adder.Add({ a: 2n ** 62n, b: 1 }), { total: 2n ** 62n + 1n });
 * ```
 *
 * @module
 */

export {
  CONNECT_CODES,
  type ConnectCode,
  ConnectError,
  type ConnectErrorDetail,
  httpStatusOf,
} from "./connect/errors.ts";
export {
  type ConnectHandler,
  connectHandler,
  type ConnectHandlerOptions,
} from "./connect/handler.ts";
export {
  type ConnectCallOptions,
  type ConnectClient,
  connectClient,
  type ConnectClientOptions,
  type ConnectResponseMetadata,
  type ConnectStreamOptions,
} from "./connect/client.ts";
export type { ConnectFormat } from "./connect/_wire.ts";
export type { ConnectCors } from "./connect/_cors.ts";
export { type CallMetadata, callMetadata } from "../rpc/call_metadata.ts";
