/**
 * Streaming calls between parley's gRPC and Debian's python3-grpcio, both
 * ways, the calculator's Range (server streaming), Total (client
 * streaming) and Running (bidi): grpcio's generic calls
 * (`channel.unary_stream / stream_unary / stream_stream`,
 * python/grpc_calculator_client.py) against `serveGrpc`, and
 * `connectGrpc` against grpcio's generic handlers
 * (python/grpc_calculator_server.py). Values, errors with details,
 * deadlines, cancellation reaching the other side, metadata, gzip.
 *
 * Needs `/usr/bin/python3` with python3-grpcio and python3-protobuf, and
 * `protoc` on the PATH.
 */

import assert from "node:assert/strict";
import { calculatorSchema } from "../../examples/calculator/protobuf.ts";
import { connectGrpc, type GrpcServer } from "../../rpc/transports/grpc.ts";
import { startGrpcCalculator } from "../_grpc_calculator.ts";
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
import { testNeeding } from "../_needs.ts";
import { DEBIAN_PYTHON, formatOutput, run, spawnListening } from "./_process.ts";

const test = testNeeding("py:grpc", "py:google.protobuf", "protoc");
const CLIENT = new URL("./python/grpc_calculator_client.py", import.meta.url).pathname;
const SERVER = new URL("./python/grpc_calculator_server.py", import.meta.url).pathname;
const schema = calculatorSchema();
const I64_MAX = 2n ** 63n - 1n;
const INVALID_OPERATION = "type.googleapis.com/interop.InvalidOperation";

interface Outcome {
  readonly code: number;
  readonly details?: string;
  readonly received?: unknown[];
  readonly status?: { code: number; message: string; details: string[] };
  readonly invalid_operation?: { what_op: number; why: string };
  readonly [key: string]: unknown;
}

async function grpcio(server: GrpcServer, scenario: string): Promise<Outcome> {
  const result = await run(DEBIAN_PYTHON, {
    args: [CLIENT, `127.0.0.1:${server.addr.port}`, scenario],
    timeout: 60_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  return JSON.parse(result.stdout);
}

// ---- grpcio's client → parley's server ----

test("grpcio → parley: Range, Total and Running; x-request-tag on a stream", async () => {
  await using server = await startGrpcCalculator().server;
  assert.deepEqual(await grpcio(server, "range"), {
    code: 0,
    values: [5, 6, 7, 8],
    headers: { "x-request-tag": "py-r" },
    trailers: { "x-request-tag-end": "py-r" },
  });
  assert.deepEqual(await grpcio(server, "range-many"), { code: 0, count: 100_000, ok: true });
  assert.deepEqual(await grpcio(server, "total"), { code: 0, total: Number(I64_MAX) });
  assert.deepEqual(await grpcio(server, "running"), { code: 0, last: 6, count: 3 });
});

test("grpcio → parley: errors with details, before any message and after some", async () => {
  await using server = await startGrpcCalculator().server;
  const invalid = await grpcio(server, "range-invalid");
  assert.equal(invalid.code, 3);
  assert.equal(invalid.details, "invalid count");
  assert.deepEqual(invalid.status, {
    code: 3,
    message: "invalid count",
    details: [INVALID_OPERATION],
  });
  assert.deepEqual(invalid.invalid_operation, { what_op: 1, why: "invalid count" });
  const overflow = await grpcio(server, "running-overflow");
  assert.equal(overflow.code, 3);
  assert.equal(overflow.details, "overflow");
  assert.deepEqual(overflow.received, [Number(I64_MAX)]);
  assert.deepEqual(overflow.invalid_operation, { what_op: 1, why: "overflow" });
  const total = await grpcio(server, "total-overflow");
  assert.equal(total.code, 3);
  assert.deepEqual(total.invalid_operation, { what_op: 1, why: "overflow" });
});

test("grpcio → parley: a deadline mid-stream is 4, and stops the generator", async () => {
  await assertDeadlineStopsRange(grpcio);
});

test("grpcio → parley: cancelling Range stops the generator; cancelling Total fires the handler's signal", async () => {
  const watched = watchedCalculator();
  await using server = await watched.server;
  await assertCancelStopsRange(grpcio, watched);

  const child = new Deno.Command(DEBIAN_PYTHON, {
    args: [CLIENT, `127.0.0.1:${server.addr.port}`, "total-cancel"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await watched.totalStarted;
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("go\n"));
  await writer.close();
  assert.equal((await watched.totalAborted as Error).name, "AbortError");
  const output = await child.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout)), {
    code: 1,
    cancelled: true,
  });
});

test("grpcio → parley: a gzip-compressing channel's bidi stream, answered compressed", async () => {
  const encodings: (string | null)[] = [];
  await using server = await startGrpcCalculator({
    compressThreshold: 0,
    onCall: ({ request }) => encodings.push(request.get("grpc-encoding")),
  }).server;
  assert.deepEqual(await grpcio(server, "running-gzip"), { code: 0, last: 20_100, count: 200 });
  assert.deepEqual(encodings, ["gzip"]);
});

// ---- parley's client → grpcio's server ----

const startGrpcio = (...args: string[]) =>
  spawnListening(DEBIAN_PYTHON, { args: [SERVER, ...args], env: { PATH: Deno.env.get("PATH")! } });

test("parley → grpcio: Range, Total and Running; metadata on a stream; errors with details", async () => {
  await using server = await startGrpcio();
  await using client = connectGrpc(server.url, { schema });
  await assertCalculatorStreams(client, "p-py");
});

test("parley → grpcio: the deadline reaches the server and ends its stream", async () => {
  await using server = await startGrpcio();
  await using client = connectGrpc(server.url, { schema });
  await assertRangeDeadline(client);
  await waitFor(/range ended sent=\d+ active=False/, server.stdout);
  const remaining = /range started remaining=([\d.]+)/.exec(server.stdout());
  assert.ok(remaining !== null && Number(remaining[1]) <= 0.3, server.stdout());
});

test("parley → grpcio: leaving the loop cancels Range; aborting cancels Total; the server sees both", async () => {
  await using server = await startGrpcio();
  await using client = connectGrpc(server.url, { schema });
  await leaveRange(client);
  await waitFor(/range ended sent=\d+ active=False/, server.stdout);
  const sent = Number(/range ended sent=(\d+)/.exec(server.stdout())![1]);
  assert.ok(sent < 1000, `the server stopped after ${sent}`);
  await abortTotal(client);
  await waitFor(/total read=1 active=False/, server.stdout);
});

test("parley → grpcio: gzip both ways on a bidi stream", async () => {
  await using server = await startGrpcio("--gzip");
  await using client = connectGrpc(server.url, { schema, compression: "gzip" });
  assert.equal((await runningOf200(client))?.headers.get("grpc-encoding"), "gzip");
});
