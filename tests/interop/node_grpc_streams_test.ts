/**
 * Streaming calls between parley's gRPC and @grpc/grpc-js on Node
 * (tests/interop/node/grpc_peer.mjs), both ways: the calculator's Range
 * (server streaming), Total (client streaming) and Running (bidi), their
 * errors with details, deadlines, cancellation reaching the other side,
 * metadata and gzip. The Node peers are installed from npm outside the
 * repository (./_node.ts).
 */

import assert from "node:assert/strict";
import { calculatorSchema } from "../../examples/calculator/protobuf.ts";
import { connectGrpc } from "../../rpc/transports/grpc.ts";
import { startGrpcCalculator } from "../_grpc_calculator.ts";
import { grpcJs, startGrpcJs } from "./_grpc_js.ts";
import {
  abortTotal,
  assertCalculatorStreams,
  assertCancelStopsRange,
  assertDeadlineStopsRange,
  assertRangeDeadline,
  leaveRange,
  runningOf200,
  waitFor,
  watchedCalculator,
} from "./_grpc_streams.ts";

const schema = calculatorSchema();
const I64_MAX = 2n ** 63n - 1n;

// ---- grpc-js's client → parley's server ----

Deno.test("grpc-js → parley: Range, Total, Running; x-request-tag on a stream", async () => {
  await using server = await startGrpcCalculator().server;
  assert.deepEqual(await grpcJs(server, "range"), {
    code: 0,
    values: [5, 6, 7, 8],
    headers: { "x-request-tag": "js-r" },
    trailers: { "x-request-tag-end": "js-r" },
  });
  assert.deepEqual(await grpcJs(server, "total"), { code: 0, total: "6" });
  assert.deepEqual(await grpcJs(server, "running"), { code: 0, last: "6", count: 3 });
});

Deno.test("grpc-js → parley: errors with details, before any message and after one", async () => {
  await using server = await startGrpcCalculator().server;
  assert.deepEqual(await grpcJs(server, "range-invalid"), {
    code: 3,
    details: "invalid count",
    statusDetails: true,
    received: [],
  });
  assert.deepEqual(await grpcJs(server, "running-overflow"), {
    code: 3,
    details: "overflow",
    statusDetails: true,
    received: [String(I64_MAX)],
  });
  assert.deepEqual(await grpcJs(server, "total-overflow"), {
    code: 3,
    details: "overflow",
    statusDetails: true,
    received: [],
  });
});

Deno.test("grpc-js → parley: a deadline mid-stream is 4; cancels stop the generator and fire Total's signal", async () => {
  await assertDeadlineStopsRange(grpcJs);
  const watched = watchedCalculator();
  await using server = await watched.server;
  await assertCancelStopsRange(grpcJs, watched);
  assert.equal((await grpcJs(server, "total-cancel")).code, 1);
  assert.equal((await watched.totalAborted as Error).name, "AbortError");
});

Deno.test("grpc-js → parley: a gzip-compressing channel's bidi stream", async () => {
  const encodings: (string | null)[] = [];
  await using server = await startGrpcCalculator({
    compressThreshold: 0,
    onCall: ({ request }) => encodings.push(request.get("grpc-encoding")),
  }).server;
  assert.deepEqual(await grpcJs(server, "running-gzip"), { code: 0, last: "20100", count: 200 });
  assert.deepEqual(encodings, ["gzip"]);
});

// ---- parley's client → grpc-js's server ----

Deno.test("parley → grpc-js: Range, Total and Running; metadata on a stream; errors with details", async () => {
  await using server = await startGrpcJs();
  await using client = connectGrpc(server.url, { schema });
  await assertCalculatorStreams(client, "p-js");
});

Deno.test("parley → grpc-js: the deadline and leaving the loop end Range on the server; aborting ends Total", async () => {
  await using server = await startGrpcJs();
  await using client = connectGrpc(server.url, { schema });
  await assertRangeDeadline(client);
  await waitFor(
    /range started deadline=true[\s\S]*range ended sent=\d+ cancelled=true/,
    server.stdout,
  );
  await leaveRange(client);
  await waitFor(/deadline=false[\s\S]*range ended sent=\d+ cancelled=true/, server.stdout);
  await abortTotal(client);
  await waitFor(/total ended read=1 cancelled=true/, server.stdout);
});

Deno.test("parley → grpc-js: a gzip-compressed request stream (grpc-js answers uncompressed)", async () => {
  await using server = await startGrpcJs();
  await using client = connectGrpc(server.url, { schema, compression: "gzip" });
  assert.equal((await runningOf200(client))?.headers.get("grpc-encoding"), "identity");
});
