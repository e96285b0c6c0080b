/**
 * How the Connect handler runs a unary handler: a value returned at once,
 * a throw, a promise and a thenable of another kind all answer, and every
 * one of them leaves the in-flight count as it found it (with
 * `maxInFlight: 1`, a call that leaked its count would refuse the next).
 */

import assert from "node:assert/strict";
import { loadProto, protoService } from "../codecs/protobuf.ts";
import { connectClient, ConnectError, connectHandler } from "../protocols/connect.ts";

const schema = loadProto(`
  syntax = "proto3";
  package demo;
  message N { int32 n = 1; }
  service Ways { rpc Now(N) returns (N); rpc Later(N) returns (N); rpc Then(N) returns (N); rpc Fail(N) returns (N); rpc FailLater(N) returns (N); }
`);

Deno.test("Connect handler: values, promises, thenables and throws answer, and none leaks an in-flight slot", async () => {
  const service = protoService(schema, "demo.Ways", {
    Now: ({ n }: { n: number }) => ({ n: n + 1 }),
    Later: async ({ n }: { n: number }) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { n: n + 2 };
    },
    Then: ({ n }: { n: number }) => ({
      then: (resolve: (v: unknown) => void) => resolve({ n: n + 3 }),
    }),
    Fail: () => {
      throw new ConnectError("failed_precondition", "not now");
    },
    FailLater: () => Promise.reject(new ConnectError("aborted", "not later")),
  });
  const handler = connectHandler({ schema, service, limits: { maxInFlight: 1 } });
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  await using client = connectClient(`http://127.0.0.1:${server.addr.port}`, { schema });
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(await client.call("demo.Ways/Now", { n: round }), { n: round + 1 });
    assert.deepEqual(await client.call("demo.Ways/Later", { n: round }), { n: round + 2 });
    assert.deepEqual(await client.call("demo.Ways/Then", { n: round }), { n: round + 3 });
    await assert.rejects(client.call("demo.Ways/Fail", { n: round }), {
      connectCode: "failed_precondition",
    });
    await assert.rejects(client.call("demo.Ways/FailLater", { n: round }), {
      connectCode: "aborted",
    });
  }
});
