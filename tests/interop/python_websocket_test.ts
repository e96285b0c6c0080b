/**
 * WebSocket interop with Python's websockets library (Debian's
 * python3-websockets, asyncio): `python/ws_jsonrpc_client.py` calls the
 * example calculator served with `--transport ws` at `/rpc`, JSON-RPC in
 * text messages and msgpack-rpc (python3-msgpack) in binary messages.
 *
 * Needs `/usr/bin/python3` with python3-websockets and python3-msgpack (else
 * `python3` on the PATH must have them).
 */

import assert from "node:assert/strict";
import {
  DEBIAN_PYTHON,
  formatOutput,
  type ListeningProcess,
  run,
  spawnListening,
} from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("py:websockets");

const PYTHON = DEBIAN_PYTHON;
const CLIENT = new URL("./python/ws_jsonrpc_client.py", import.meta.url).pathname;

/** Starts the example calculator over WebSocket with the given codec. */
function startCalculator(codec: "jsonrpc" | "msgpack"): Promise<ListeningProcess> {
  return spawnListening(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "examples/calculator.ts",
      "--codec",
      codec,
      "--transport",
      "ws",
      "--port",
      "0",
    ],
    // The first start may type-check and load npm packages.
    timeout: 60_000,
  });
}

const EXPECTED: Record<"jsonrpc" | "msgpack", string[]> = {
  jsonrpc: [
    "add(1, 2) = 3, add(i32 min, i32 max) = -1, add by name = 42",
    "calculate DIVIDE by 0 is InvalidOperation(4, Cannot divide by 0) with data",
    "echo returns Unicode text unchanged (raw UTF-8 and \\u escapes)",
    "echoBinary returns all 256 byte values as standard padded base64",
    "sum([1, 2, 3, -10]) = -4, sum([2^53-1, 1, -1]) = 2^53-1, sum beyond 2^53 is overflow",
    "zip as a notification gets no reply (the next message is ping's reply)",
    "a batch in one message is answered in one message, matched by id, notification left out",
    "a batch of notifications only gets no reply",
    "50 requests sent before reading any reply are all answered, matched by id",
    "an unknown method is method not found (-32601)",
    "a message that is not JSON is a parse error (-32700, id null) and the socket stays open",
    "echo of a 1 MiB string (multi-byte characters included) comes back whole",
    "a normal close is answered with 1000",
  ],
  msgpack: [
    "add(1, 2) = 3, add(i32 min, i32 max) = -1",
    "calculate MULTIPLY 6 * -7 = -42; DIVIDE by 0 is InvalidOperation(4, Cannot divide by 0) with data",
    "echo returns Unicode text unchanged (astral characters included)",
    "echoBinary returns all 256 byte values as msgpack bin",
    "sum([2^63-1, 1, -1]) = 2^63-1; sum beyond i64 is InvalidOperation(1, overflow)",
    "zip as a notification gets no reply (the next message is ping's reply)",
    "40 requests sent before reading any reply are all answered, matched by msgid",
    "an unknown method is method not found (-32601)",
    "echoBinary of 1 MiB comes back whole",
    "a normal close is answered with 1000",
    "a text message closes the socket with 1003 (binary messages only)",
  ],
};

for (const codec of ["jsonrpc", "msgpack"] as const) {
  const kind = codec === "jsonrpc" ? "JSON-RPC in text messages" : "msgpack-rpc in binary messages";
  test(
    `calculator example (--transport ws, ${kind}) passes the Python websockets client's checks and exits 0 on SIGTERM`,
    async () => {
      await using server = await startCalculator(codec);
      assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+\/rpc$/);
      const client = await run(PYTHON, { args: [CLIENT, server.url, "--codec", codec] });
      assert.equal(
        client.code,
        0,
        `ws_jsonrpc_client.py --codec ${codec} failed\n${formatOutput(client)}` +
          `\n--- calculator stderr ---\n${server.stderr()}`,
      );
      assert.match(client.stdout, new RegExp(`all \\d+ checks passed \\(ws ${codec}, websockets `));
      assert.doesNotMatch(client.stdout, /FAIL/);
      for (const check of EXPECTED[codec]) {
        assert.ok(
          client.stdout.includes(`ok   [ws ${codec}] ${check}\n`),
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

test("the Python websockets client reports a missing server with exit code 2", async () => {
  // A port nothing listens on: bind one, note it, close it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const client = await run(PYTHON, { args: [CLIENT, `ws://127.0.0.1:${port}/rpc`] });
  assert.equal(client.code, 2, formatOutput(client));
  assert.match(client.stderr, /cannot connect/);
});
