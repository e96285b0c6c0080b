/**
 * The crash that moved gRPC off Deno's `node:http2` (denoland/deno#36788,
 * docs/grpc.md "Limits and hostile input"): a client that sends GOAWAY after
 * many streams could abort the whole server process inside nghttp2. The
 * server here is the calculator example (`--transport grpc`) in a process of
 * its own, so that an abort would show as that process dying: clients load
 * it and close (GOAWAY) with calls still in flight, again and again, and
 * after each round a fresh client must be served and the process must still
 * be running; at the end SIGTERM must find it alive and end it with exit 0.
 *
 * @module
 */

import assert from "node:assert/strict";
import { protoClient } from "../codecs/protobuf.ts";
import { calculatorSchema } from "../examples/calculator/protobuf.ts";
import { ConnectionClosedError } from "../rpc/errors.ts";
import { connectGrpc, type GrpcClient } from "../rpc/transports/grpc.ts";
import { testNeeding } from "./_needs.ts";
import { nodePeers } from "./interop/_node.ts";
import {
  DEBIAN_PYTHON,
  formatOutput,
  type ListeningProcess,
  run,
  startCalculator,
} from "./interop/_process.ts";

const schema = calculatorSchema();
type Calculator = { Add(request: { num1: number; num2: number }): Promise<{ sum: number }> };

/** The calculator over gRPC in a process of its own, and whether it has exited. */
async function startServer(): Promise<{ server: ListeningProcess; exited: () => boolean }> {
  const server = await startCalculator("--transport", "grpc");
  let exited = false;
  server.child.status.then(() => exited = true);
  return { server, exited: () => exited };
}

/** A fresh client's call: the server process is up and serving. */
async function stillServes(url: string, exited: () => boolean): Promise<void> {
  assert.equal(exited(), false, "the server process is still running");
  await using client = connectGrpc(url, { schema, timeout: 10_000 });
  const calculator = protoClient<Calculator>(client, schema, "interop.Calculator");
  assert.deepEqual(await calculator.Add({ num1: 20, num2: 22 }), { sum: 42 });
}

/**
 * Keeps 64 Add calls in flight for `ms` (at most 100,000 calls), then
 * closes the client (GOAWAY) without waiting for the 64 still in flight.
 *
 * @returns the calls answered, and those that the close failed
 */
async function loadThenClose(client: GrpcClient, ms: number) {
  const calculator = protoClient<Calculator>(client, schema, "interop.Calculator");
  const end = performance.now() + ms;
  let answered = 0;
  let closedOn = 0;
  let started = 0;
  const worker = async () => {
    while (started++ < 100_000) {
      try {
        const { sum } = await calculator.Add({ num1: 1, num2: 2 });
        assert.equal(sum, 3);
        answered++;
      } catch (error) {
        assert.ok(error instanceof ConnectionClosedError, String(error));
        closedOn++;
        return;
      }
    }
  };
  const workers = Array.from({ length: 64 }, worker);
  while (performance.now() < end && started < 100_000) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await client.close();
  await Promise.all(workers);
  return { answered, closedOn };
}

Deno.test("connectGrpc: 64 calls in flight for 0.5 s, then close() (GOAWAY), ten times: the server process serves on", async () => {
  const { server, exited } = await startServer();
  try {
    for (let round = 0; round < 10; round++) {
      const client = connectGrpc(server.url, { schema });
      const { answered, closedOn } = await loadThenClose(client, 500);
      assert.ok(answered > 64, `round ${round}: ${answered} calls answered`);
      assert.ok(closedOn <= 64, `round ${round}: ${closedOn} calls failed by the close`);
      await stillServes(server.url, exited);
    }
  } finally {
    const result = await server.stop();
    assert.equal(result.code, 0, formatOutput(result));
  }
});

// grpcio's generic stub: bytes in, bytes out (Add(1, 2) is 08 01 10 02; its reply 08 03).
const GRPCIO_LOAD = `
import sys, time, grpc
target = sys.argv[1]
answered = 0
for _ in range(5):
    channel = grpc.insecure_channel(target)
    add = channel.unary_unary("/interop.Calculator/Add")
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        for future in [add.future(b"\\x08\\x01\\x10\\x02", timeout=10) for _ in range(64)]:
            assert future.result() == b"\\x08\\x03"
            answered += 1
    left = [add.future(b"\\x08\\x01\\x10\\x02") for _ in range(64)]  # in flight at the close
    channel.close()
print(answered)
`;

testNeeding("py:grpc")(
  "grpcio: channels closed after heavy load, with calls in flight: the server process serves on",
  async () => {
    const { server, exited } = await startServer();
    try {
      const result = await run(DEBIAN_PYTHON, {
        args: ["-c", GRPCIO_LOAD, `127.0.0.1:${server.port}`],
        env: { PATH: Deno.env.get("PATH")! },
        timeout: 60_000,
      });
      assert.equal(result.code, 0, formatOutput(result));
      assert.ok(Number(result.stdout.trim()) > 5 * 64, formatOutput(result));
      await stillServes(server.url, exited);
    } finally {
      const result = await server.stop();
      assert.equal(result.code, 0, formatOutput(result));
    }
  },
);

// grpc-js's generic client, bytes in and out, five clients one after another.
const GRPC_JS_LOAD = `
import grpc from "@grpc/grpc-js";
const target = process.argv.at(-1);
const same = (bytes) => bytes;
const Client = grpc.makeGenericClientConstructor({
  Add: {
    path: "/interop.Calculator/Add",
    requestStream: false,
    responseStream: false,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  },
}, "Calculator");
const request = Buffer.from([8, 1, 16, 2]);
let answered = 0;
for (let round = 0; round < 5; round++) {
  const client = new Client(target, grpc.credentials.createInsecure());
  const end = Date.now() + 500;
  const add = () => new Promise((resolve, reject) =>
    client.Add(request, (error, reply) => error ? reject(error) : resolve(reply))
  );
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (Date.now() < end) {
      const reply = await add();
      if (reply[0] !== 8 || reply[1] !== 3) throw new Error("a wrong sum");
      answered++;
    }
  }));
  for (let i = 0; i < 64; i++) client.Add(request, () => {}); // in flight at the close
  client.close();
}
console.log(answered);
`;

Deno.test("grpc-js: clients closed after heavy load, with calls in flight: the server process serves on", async () => {
  const dir = await nodePeers();
  const { server, exited } = await startServer();
  try {
    const result = await run("node", {
      args: ["--input-type=module", "-e", GRPC_JS_LOAD, `127.0.0.1:${server.port}`],
      cwd: dir,
      env: { PATH: Deno.env.get("PATH")! },
      timeout: 60_000,
    });
    assert.equal(result.code, 0, formatOutput(result));
    assert.ok(Number(result.stdout.trim()) > 5 * 64, formatOutput(result));
    await stillServes(server.url, exited);
  } finally {
    const result = await server.stop();
    assert.equal(result.code, 0, formatOutput(result));
  }
});
