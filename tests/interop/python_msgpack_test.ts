/**
 * msgpack-rpc interop with Python's msgpack library (Debian's
 * python3-msgpack), both ways:
 *
 * - `python/msgpack_calculator_client.py` runs the whole Calculator contract
 *   (`shared/interop/README.md`) against the example server with
 *   `--codec msgpack`, on the standard self-delimiting stream and with the
 *   other byte-stream framings;
 * - parley calls `python/msgpack_rpc_server.py`, a `socketserver` msgpack-rpc
 *   server.
 *
 * Needs `/usr/bin/python3` with python3-msgpack (else `python3` on the PATH
 * must have msgpack).
 */

import assert from "node:assert/strict";
import {
  MsgpackExt,
  msgpackRpc,
  type MsgpackRpcOptions,
  RawString,
} from "../../codecs/msgpack_rpc.ts";
import { Float, float } from "../../rpc/float.ts";
import { type Peer, RpcError } from "../../mod.ts";
import { selfDelimiting } from "../../rpc/framing/self_delimiting.ts";
import { connectTcp } from "../../rpc/transports/tcp.ts";
import {
  DEBIAN_PYTHON,
  formatOutput,
  type ListeningProcess,
  run,
  spawnListening,
  startCalculator,
} from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("py:msgpack");

const PYTHON = DEBIAN_PYTHON;
const CLIENT = new URL("./python/msgpack_calculator_client.py", import.meta.url).pathname;
const SERVER = new URL("./python/msgpack_rpc_server.py", import.meta.url).pathname;

/** Starts the example calculator: msgpack-rpc over TCP with the given framing. */
function startMsgpackCalculator(framing: string): Promise<ListeningProcess> {
  return startCalculator(
    "--codec",
    "msgpack",
    "--transport",
    "tcp",
    ...(framing === "self-delimiting" ? [] : ["--framing", framing]),
  );
}

