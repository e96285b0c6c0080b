/**
 * The calculator example with `--codec protobuf`, parley on both sides:
 * the envelope over TCP (every framing the contract pairs with protobuf)
 * and WebSocket, the Connect protocol over HTTP, and hostile bytes on raw
 * connections while a well-behaved client keeps calling.
 */

import assert from "node:assert/strict";
import { protobufRpc, protoClient } from "../codecs/protobuf.ts";
import { type Framing, RpcError } from "../mod.ts";
import { connectClient, ConnectError } from "../protocols/connect.ts";
import { contentLength } from "../rpc/framing/content_length.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { varint } from "../rpc/framing/varint.ts";
import { connectTcp } from "../rpc/transports/tcp.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import { calculatorSchema, ERROR_DETAILS } from "../examples/calculator/protobuf.ts";
// The calculator's types, written by `deno task proto:types`.
import type { Calculator } from "../examples/calculator/calculator_types.ts";
import { startCalculator } from "./interop/_process.ts";

const schema = calculatorSchema();
const codec = () => protobufRpc({ schema, errorDetails: ERROR_DETAILS });

const start = (...args: string[]) => startCalculator("--codec", "protobuf", ...args);

async function checkContract(calc: ReturnType<typeof protoClient<Calculator>>): Promise<void> {
  assert.deepEqual(await calc.Ping({}), {});
  assert.deepEqual(await calc.Add({ num1: 2, num2: 40 }), { sum: 42 });
  assert.deepEqual(await calc.Calculate({ logid: 1, w: { num1: 7, num2: -2, op: 4 } }), {
    value: -3,
  });
  await assert.rejects(
    calc.Calculate({ logid: 1, w: { num1: 65536, num2: 65536, op: 3 } }),
    (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.deepEqual(error.data, { whatOp: 3, why: "overflow" });
      return true;
    },
  );
  assert.deepEqual(await calc.Sum({ values: [2n ** 63n - 1n, 1, -1] }), { total: 2n ** 63n - 1n });
  const data = new Uint8Array(100_000).map((_, i) => i % 256);
  assert.deepEqual(await calc.EchoBinary({ data }), { data });
  const many = await Promise.all(
    Array.from({ length: 64 }, (_, i) => calc.Add({ num1: i, num2: i })),
  );
  assert.deepEqual(many, Array.from({ length: 64 }, (_, i) => ({ sum: 2 * i })));
}

const FRAMINGS: [string, () => Framing][] = [
  ["length-prefix", lengthPrefix],
  ["varint", varint],
  ["content-length", contentLength],
];

for (const [name, framing] of FRAMINGS) {
  Deno.test(`the protobuf calculator over TCP with ${name} framing answers parley's calls`, async () => {
    await using server = await start("--transport", "tcp", "--framing", name);
    await using peer = await connectTcp(
      { hostname: server.hostname, port: server.port },
      { codec: codec(), framing: framing(), timeout: 10_000 },
    );
    await checkContract(protoClient<Calculator>(peer, schema, "interop.Calculator"));
  });
}

Deno.test("the protobuf calculator over WebSocket (/rpc, one binary message per envelope)", async () => {
  await using server = await start("--transport", "ws");
  assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+\/rpc$/);
  await using peer = await connectWebSocket(server.url, { codec: codec(), timeout: 10_000 });
  await checkContract(protoClient<Calculator>(peer, schema, "interop.Calculator"));
});

for (const format of ["proto", "json"] as const) {
  Deno.test(`the protobuf calculator over HTTP speaks Connect (${format}) at its origin`, async () => {
    await using server = await start("--transport", "http");
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await using client = connectClient(server.url, { schema, format, timeout: 10_000 });
    await checkContract(protoClient<Calculator>(client, schema, "interop.Calculator"));
    await assert.rejects(
      client.call("interop.Calculator/Calculate", { logid: 1, w: { num1: 1, num2: 0, op: 4 } }),
      (error: unknown) => error instanceof ConnectError && error.connectCode === "invalid_argument",
    );
    const stopped = await server.stop("SIGTERM");
    assert.equal(stopped.code, 0);
  });
}

/** Writes bytes on a fresh connection and returns what the server sends until it closes or 2 s pass. */
async function exchange(
  port: number,
  bytes: Uint8Array,
): Promise<{ reply: Uint8Array; closed: boolean }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(bytes);
  const chunks: number[] = [];
  const buffer = new Uint8Array(4096);
  let closed = false;
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline) {
    const read = await Promise.race([
      conn.read(buffer),
      new Promise<"wait">((resolve) => setTimeout(() => resolve("wait"), 200)),
    ]);
    if (read === "wait") {
      if (chunks.length > 0) break;
      continue;
    }
    if (read === null) {
      closed = true;
      break;
    }
    chunks.push(...buffer.subarray(0, read));
  }
  try {
    conn.close();
  } catch { /* already closed */ }
  return { reply: new Uint8Array(chunks), closed };
}

