/**
 * gRPC over HTTP/2 (cleartext with prior knowledge, or TLS with ALPN `h2`):
 * {@linkcode serveGrpc} serves protobuf services to any gRPC client
 * (grpcio, grpc-js, grpc-go…), {@linkcode connectGrpc} calls any gRPC
 * server; all four kinds of call (unary, server, client and bidirectional
 * streaming, with backpressure end to end: a slow reader slows the
 * writer), deadlines, cancellation, errors with details, custom metadata
 * ({@linkcode callMetadata} on the server) and `grpc-encoding: gzip`. Built
 * on parley's own HTTP/2 (`@parley/rpc/http2`): Deno's `Deno.serve` and
 * `fetch` carry no trailers, and its `node:http2` is slow and can abort the
 * process on a peer's GOAWAY (docs/grpc.md). gRPC-Web is `connectHandler`'s
 * (`@parley/rpc/connect`).
 *
 * @example Serving the calculator's Add, and a client's view of an error
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoService } from "../../codecs/protobuf.ts";
 * import { RpcError } from "../errors.ts";
 * import { connectHttp2 } from "./http2.ts";
 * import { serveGrpc } from "./grpc.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Pair { int64 a = 1; int64 b = 2; }
 *   message Total { int64 total = 1; }
 *   service Adder { rpc Add(Pair) returns (Total); }
 * `);
 * const service = protoService(schema, "demo.Adder", {
 *   Add: ({ a, b }: { a: bigint; b: bigint }) => {
 *     if (a < 0n) throw new RpcError(1, "negative");
 *     return { total: a + b };
 *   },
 * });
 * await using server = await serveGrpc({ schema, service, errorStatus: () => 3 });
 * assert.match(server.url, /^grpc:\/\/127\.0\.0\.1:\d+$/);
 *
 * // Any HTTP/2 client will do; here parley's own, with gRPC's bytes written by hand.
 * await using http = connectHttp2(`http://127.0.0.1:${server.addr.port}`);
 * const call = http.request({
 *   ":method": "POST",
 *   ":path": "/demo.Adder/Add",
 *   "content-type": "application/grpc",
 *   "te": "trailers",
 * });
 * const message = schema.message("demo.Pair").encode({ a: -1, b: 2 });
 * call.write(new Uint8Array([0, 0, 0, 0, message.length, ...message]));
 * call.end();
 * // An error before any message: a trailers-only reply, the status in its headers.
 * const headers = await call.response;
 * assert.equal(await call.read(), null);
 * assert.equal(headers["grpc-status"], "3");
 * assert.equal(headers["grpc-message"], "negative");
 * ```
 *
 * @example A server stream and a bidirectional one, through protoClient
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoClient, protoService } from "../../codecs/protobuf.ts";
 * import { connectGrpc, serveGrpc } from "./grpc.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Up { int32 to = 1; }
 *   message N { int32 n = 1; }
 *   service Counter {
 *     rpc Count(Up) returns (stream N);
 *     rpc Double(stream N) returns (stream N);
 *   }
 * `);
 * const service = protoService(schema, "demo.Counter", {
 *   Count: async function* ({ to }: { to: number }) {
 *     for (let n = 1; n <= to; n++) yield { n };
 *   },
 *   Double: async function* (input: AsyncIterable<{ n: number }>) {
 *     for await (const { n } of input) yield { n: 2 * n };
 *   },
 * });
 * await using server = await serveGrpc({ schema, service });
 * await using client = connectGrpc(server.url, { schema });
 * type Counter = {
 *   Count(request: { to: number }): AsyncIterable<{ n: number }>;
 *   Double(requests: AsyncIterable<{ n: number }>): AsyncIterable<{ n: number }>;
 * };
 * const counter = protoClient<Counter>(client, schema, "demo.Counter");
 * const counted = [];
 * for await (const { n } of counter.Count({ to: 3 })) counted.push(n);
 * assert.deepEqual(counted, [1, 2, 3]);
 * async function* numbers() {
 *   yield { n: 5 };
 *   yield { n: 7 };
 * }
 * const doubled = [];
 * for await (const { n } of counter.Double(numbers())) doubled.push(n);
 * assert.deepEqual(doubled, [10, 14]);
 * ```
 *
 * @module
 */

export { type GrpcServer, serveGrpc, type ServeGrpcOptions } from "./grpc/server.ts";
export {
  connectGrpc,
  type GrpcCallOptions,
  type GrpcClient,
  type GrpcClientOptions,
  type GrpcResponseMetadata,
  type GrpcStreamOptions,
} from "./grpc/client.ts";
export { type CallMetadata, callMetadata, type GrpcCallMetadata } from "./grpc/metadata.ts";
export {
  HEALTH_PROTO,
  HEALTH_PROTO_FILE,
  type HealthService,
  healthService,
  type HealthStatus,
} from "./grpc/health.ts";
export {
  REFLECTION_PROTOS,
  REFLECTION_SERVICES,
  type ReflectionOptions,
  reflectionService,
} from "../../protocols/grpc/reflection.ts";
export {
  type ReflectedSchema,
  type ReflectionCaller,
  reflectSchema,
} from "../../protocols/grpc/reflection_client.ts";
