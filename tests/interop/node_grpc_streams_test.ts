/**
 * Streaming calls between parley's gRPC and @grpc/grpc-js on Node
 * (tests/interop/node/grpc_peer.mjs), both ways: the calculator's Range
 * (server streaming), Total (client streaming) and Running (bidi), their
 * errors with details, deadlines, cancellation reaching the other side,
 * metadata and gzip. The Node peers are installed from npm outside the
 * repository (./_node.ts).
 */

import assert from "node:assert/strict";
import { protoClient } from "../../codecs/protobuf.ts";
import type { Calculator } from "../../examples/calculator/calculator_types.ts";
import { calculatorSchema } from "../../examples/calculator/protobuf.ts";
import { ConnectError } from "../../protocols/connect.ts";
import { TimeoutError } from "../../rpc/errors.ts";
import {
  connectGrpc,
  type GrpcResponseMetadata,
  type GrpcServer,
} from "../../rpc/transports/grpc.ts";
import { startGrpcCalculator } from "../_grpc_calculator.ts";
import { rejection } from "../_rejection.ts";
import { CALCULATOR_PROTO_DIR, nodePeers } from "./_node.ts";
import { formatOutput, run, spawnListening } from "./_process.ts";
import { watchedCalculator } from "./_grpc_watched.ts";

const schema = calculatorSchema();
const I64_MAX = 2n ** 63n - 1n;

async function grpcJs(server: GrpcServer, scenario: string): Promise<Record<string, unknown>> {
  const dir = await nodePeers();
  const result = await run("node", {
    args: [
      `${dir}/grpc_peer.mjs`,
      "client",
      `127.0.0.1:${server.addr.port}`,
      scenario,
      "--proto-dir",
      CALCULATOR_PROTO_DIR,
    ],
    timeout: 60_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  return JSON.parse(result.stdout);
}

async function startGrpcJs() {
  const dir = await nodePeers();
  return spawnListening("node", {
    args: [`${dir}/grpc_peer.mjs`, "server", "--proto-dir", CALCULATOR_PROTO_DIR],
  });
}

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
  const watched = watchedCalculator();
  await using server = await watched.server;
  const late = await grpcJs(server, "range-deadline");
  assert.equal(late.code, 4);
  assert.ok((late.received as unknown[]).length > 0, "numbers came before the deadline");
  assert.match((await watched.rangeAborted as Error).name, /^(TimeoutError|AbortError)$/);
  await watched.rangeFinally;

  const again = watchedCalculator();
  await using other = await again.server;
  const cancelled = await grpcJs(other, "range-cancel");
  assert.equal(cancelled.code, 1);
  assert.deepEqual(cancelled.received, [0, 1, 2]);
  assert.equal((await again.rangeAborted as Error).name, "AbortError");
  await again.rangeFinally;
  assert.equal((await grpcJs(other, "total-cancel")).code, 1);
  assert.equal((await again.totalAborted as Error).name, "AbortError");
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

async function collect<T>(messages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const message of messages) out.push(message);
  return out;
}

async function* numbers(...values: (number | bigint)[]) {
  for (const value of values) yield { value };
}

// Polls a child's output: bounded, 10 s at most.
async function waitFor(pattern: RegExp, output: () => string): Promise<void> {
  for (let i = 0; i < 1000 && !pattern.test(output()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.match(output(), pattern);
}

Deno.test("parley → grpc-js: Range, Total, Running; metadata; errors with details", async () => {
  await using server = await startGrpcJs();
  await using client = connectGrpc(server.url, { schema });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  assert.deepEqual(
    (await collect(calc.Range({ start: 5, count: 4 }))).map((n) => n.value),
    [5n, 6n, 7n, 8n],
  );
  assert.equal((await collect(calc.Range({ start: 0, count: 20_000 }))).length, 20_000);
  assert.deepEqual(await calc.Total(numbers(I64_MAX, 1, -1)), { total: I64_MAX });
  assert.deepEqual(
    (await collect(calc.Running(numbers(1, 2, 3)))).map((r) => r.total),
    [1n, 3n, 6n],
  );
  let seen: GrpcResponseMetadata | undefined;
  const stream = client.openStream("interop.Calculator/Range", { start: 1, count: 2 }, {
    headers: { "x-request-tag": "p-js" },
    onMetadata: (metadata) => seen = metadata,
  });
  assert.equal((await collect(stream.messages)).length, 2);
  assert.equal(seen?.headers.get("x-request-tag"), "p-js");
  assert.equal(seen?.trailers.get("x-request-tag-end"), "p-js");

  const invalid = await rejection(collect(calc.Range({ start: 0, count: -1 })), ConnectError);
  assert.equal(invalid.code, 3);
  assert.deepEqual(invalid.data, { whatOp: 1, why: "invalid count" });
  const replies: unknown[] = [];
  const overflow = await rejection(
    (async () => {
      for await (const reply of calc.Running(numbers(I64_MAX, 1))) replies.push(reply);
    })(),
    ConnectError,
  );
  assert.deepEqual(replies, [{ total: I64_MAX }]);
  assert.deepEqual(overflow.data, { whatOp: 1, why: "overflow" });
});

Deno.test("parley → grpc-js: the deadline and leaving the loop end Range on the server; aborting ends Total", async () => {
  await using server = await startGrpcJs();
  await using client = connectGrpc(server.url, { schema });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  const error = await collect(calc.Range({ start: 0, count: 1000, delayMs: 10 }, { timeout: 300 }))
    .catch((e) => e);
  assert.ok(
    error instanceof TimeoutError || (error instanceof ConnectError && error.code === 4),
    String(error),
  );
  await waitFor(
    /range started deadline=true[\s\S]*range ended sent=\d+ cancelled=true/,
    server.stdout,
  );
  const read: bigint[] = [];
  for await (const { value } of calc.Range({ start: 0, count: 1000, delayMs: 5 })) {
    read.push(value);
    if (read.length === 3) break;
  }
  assert.deepEqual(read, [0n, 1n, 2n]);
  await waitFor(/deadline=false[\s\S]*range ended sent=\d+ cancelled=true/, server.stdout);

  const controller = new AbortController();
  const never = (async function* () {
    yield { value: 1 };
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  })();
  const total = calc.Total(never, { signal: controller.signal });
  await new Promise((resolve) => setTimeout(resolve, 200));
  controller.abort(new Error("stop"));
  assert.equal((await total.catch((e) => e) as Error).message, "stop");
  await waitFor(/total ended read=1 cancelled=true/, server.stdout);
});

Deno.test("parley → grpc-js: a gzip-compressed request stream (grpc-js answers uncompressed)", async () => {
  await using server = await startGrpcJs();
  await using client = connectGrpc(server.url, { schema, compression: "gzip" });
  const stream = client.openStream("interop.Calculator/Running", undefined, {
    input: numbers(...Array.from({ length: 200 }, (_, i) => i + 1)),
  });
  const totals = await collect(stream.messages as AsyncIterable<{ total: bigint }>);
  assert.equal(totals.length, 200);
  assert.equal(totals[199]!.total, 20_100n);
});
