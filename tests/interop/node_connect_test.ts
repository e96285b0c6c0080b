/**
 * Connect interop with connect-es on Node (`@connectrpc/connect-node`, from
 * npm, its service descriptors built from calculator.proto by protoc at run
 * time), both ways:
 *
 * - `node/connect_client.mjs` runs the whole Calculator contract (40 checks)
 *   against the example server's Connect endpoint, with `application/proto`
 *   and with `application/json`;
 * - parley's `connectClient` calls `node/connect_server.mjs`, connect-es's
 *   server for the same contract.
 *
 * Needs `node`, `npm` (the peers are installed once, outside the tree) and
 * `protoc`.
 */

import assert from "node:assert/strict";
import { loadProto, protoClient } from "../../codecs/protobuf.ts";
import { connectClient, ConnectError } from "../../protocols/connect.ts";
import { calculatorSchema } from "../../examples/calculator/protobuf.ts";
import type { Calculator } from "../../examples/calculator/calculator_types.ts";
import { CALCULATOR_PROTO_DIR, nodePeers } from "./_node.ts";
import { formatOutput, run, spawnListening, startCalculator } from "./_process.ts";
import { rejection } from "../_rejection.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("protoc");

for (const format of ["proto", "json"] as const) {
  test(
    `calculator example (Connect over http, ${format}) passes connect-es's contract checks`,
    async () => {
      const dir = await nodePeers();
      await using server = await startCalculator("--codec", "protobuf", "--transport", "http");
      const client = await run("node", {
        args: [
          `${dir}/connect_client.mjs`,
          server.url,
          "--format",
          format,
          "--proto-dir",
          CALCULATOR_PROTO_DIR,
        ],
        timeout: 90_000,
      });
      assert.equal(
        client.code,
        0,
        `connect_client.mjs --format ${format} failed\n${formatOutput(client)}` +
          `\n--- calculator stderr ---\n${server.stderr()}`,
      );
      assert.match(client.stdout, new RegExp(`all \\d+ checks passed \\(connect, ${format}\\)`));
      assert.doesNotMatch(client.stdout, /FAIL/);
    },
  );
}

const connectError = (promise: Promise<unknown>) => rejection(promise, ConnectError);

for (const format of ["proto", "json"] as const) {
  test(`parley's Connect client (${format}) calls connect-es's server: the whole contract`, async () => {
    const dir = await nodePeers();
    await using server = await spawnListening("node", {
      args: [`${dir}/connect_server.mjs`, "--proto-dir", CALCULATOR_PROTO_DIR],
      timeout: 30_000,
    });
    const schema = calculatorSchema();
    await using client = connectClient(server.url, { schema, format, timeout: 10_000 });
    const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
    assert.deepEqual(await calc.Ping({}), {});
    assert.deepEqual(await calc.Add({ num1: 1, num2: 2 }), { sum: 3 });
    const overflow = await connectError(calc.Add({ num1: 2 ** 31 - 1, num2: 1 }));
    assert.equal(overflow.connectCode, "invalid_argument");
    assert.equal(overflow.message, "overflow");
    // connect-es adds a `debug` copy of each detail; parley reads the bytes.
    assert.deepEqual(overflow.details, [{
      type: "interop.InvalidOperation",
      value: { whatOp: 1, why: "overflow" },
    }]);
    assert.deepEqual(
      await calc.Calculate({ logid: 1, w: { num1: -7, num2: 2, op: 4 } }),
      { value: -3 },
    );
    const byZero = await connectError(calc.Calculate({ logid: 1, w: { num1: 1, num2: 0, op: 4 } }));
    assert.deepEqual(byZero.data, { whatOp: 4, why: "Cannot divide by 0" });
    assert.deepEqual(await calc.Echo({ text: "héllo 🌍" }), { text: "héllo 🌍" });
    const data = new Uint8Array(1 << 20).map((_, i) => i % 253);
    assert.deepEqual(await calc.EchoBinary({ data }), { data });
    const shape = {
      name: "s",
      coords: [1.5, -0.25, 1e308, 5e-324, Infinity, -Infinity],
      tags: { big: 2n ** 62n, min: -(2n ** 63n), zero: 0n },
      blob: new Uint8Array([1, 2, 3]),
      flag: true,
    };
    assert.deepEqual(await calc.EchoShape(shape), shape);
    assert.deepEqual(await calc.Sum({ values: [2n ** 63n - 1n, 1, -1] }), {
      total: 2n ** 63n - 1n,
    });
    assert.deepEqual((await connectError(calc.Sum({ values: [2n ** 63n - 1n, 1] }))).data, {
      whatOp: 1,
      why: "overflow",
    });
    assert.deepEqual(await calc.Zip({}), {});
    const sums = await Promise.all(
      Array.from({ length: 32 }, (_, i) => calc.Add({ num1: i, num2: i })),
    );
    assert.deepEqual(sums, Array.from({ length: 32 }, (_, i) => ({ sum: 2 * i })));
    // A method connect-es does not serve: unimplemented, from its 404.
    const wider = loadProto({
      "calculator.proto": Deno.readTextFileSync(`${CALCULATOR_PROTO_DIR}/calculator.proto`),
      "extra.proto": `syntax = "proto3"; package interop; import "calculator.proto";
        service Absent { rpc Nope(Empty) returns (Empty); }`,
    });
    await using other = connectClient(server.url, { schema: wider, format });
    assert.equal(
      (await connectError(other.call("interop.Absent/Nope", {}))).connectCode,
      "unimplemented",
    );
    const stopped = await server.stop("SIGTERM");
    assert.equal(stopped.code, 0, formatOutput(stopped));
  });
}