for (const framing of ["self-delimiting", "length-prefix", "varint", "content-length"]) {
  const how = framing === "self-delimiting" ? "the default self-delimiting stream" : framing;
  test(
    `calculator example (msgpack over tcp, ${how}) passes the Python msgpack client's contract checks and exits 0 on SIGTERM`,
    async () => {
      await using server = await startMsgpackCalculator(framing);
      assert.match(server.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
      const client = await run(PYTHON, {
        args: [CLIENT, server.hostname, String(server.port), "--framing", framing],
        timeout: 60_000,
      });
      assert.equal(
        client.code,
        0,
        `msgpack_calculator_client.py --framing ${framing} failed\n${formatOutput(client)}` +
          `\n--- calculator stderr ---\n${server.stderr()}`,
      );
      assert.match(client.stdout, new RegExp(`all \\d+ checks passed \\(${framing}, msgpack`));
      assert.doesNotMatch(client.stdout, /FAIL/);
      for (
        const check of [
          "add(i32 max, 1) is InvalidOperation",
          "calculate DIVIDE by 0 is InvalidOperation(4, Cannot divide by 0)",
          "echoShape round-trips name, double coords, i64 tags beyond 2^53",
          "echoShape returns whole doubles 2.0, 0.0, -0.0 as floats, the sign of zero kept",
          "sum([2^63-1, 1, -1]) = 2^63-1",
          "zip called as a request answers nil",
          "60 pipelined requests",
          "echoBinary of 1 MiB comes back whole",
        ]
      ) {
        assert.ok(
          client.stdout.includes(`ok   [${framing}] ${check}`),
          `no "ok" line for ${check}\n${client.stdout}`,
        );
      }
      const stopped = await server.stop("SIGTERM");
      assert.equal(
        stopped.code,
        0,
        `the calculator did not exit 0 on SIGTERM\n${formatOutput(stopped)}`,
      );
    },
  );
}

test("the Python msgpack client reports a missing server with exit code 2", async () => {
  // A port nothing listens on: bind one, note it, close it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const client = await run(PYTHON, { args: [CLIENT, "127.0.0.1", String(port)], timeout: 30_000 });
  assert.equal(client.code, 2, formatOutput(client));
  assert.match(client.stderr, /cannot connect/);
});

/** Runs `body` with a parley client connected to a fresh Python msgpack-rpc server. */
async function withPythonServer(
  body: (client: Peer) => Promise<void>,
  service: Record<string, (...args: never[]) => unknown> = {},
  codecOptions: MsgpackRpcOptions = {},
): Promise<void> {
  await using server = await spawnListening(PYTHON, { args: [SERVER], timeout: 15_000 });
  const codec = msgpackRpc(codecOptions);
  await using client = await connectTcp(
    { hostname: server.hostname, port: server.port },
    {
      codec,
      framing: selfDelimiting(codec.measure!.bind(codec)),
      service,
      timeout: 10_000,
      connectTimeout: 5_000,
    },
  );
  await body(client);
  await client.close();
  const stopped = await server.stop("SIGTERM");
  assert.equal(
    stopped.code,
    0,
    `msgpack_rpc_server.py did not exit 0 on SIGTERM\n${formatOutput(stopped)}`,
  );
}

/** Asserts that `promise` rejects with an RpcError and returns it. */
async function rpcError(promise: Promise<unknown>): Promise<RpcError> {
  try {
    const result = await promise;
    assert.fail(`expected an RpcError, got the result ${String(result)}`);
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    return error;
  }
}

test("parley calls a Python msgpack-rpc server: add(1, 2) = 3, floats and i64 too", async () => {
  await withPythonServer(async (client) => {
    assert.equal(await client.call("add", [1, 2]), 3);
    assert.equal(await client.call("add", [0.5, -2]), -1.5);
    assert.equal(await client.call("add", [2n ** 62n, 2n ** 62n - 1n]), 2n ** 63n - 1n);
    assert.equal(await client.call("add", [2 ** 40, 2 ** 40]), 2 ** 41);
  });
});

test("a Python msgpack-rpc server echoes every value type parley sends, unchanged", async () => {
  await withPythonServer(async (client) => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 7) % 256);
    const cases: [string, unknown, string][] = [
      ["nil", null, "NoneType"],
      ["true", true, "bool"],
      ["false", false, "bool"],
      ["a small int", 7, "int"],
      ["a negative int", -1, "int"],
      ["an int beyond 32 bits", 2 ** 40 + 1, "int"],
      ["the largest safe integer", Number.MAX_SAFE_INTEGER, "int"],
      ["i64 max as a bigint", 2n ** 63n - 1n, "int"],
      ["i64 min as a bigint", -(2n ** 63n), "int"],
      ["u64 max as a bigint", 2n ** 64n - 1n, "int"],
      ["a double", 0.1, "float"],
      ["a tiny double", -2.5e-300, "float"],
      ["Unicode text with astral characters", "héllo 日本語 🎉 𝄞", "str"],
      ["the empty string", "", "str"],
      ["bytes", bytes, "bytes"],
      ["no bytes", new Uint8Array(0), "bytes"],
      ["an array", [1, "two", null, [3.5]], "list"],
      ["an object", { a: 1, b: { c: [true] } }, "dict"],
      ["a Map with int keys", new Map<unknown, unknown>([[1, "one"], [-2, "minus two"]]), "dict"],
      [
        "a Date (timestamp extension)",
        new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789)),
        "Timestamp",
      ],
      ["a Date before 1970", new Date(-1_234_567_890_123), "Timestamp"],
    ];
    for (const [label, value, pythonType] of cases) {
      assert.deepEqual(
        await client.call("types", [value]),
        [pythonType],
        `${label}: Python decoded it as another type`,
      );
      assert.deepEqual(await client.call("echo", [value]), value, `${label} did not come back`);
    }
    // Numbers beyond ±2^53 come back as bigint; safe ones as number.
    assert.equal(await client.call("echo", [2n ** 53n + 1n]), 2n ** 53n + 1n);
    assert.equal(await client.call("echo", [2n ** 40n]), 2 ** 40);
    const big = "x🎉".repeat(300_000);
    assert.equal(await client.call("echo", [big]), big);
  });
});

