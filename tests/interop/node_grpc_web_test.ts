/**
 * gRPC-Web interop with connect-es: `@connectrpc/connect-web`'s
 * `createGrpcWebTransport` (the transport browsers use, here on Node's
 * fetch) calls parley's `connectHandler`, unary and server-streaming: in
 * process, where a slow Echo shows
 * the deadline, and in the calculator example (`--transport http`), as the
 * contract serves it.
 *
 * Needs `node`, `npm` (the peers are installed once, outside the tree) and
 * `protoc`.
 */

import assert from "node:assert/strict";
import { connectHandler } from "../../protocols/connect.ts";
import { withContext } from "../../mod.ts";
import { serveHttp } from "../../rpc/transports/http.ts";
import {
  calculatorSchema,
  ERROR_DETAILS,
  protobufCalculator,
} from "../../examples/calculator/protobuf.ts";
import { nodePeerJson } from "./_node.ts";
import { startCalculator } from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("protoc");

const grpcWebClient = (url: string, ...flags: string[]) =>
  nodePeerJson("grpc_web_client.mjs", url, ...flags);

// What connect-web makes of the calculator's answers; code 3 is InvalidArgument.
const CONTRACT = {
  add: 3,
  overflow: { code: 3, message: "overflow", details: [{ whatOp: 1, why: "overflow" }] },
  echo: "héllo, gRPC-Web",
  range: ["2147483647", "2147483648", "2147483649"],
  rangeInvalid: {
    code: 3,
    message: "invalid count",
    details: [{ whatOp: 1, why: "invalid count" }],
  },
};

test("connect-web's gRPC-Web transport calls connectHandler: results, errors, deadlines", async () => {
  const schema = calculatorSchema();
  const aborted = Promise.withResolvers<unknown>();
  const service = {
    ...protobufCalculator(schema),
    // "slow" waits for the deadline: the handler's signal fires.
    "interop.Calculator/Echo": withContext((ctx, request: { text: string }) => {
      if (request.text !== "slow") return request;
      return new Promise((_, reject) =>
        ctx.signal.addEventListener("abort", () => {
          aborted.resolve(ctx.signal.reason);
          reject(ctx.signal.reason);
        })
      );
    }),
  };
  await using server = serveHttp({
    routes: {},
    handlers: {
      "/": connectHandler({
        schema,
        service,
        errorDetails: ERROR_DETAILS,
        errorCode: () => "invalid_argument",
      }),
    },
  });
  const out = await grpcWebClient(server.url, "--slow");
  const { slow, ...rest } = out;
  assert.deepEqual(rest, CONTRACT);
  // connect-es's Code.DeadlineExceeded is 4 (its own timer and the server's
  // grpc-timeout both end the call: the message depends on which is first).
  assert.equal(slow.code, 4);
  // The handler's signal fired: the deadline (or the client's going) reached it.
  assert.ok(await aborted.promise instanceof Error);
});

test("the calculator example serves gRPC-Web on --transport http to connect-web", async () => {
  await using server = await startCalculator("--codec", "protobuf", "--transport", "http");
  assert.deepEqual(await grpcWebClient(server.url), CONTRACT);
});
