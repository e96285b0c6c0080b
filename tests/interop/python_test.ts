/**
 * Interop with Python's standard library, both ways:
 *
 * - `python/calculator_client.py` runs the whole Calculator contract
 *   (`shared/interop/README.md`) against the example server, over each
 *   byte-stream framing of JSON-RPC;
 * - parley calls `python/json_rpc_server.py`, a plain `socketserver`
 *   JSON-RPC 2.0 server.
 *
 * Needs `python3` on the PATH.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { type Peer, RpcError } from "../../mod.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import { connectTcp } from "../../rpc/transports/tcp.ts";
import {
  formatOutput,
  type ListeningProcess,
  run,
  spawnListening,
  startCalculator,
} from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("python3");

const PYTHON = "python3";
const CLIENT = new URL("./python/calculator_client.py", import.meta.url).pathname;
const SERVER = new URL("./python/json_rpc_server.py", import.meta.url).pathname;

/** Starts the example calculator: JSON-RPC over TCP with the given framing. */
function startJsonCalculator(framing: string): Promise<ListeningProcess> {
  return startCalculator("--codec", "jsonrpc", "--transport", "tcp", "--framing", framing);
}

for (const framing of ["newline", "length-prefix", "varint", "content-length"]) {
  test(
    `calculator example (jsonrpc over tcp, ${framing} framing) passes the Python client's contract checks and exits 0 on SIGTERM`,
    async () => {
      const server = await startJsonCalculator(framing);
      try {
        assert.match(server.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
        const client = await run(PYTHON, {
          args: [CLIENT, server.hostname, String(server.port), "--framing", framing],
          timeout: 60_000,
        });
        assert.equal(
          client.code,
          0,
          `calculator_client.py --framing ${framing} failed\n${formatOutput(client)}` +
            `\n--- calculator stderr ---\n${server.stderr()}`,
        );
        assert.match(client.stdout, /all \d+ checks passed/);
        const stopped = await server.stop("SIGTERM");
        assert.equal(
          stopped.code,
          0,
          `the calculator did not exit 0 on SIGTERM\n${formatOutput(stopped)}`,
        );
      } finally {
        await server.stop("SIGKILL");
      }
    },
  );
}

/** Runs `body` with a parley client connected to a fresh Python JSON-RPC server. */
async function withPythonServer(body: (client: Peer) => Promise<void>): Promise<void> {
  const server = await spawnListening(PYTHON, { args: [SERVER], timeout: 15_000 });
  let client: Peer | undefined;
  try {
    client = await connectTcp(
      { hostname: server.hostname, port: server.port },
      { codec: jsonRpc(), framing: newline(), timeout: 10_000, connectTimeout: 5_000 },
    );
    await body(client);
    await client.close();
    const stopped = await server.stop("SIGTERM");
    assert.equal(
      stopped.code,
      0,
      `json_rpc_server.py did not exit 0 on SIGTERM\n${formatOutput(stopped)}`,
    );
  } finally {
    await client?.close();
    await server.stop("SIGKILL");
  }
}

/** Asserts that `promise` rejects with an RpcError and returns it. */
async function rpcError(promise: Promise<unknown>): Promise<RpcError> {
  try {
    const result = await promise;
    assert.fail(`expected an RpcError, got the result ${JSON.stringify(result)}`);
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    return error;
  }
}

test("parley calls a Python JSON-RPC server with positional params: add(1, 2) = 3", async () => {
  await withPythonServer(async (client) => {
    assert.equal(await client.call("add", [1, 2]), 3);
    assert.equal(await client.call("add", [0.5, -2]), -1.5);
    assert.equal(await client.call("echo", ["héllo 🎉"]), "héllo 🎉");
    assert.deepEqual(await client.call("echo", [{ a: [1, null, true] }]), { a: [1, null, true] });
  });
});

test("parley calls a Python JSON-RPC server with named params: concat({b, a}) joins in key order", async () => {
  await withPythonServer(async (client) => {
    assert.equal(await client.call("concat", { b: "world", a: "hello " }), "hello world");
    assert.equal(await client.call("concat", {}), "");
  });
});

test("a Python server's error reply rejects with RpcError carrying its code, message and data", async () => {
  await withPythonServer(async (client) => {
    const error = await rpcError(client.call("fail", []));
    assert.equal(error.code, 42);
    assert.equal(error.message, "deliberate");
    assert.deepEqual(error.data, { detail: "x" });
    // The connection is still usable afterwards.
    assert.equal(await client.call("add", [2, 3]), 5);
  });
});

test("an unknown method on a Python server rejects with RpcError -32601", async () => {
  await withPythonServer(async (client) => {
    const error = await rpcError(client.call("no_such_method", [1]));
    assert.equal(error.code, -32601);
    assert.deepEqual(error.data, { method: "no_such_method" });
  });
});

test("concurrent calls to a Python server resolve out of order: slow(10) before slow(300)", async () => {
  await withPythonServer(async (client) => {
    const order: number[] = [];
    const long = client.call<number>("slow", [300]).then((ms) => (order.push(ms), ms));
    const short = client.call<number>("slow", [10]).then((ms) => (order.push(ms), ms));
    assert.equal(client.pending, 2);
    assert.deepEqual(await Promise.all([long, short]), [300, 10]);
    assert.deepEqual(order, [10, 300]);
  });
});

test("a notification to a Python server gets no reply and is seen by the next call", async () => {
  await withPythonServer(async (client) => {
    await client.notify("notify_me", ["first"]);
    await client.notify("notify_me", { n: 2 });
    assert.equal(client.pending, 0);
    assert.deepEqual(await client.call("notifications", []), [["first"], { n: 2 }]);
  });
});

test("a batch to a Python server settles each entry by id, notifications included", async () => {
  await withPythonServer(async (client) => {
    const outcomes = await client.batch([
      { method: "add", params: [1, 2] },
      { method: "notify_me", params: ["batched"], notification: true },
      { method: "fail", params: [] },
      { method: "echo", params: ["last"] },
    ]);
    assert.deepEqual(outcomes[0], { status: "fulfilled", value: 3 });
    assert.deepEqual(outcomes[1], { status: "fulfilled", value: undefined });
    assert.equal(outcomes[2]?.status, "rejected");
    const reason = (outcomes[2] as PromiseRejectedResult).reason;
    assert.ok(reason instanceof RpcError);
    assert.equal(reason.code, 42);
    assert.deepEqual(outcomes[3], { status: "fulfilled", value: "last" });
    assert.deepEqual(await client.call("notifications", []), [["batched"]]);
  });
});
