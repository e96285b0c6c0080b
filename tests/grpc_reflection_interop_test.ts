/**
 * gRPC server reflection over gRPC itself, with real peers both ways:
 * parley's serveGrpc asked by parley's own client (connectGrpc's bidi
 * stream, reflectSchema), by Python grpcio (a generic stream_stream, then
 * Add called from the reflected descriptors) and by @grpc/grpc-js with
 * @grpc/proto-loader; and parley's reflection client asking a grpc-js server
 * whose reflection is @grpc/reflection's.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadProto, protoClient } from "../codecs/protobuf.ts";
import {
  connectGrpc,
  type GrpcServer,
  REFLECTION_PROTOS,
  reflectSchema,
  serveGrpc,
} from "../rpc/transports/grpc.ts";
import { ERROR_DETAILS } from "../examples/calculator/protobuf.ts";
import type { Calculator } from "../examples/calculator/calculator_types.ts";
import { converse, peerJson, reflectedCalculator } from "./_reflection.ts";
import { CALCULATOR_PROTO_DIR, nodePeers } from "./interop/_node.ts";
import { DEBIAN_PYTHON, spawnListening } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const POOL_SCRIPT = new URL("./interop/python/reflected_pool.py", import.meta.url).pathname;
const withGrpcio = testNeeding("py:grpc", "py:google.protobuf", "protoc");

function startServer(): Promise<GrpcServer> {
  const { schema, service } = reflectedCalculator();
  return serveGrpc({ schema, service, errorDetails: ERROR_DETAILS, errorStatus: () => 3 });
}

async function collect<T>(messages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const message of messages) out.push(message);
  return out;
}

Deno.test("parley → parley over gRPC: reflection's stream, then calls from the reflected schema", async () => {
  await using server = await startServer();
  await using asking = connectGrpc(server.url, { schema: loadProto(REFLECTION_PROTOS) });
  const replies = await converse(asking, [
    { listServices: "" },
    { fileContainingSymbol: "interop.Calculator.Range" },
    { fileContainingSymbol: "interop.Nothing" },
    ...Array.from({ length: 200 }, () => ({ fileByFilename: "calculator.proto" })),
  ]);
  assert.equal(replies.length, 203);
  assert.ok(
    (replies[0]!.listServicesResponse as { service: { name: string }[] }).service
      .some((s) => s.name === "interop.Calculator"),
  );
  assert.equal((replies[2]!.errorResponse as { errorCode: number }).errorCode, 5);
  for (const reply of replies.slice(3)) assert.ok("fileDescriptorResponse" in reply);

  const { schema, services, via } = await reflectSchema(asking);
  assert.equal(via, "grpc.reflection.v1.ServerReflection");
  assert.ok(services.includes("grpc.health.v1.Health"));
  await using client = connectGrpc(server.url, { schema });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  assert.deepEqual(await calc.Add({ num1: 40, num2: 2 }), { sum: 42 });
  assert.deepEqual(await calc.Sum({ values: [2n ** 63n - 1n, 1, -1] }), { total: 2n ** 63n - 1n });
  const numbers = await collect(calc.Range({ start: 3, count: 3 }));
  assert.deepEqual(numbers.map((n) => n.value), [3n, 4n, 5n]);
});

Deno.test("reflection over gRPC: a 1 MiB name, and 3,000 requests on one stream, each answered", async () => {
  await using server = await startServer();
  await using asking = connectGrpc(server.url, { schema: loadProto(REFLECTION_PROTOS) });
  const names = ["interop.Calculator", "interop.Nothing", "interop.Nope"];
  const requests = Array.from(
    { length: 3_000 },
    (_, i) => ({ fileContainingSymbol: names[i % 3] }),
  );
  requests[1] = { fileContainingSymbol: "n".repeat(1 << 20) }; // sent back whole in original_request
  const replies = await converse(asking, requests);
  assert.equal(replies.length, 3_000);
  replies.forEach((reply, i) => {
    assert.equal("errorResponse" in reply, i % 3 !== 0, `reply ${i}`);
  });
  const message = (replies[1]!.errorResponse as { errorMessage: string }).errorMessage;
  assert.ok(message.length < 300, "the name is not sent back in the message");
  // The stream is over; the server goes on answering.
  assert.equal((await converse(asking, [{ listServices: "" }])).length, 1);
});

withGrpcio(
  "grpcio → parley: reflection (v1 and v1alpha), then Add from the reflected descriptors",
  async () => {
    await using server = await startServer();
    const dir = await Deno.makeTempDir({ prefix: "parley-reflection-" });
    for (const version of ["v1", "v1alpha"]) {
      // grpcio's messages compiled by protoc from parley's copy of grpc's reflection.proto (the
      // grpc-js test below uses grpc's own, shipped with @grpc/reflection).
      await Deno.mkdir(`${dir}/${version}`);
      const proto = `${dir}/${version}/reflection.proto`;
      await Deno.writeTextFile(
        proto,
        REFLECTION_PROTOS[`grpc/reflection/${version}/reflection.proto`]!,
      );
      const target = `127.0.0.1:${server.addr.port}`;
      const seen = await peerJson(DEBIAN_PYTHON, POOL_SCRIPT, "grpc", target, proto, version);
      assert.deepEqual(seen.services, [
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "interop.Calculator",
      ]);
      assert.equal(seen.unknown.code, 5);
      assert.equal(seen.calculator.file, "calculator.proto");
      assert.deepEqual(seen.calculator.add_decoded, { num1: -7, num2: 9 });
      assert.equal(seen.sum, 42);
    }
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("grpc-js → parley: reflection through @grpc/proto-loader, then Add from it", async () => {
  await using server = await startServer();
  const dir = await nodePeers();
  for (const version of ["v1", "v1alpha"]) {
    const target = `127.0.0.1:${server.addr.port}`;
    const seen = await peerJson(
      "node",
      `${dir}/grpc_reflection_peer.mjs`,
      "client",
      target,
      version,
    );
    assert.ok(seen.services.includes("interop.Calculator"));
    assert.equal(seen.files, 1);
    assert.equal(seen.unknown.code, 5);
    assert.match(seen.unknown.message, /interop\.NoSuchThing/);
    assert.equal(seen.sum, 42);
    assert.deepEqual(seen.streaming.Range, [false, true]);
    assert.deepEqual(seen.streaming.Total, [true, false]);
    assert.deepEqual(seen.streaming.Running, [true, true]);
    assert.deepEqual(seen.streaming.Add, [false, false]);
  }
});

async function startGrpcJs() {
  const dir = await nodePeers();
  return spawnListening("node", {
    args: [`${dir}/grpc_reflection_peer.mjs`, "server", "--proto-dir", CALCULATOR_PROTO_DIR],
  });
}

Deno.test("parley → grpc-js with @grpc/reflection: reflectSchema, then Add, Sum and Range", async () => {
  await using server = await startGrpcJs();
  await using asking = connectGrpc(server.url, { schema: loadProto(REFLECTION_PROTOS) });
  const { schema, services, via } = await reflectSchema(asking, { timeout: 20_000 });
  assert.equal(via, "grpc.reflection.v1.ServerReflection");
  assert.ok(services.includes("interop.Calculator"));
  const range = schema.method("interop.Calculator/Range")!;
  assert.deepEqual([range.clientStreaming, range.serverStreaming], [false, true]);
  await using client = connectGrpc(server.url, { schema, timeout: 20_000 });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  assert.deepEqual(await calc.Add({ num1: 40, num2: 2 }), { sum: 42 });
  assert.deepEqual(await calc.Sum({ values: [2n ** 63n - 1n, 1, -1] }), { total: 2n ** 63n - 1n });
  const numbers = await collect(calc.Range({ start: -1, count: 3 }));
  assert.deepEqual(numbers.map((n) => n.value), [-1n, 0n, 1n]);
});
