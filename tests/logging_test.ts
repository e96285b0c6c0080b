/**
 * Structured logging: the example server's records at each level over a
 * real socket, and a server's own fault logged once at `error`.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { RpcError } from "../rpc/errors.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { lineLogger, logErrors, logging } from "../rpc/logging.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { startCalculator } from "./interop/_process.ts";

type LogRecord = Record<string, unknown> & { level: string; msg: string };

const records = (stderr: string): LogRecord[] =>
  stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));

// Sends raw lines to a newline-framed server and reads one reply line for each.
async function exchangeLines(port: number, lines: string[]): Promise<string[]> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(lines.map((line) => `${line}\n`).join("")));
  const replies: string[] = [];
  const decoder = new TextDecoder();
  let text = "";
  const buffer = new Uint8Array(4096);
  while (replies.length < lines.length) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
    const parts = text.split("\n");
    text = parts.pop()!;
    replies.push(...parts);
  }
  return replies;
}

Deno.test("the example server logs calls at debug and clients' mistakes at info, as JSON lines", async () => {
  await using server = await startCalculator("--log-level", "debug", "--log-format", "json");
  const client = await connectTcp({ hostname: server.hostname, port: server.port }, {
    codec: jsonRpc(),
    framing: newline(),
  });
  assert.equal(await client.call("add", [1, 2]), 3);
  await assert.rejects(client.call("calculate", [1, { num1: 1, num2: 0, op: 4 }]), RpcError);
  await client.close();
  const replies = await exchangeLines(server.port, ["{not json"]);
  assert.equal(JSON.parse(replies[0]!).error.code, -32700);
  const result = await server.stop();
  assert.equal(result.code, 0);

  const logged = records(server.stderr());
  const add = logged.find((r) => r.method === "add");
  assert.equal(add?.level, "debug");
  assert.equal(add?.outcome, "ok");
  assert.equal(add?.side, "server");
  assert.equal(typeof add?.ms, "number");
  const divide = logged.find((r) => r.method === "calculate");
  assert.equal(divide?.level, "info");
  assert.equal(divide?.outcome, "error");
  assert.match(divide?.msg ?? "", /divide by 0/);
  assert.ok(
    logged.some((r) => r.level === "info" && /pars|JSON/i.test(`${r.msg} ${r.error}`)),
    `a record for the frame that did not parse, in:\n${server.stderr()}`,
  );
  assert.ok(logged.some((r) => r.level === "info" && r.msg === "shutting down"));
  assert.deepEqual(logged.filter((r) => r.level === "error"), []);
});

Deno.test("at the default level the example server writes no record of a call that succeeds", async () => {
  await using server = await startCalculator();
  const client = await connectTcp({ hostname: server.hostname, port: server.port }, {
    codec: jsonRpc(),
    framing: newline(),
  });
  assert.equal(await client.call("add", [2, 3]), 5);
  await client.close();
  await server.stop();
  assert.doesNotMatch(server.stderr(), /add/);
  assert.match(server.stderr(), /^INFO +shutting down$/m);
});

Deno.test("a handler's own fault is logged once, at error, with the method and the stack", async () => {
  const lines: string[] = [];
  const logger = lineLogger((line) => lines.push(line), { level: "debug" });
  const service = {
    broken(): number {
      throw new TypeError("a bug in the handler");
    },
  };
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service,
    interceptors: [logging(logger)],
    onError: logErrors(logger),
  });
  const client = await connectTcp(server.address, { codec: jsonRpc(), framing: newline() });
  await assert.rejects(client.call("broken"), (error) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, -32603);
    return true;
  });
  await client.close();
  await server.shutdown();
  const logged = lines.map((line) => JSON.parse(line) as LogRecord);
  const errors = logged.filter((r) => r.level === "error");
  assert.equal(errors.length, 1, lines.join("\n"));
  assert.equal(errors[0]?.method, "broken");
  assert.equal(errors[0]?.error, "TypeError");
  assert.match(String(errors[0]?.stack), /a bug in the handler/);
});
