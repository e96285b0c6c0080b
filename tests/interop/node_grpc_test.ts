/**
 * @grpc/grpc-js on Node (tests/interop/node/grpc_peer.mjs) and parley's
 * gRPC, both ways: grpc-js's client calls parley's server, parley's client
 * calls grpc-js's server. Add, metadata, errors with details, deadlines,
 * cancellation, gzip. The Node peers are installed from npm outside the
 * repository (./_node.ts), run through ./_grpc_js.ts.
 */

import assert from "node:assert/strict";
import { calculatorSchema } from "../../examples/calculator/protobuf.ts";
import { ConnectError } from "../../protocols/connect.ts";
import { TimeoutError } from "../../rpc/errors.ts";
import { connectGrpc, type GrpcResponseMetadata } from "../../rpc/transports/grpc.ts";
import { assertDivisionByZero, startGrpcCalculator } from "../_grpc_calculator.ts";
import { grpcJs, startGrpcJs } from "./_grpc_js.ts";

const schema = calculatorSchema();

Deno.test("grpc-js → parley: Add, the x-request-tag echo, an error with details", async () => {
  await using server = await startGrpcCalculator().server;
  assert.deepEqual(await grpcJs(server, "add"), { code: 0, sum: 3 });
  assert.deepEqual(await grpcJs(server, "metadata"), {
    code: 0,
    sum: 3,
    headers: { "x-request-tag": "js-1" },
    trailers: { "x-request-tag-end": "js-1" },
  });
  assert.deepEqual(await grpcJs(server, "invalid"), {
    code: 3,
    details: "Cannot divide by 0",
    statusDetails: true,
  });
});

Deno.test("grpc-js → parley: its deadline is 4 DEADLINE_EXCEEDED and fires the handler's signal", async () => {
  const { server: starting, pingStarted, pingAborted } = startGrpcCalculator();
  await using server = await starting;
  const outcome = await grpcJs(server, "deadline");
  assert.equal(outcome.code, 4);
  assert.match(String(await pingStarted), /^\d+[mu]$/);
  assert.match((await pingAborted as Error).name, /^(TimeoutError|AbortError)$/);
});

Deno.test("grpc-js → parley: a gzip-compressing channel is answered, compressed", async () => {
  const encodings: (string | null)[] = [];
  await using server = await startGrpcCalculator({
    compressThreshold: 0,
    onCall: ({ request }) => encodings.push(request.get("grpc-encoding")),
  }).server;
  assert.deepEqual(await grpcJs(server, "gzip"), { code: 0, same: true });
  assert.deepEqual(encodings, ["gzip"]);
});

Deno.test("parley → grpc-js: Add, metadata both ways, an error with details", async () => {
  await using server = await startGrpcJs();
  await using client = connectGrpc(server.url, { schema });
  let seen: GrpcResponseMetadata | undefined;
  assert.deepEqual(
    await client.call("interop.Calculator/Add", { num1: 1, num2: 2 }, {
      headers: { "x-request-tag": "p-1" },
      onMetadata: (metadata) => seen = metadata,
    }),
    { sum: 3 },
  );
  assert.equal(seen?.headers.get("x-request-tag"), "p-1");
  assert.equal(seen?.trailers.get("x-request-tag-end"), "p-1");
  await assertDivisionByZero(client);
});

Deno.test("parley → grpc-js: a deadline and a cancel end the call on the server", async () => {
  await using server = await startGrpcJs();
  await using client = connectGrpc(server.url, { schema });
  const late = await client.call("interop.Calculator/Ping", {}, { timeout: 300 }).catch((e) => e);
  assert.ok(
    late instanceof TimeoutError || (late instanceof ConnectError && late.code === 4),
    String(late),
  );
  await waitFor(() => /ping started deadline=true[\s\S]*ping ended/.test(server.stdout()));
  const controller = new AbortController();
  const call = client.call("interop.Calculator/Ping", {}, { signal: controller.signal });
  await waitFor(() => server.stdout().includes("deadline=false"));
  controller.abort(new Error("stop"));
  assert.equal((await call.catch((e) => e) as Error).message, "stop");
  await waitFor(() => server.stdout().split("ping ended").length === 3);
});

Deno.test("parley → grpc-js: a gzip-compressed request is read (grpc-js answers uncompressed)", async () => {
  await using server = await startGrpcJs();
  await using client = connectGrpc(server.url, { schema, compression: "gzip" });
  const data = new TextEncoder().encode("compressible ".repeat(1000));
  let seen: GrpcResponseMetadata | undefined;
  const reply = await client.call<{ data: Uint8Array }>("interop.Calculator/EchoBinary", { data }, {
    onMetadata: (metadata) => seen = metadata,
  });
  assert.deepEqual(reply.data, data);
  // grpc-js's server has no response compression.
  assert.equal(seen?.headers.get("grpc-encoding"), "identity");
  assert.match(seen?.headers.get("grpc-accept-encoding") ?? "", /gzip/);
});

// Polls a child's output: bounded, 10 s at most.
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), "timed out waiting for the peer's output");
}