test("a Python msgpack-rpc server gets Floats as floats, -0.0 included, and a keepFloats client gets them back", async () => {
  await withPythonServer(
    async (client) => {
      const values = [float(2), float(0), float(-0), float(NaN), float(-Infinity), 7];
      assert.deepEqual(await client.call("types", values), [
        "float",
        "float",
        "float",
        "float",
        "float",
        "int",
      ]);
      const back = await client.call<unknown[]>("echo", [values]);
      assert.deepEqual(back, values);
      assert.ok(Object.is((back[2] as Float).value, -0));
      // Python's own floats, whole ones too.
      assert.deepEqual(await client.call("add", [float(1), float(1)]), new Float(2));
      assert.equal(await client.call("add", [1, 1]), 2);
    },
    {},
    { keepFloats: true },
  );
});

test("a Python msgpack-rpc server echoes unknown ext types as ExtType, byte for byte", async () => {
  await withPythonServer(async (client) => {
    const ext = new MsgpackExt(42, new Uint8Array([0, 1, 0xc1, 0xff]));
    assert.deepEqual(await client.call("types", [ext]), ["ExtType"]);
    assert.deepEqual(await client.call("echo", [ext]), ext);
    const empty = new MsgpackExt(5, new Uint8Array());
    assert.deepEqual(await client.call("echo", [empty]), empty);
    // A valid-UTF-8 RawString is a str to Python, and comes back a string.
    const raw = new RawString(new TextEncoder().encode("héllo"));
    assert.deepEqual(await client.call("types", [raw]), ["str"]);
    assert.equal(await client.call("echo", [raw]), "héllo");
  });
});

test("a Python msgpack-rpc server's error map rejects with RpcError carrying code, message and data", async () => {
  await withPythonServer(async (client) => {
    const error = await rpcError(client.call("fail", []));
    assert.equal(error.code, 42);
    assert.equal(error.message, "deliberate");
    assert.deepEqual(error.data, { detail: "x", n: [1, 2] });
    // A bare string error (as older servers send) is an internal error with that message.
    const legacy = await rpcError(client.call("fail_legacy", []));
    assert.equal(legacy.code, -32603);
    assert.equal(legacy.message, "legacy failure");
    // The connection is still usable afterwards.
    assert.equal(await client.call("add", [2, 3]), 5);
  });
});

test("an unknown method on a Python msgpack-rpc server rejects with RpcError -32601", async () => {
  await withPythonServer(async (client) => {
    const error = await rpcError(client.call("no_such_method", [1]));
    assert.equal(error.code, -32601);
    assert.deepEqual(error.data, { method: "no_such_method" });
  });
});

test("concurrent calls to a Python msgpack-rpc server resolve out of order: slow(10) before slow(200)", async () => {
  await withPythonServer(async (client) => {
    const order: number[] = [];
    const long = client.call<number>("slow", [200]).then((ms) => (order.push(ms), ms));
    const short = client.call<number>("slow", [10]).then((ms) => (order.push(ms), ms));
    assert.equal(client.pending, 2);
    assert.deepEqual(await Promise.all([long, short]), [200, 10]);
    assert.deepEqual(order, [10, 200]);
  });
});

test("notifications to a Python msgpack-rpc server get no reply and are seen by the next call", async () => {
  await withPythonServer(async (client) => {
    await client.notify("log", ["first"]);
    await client.notify("log", [2n ** 63n - 1n, new Uint8Array([1, 2])]);
    assert.equal(client.pending, 0);
    assert.deepEqual(await client.call("logged", []), [
      ["first"],
      [2n ** 63n - 1n, new Uint8Array([1, 2])],
    ]);
  });
});

test("a notification from a Python msgpack-rpc server reaches the parley client's service", async () => {
  const announced = Promise.withResolvers<string>();
  await withPythonServer(
    async (client) => {
      assert.equal(await client.call("announce", ["hello from Python ✓"]), true);
      assert.equal(await announced.promise, "hello from Python ✓");
    },
    { announced: (text: string) => void announced.resolve(text) },
  );
});