Deno.test("hostile envelopes on raw connections get the contract's errors, and a good client keeps getting answers", async () => {
  await using server = await start("--transport", "tcp");
  await using peer = await connectTcp(
    { hostname: server.hostname, port: server.port },
    { codec: codec(), framing: lengthPrefix(), timeout: 10_000 },
  );
  const calc = protoClient<Calculator>(peer, schema, "interop.Calculator");
  const framed = (bytes: number[]) => new Uint8Array([0, 0, 0, bytes.length, ...bytes]);
  const client = codec().fork!();
  const errorOf = (reply: Uint8Array) => {
    const decoded = client.decode(reply.subarray(4)) as { kind: string; error?: { code: number } };
    return decoded.error?.code;
  };
  // Not an envelope: -32700 under id 0, and the connection stays open.
  const notEnvelope = await exchange(server.port, framed([0xff, 0xff, 0xff]));
  assert.equal(errorOf(notEnvelope.reply), -32700);
  // An unknown method: -32601.
  const method = [...new TextEncoder().encode("interop.Calculator/Nope")];
  const unknown = await exchange(server.port, framed([0x08, 5, 0x12, method.length, ...method]));
  assert.equal(errorOf(unknown.reply), -32601);
  // A payload of the wrong wire type: -32602.
  const add = [...new TextEncoder().encode("interop.Calculator/Add")];
  const wrong = await exchange(
    server.port,
    framed([0x08, 6, 0x12, add.length, ...add, 0x1a, 2, 0x0f, 0]),
  );
  assert.equal(errorOf(wrong.reply), -32602);
  // A frame longer than the limit: an error, then the connection is closed.
  const oversized = await exchange(server.port, new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1, 2]));
  assert.ok(oversized.closed, "the connection should close after an oversized frame");
  // A truncated frame, then the client goes: nothing breaks.
  await exchange(server.port, new Uint8Array([0, 0, 0, 10, 0x08]));
  await checkContract(calc);
});

Deno.test("every malformed envelope is answered on the same connection, which keeps working", async () => {
  await using server = await start("--transport", "tcp");
  const conn = await Deno.connect({ hostname: server.hostname, port: server.port });
  const framing = lengthPrefix();
  const frames = conn.readable.pipeThrough(framing.decoder())[Symbol.asyncIterator]();
  const client = codec().fork!();
  const write = async (bytes: Uint8Array) => {
    const framed = framing.frame(bytes);
    for (const part of framed instanceof Uint8Array ? [framed] : framed) await conn.write(part);
  };
  const next = async () => {
    const { value, done } = await frames.next();
    assert.ok(!done, "the server closed the connection");
    return client.decode(value);
  };
  // Each bad envelope is followed by a Ping: replies come in order, so the
  // frame before the Ping's reply is the bad envelope's answer (or there is
  // none, when the envelope must not be answered).
  let pingId = 1000;
  const answerTo = async (bytes: number[]) => {
    await write(new Uint8Array(bytes));
    const id = ++pingId;
    await write(
      client.encode({ kind: "request", id, method: "interop.Calculator/Ping" }) as Uint8Array,
    );
    const first = await next();
    if (first.kind === "result" && first.id === id) return undefined;
    assert.deepEqual(await next(), { kind: "result", id, result: {} });
    return first;
  };
  const text = (name: string) => [...new TextEncoder().encode(name)];
  const add = text("interop.Calculator/Add");
  const addPayload = [0x1a, 4, 0x08, 1, 0x10, 2];
  const failure = (id: number | null, code: number) => ({ id, code });
  const cases: [string, number[], { id: number | null; code: number } | undefined][] = [
    ["an id alone", [0x08, 5], failure(5, -32600)],
    ["an empty method name", [0x08, 6, 0x12, 0], failure(6, -32600)],
    ["an empty method name and a payload", [0x08, 7, 0x12, 0, ...addPayload], failure(7, -32600)],
    ["a payload without a method", [0x08, 8, ...addPayload], failure(8, -32600)],
    ["a method that is not a name", [0x08, 9, 0x12, 2, 0x01, 0x02], failure(9, -32600)],
    ["an empty envelope", [], failure(null, -32600)],
    ["no id and no method, a payload", addPayload, failure(null, -32600)],
    ["an unknown method", [0x08, 10, 0x12, 3, ...text("a/b")], failure(10, -32601)],
    [
      "a streaming method",
      [0x08, 11, 0x12, 24, ...text("interop.Calculator/Range")],
      failure(11, -32601),
    ],
    ["a payload that does not decode", [0x08, 12, 0x12, add.length, ...add, 0x1a, 1, 0xff], {
      id: 12,
      code: -32602,
    }],
    ["a method field of the wrong wire type", [0x08, 13, 0x10, 1], failure(null, -32700)],
    ["truncated bytes", [0x08, 14, 0x12, 9, 0x61], failure(null, -32700)],
    // Not calls: a notification of an unknown method, and an error reply
    // the server never awaited, are left unanswered, as they must be.
    ["a notification of an unknown method", [0x12, 3, ...text("a/b")], undefined],
    ["an error reply nobody awaits", [0x08, 15, 0x1a, 4, 0x08, 0x01, 0x12, 0x00], undefined],
  ];
  for (const [what, bytes, expected] of cases) {
    const answer = await answerTo(bytes);
    if (expected === undefined) {
      assert.equal(answer, undefined, `${what}: no answer expected`);
      continue;
    }
    assert.ok(answer?.kind === "error", `${what}: ${JSON.stringify(answer)}`);
    assert.deepEqual({ id: answer.id, code: answer.error.code }, expected, what);
  }
  // The connection still serves calls.
  await write(
    client.encode({
      kind: "request",
      id: 1,
      method: "interop.Calculator/Add",
      params: {
        num1: 2,
        num2: 40,
      },
    }) as Uint8Array,
  );
  assert.deepEqual(await next(), { kind: "result", id: 1, result: { sum: 42 } });
  conn.close();
});
