/**
 * One bad id no longer loses the connection: a JSON-RPC request whose id
 * decodes but cannot be written back (`1e308`) used to close the whole
 * connection without a reply, and the calls in flight on it were lost.
 * Now it is answered with -32600 under id null and the connection goes on;
 * likewise a msgpack-rpc msgid beyond 32 bits, and a result the codec cannot
 * carry is -32603 for that call only. Real sockets, the calculator in a
 * child process where the contract's service will do.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { RpcError } from "../mod.ts";
import { encodeReply } from "../rpc/answer.ts";
import { selfDelimiting } from "../rpc/framing/self_delimiting.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { startCalculator } from "./interop/_process.ts";

const utf8 = new TextEncoder();

// Reads newline-delimited replies from a raw socket until `count` have come.
async function readLines(conn: Deno.Conn, count: number): Promise<unknown[]> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(65536);
  let text = "";
  while (text.split("\n").length <= count) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
  }
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

Deno.test("JSON-RPC: a request with id 1e308 is answered with -32600 under id null, the calls around it too", async () => {
  await using server = await startCalculator("--codec", "jsonrpc");
  using conn = await Deno.connect({ hostname: server.hostname, port: server.port });
  // Three messages in one write, the bad one first, then bad ids of other kinds.
  await conn.write(utf8.encode(
    '{"jsonrpc":"2.0","id":1e308,"method":"add","params":[1,2]}\n' +
      '{"jsonrpc":"2.0","id":2,"method":"add","params":[2,3]}\n' +
      '{"jsonrpc":"2.0","id":3,"method":"echo","params":["x"]}\n' +
      '{"jsonrpc":"2.0","id":-1e300,"method":"ping"}\n' +
      '{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}\n',
  ));
  const replies = await readLines(conn, 5) as {
    id: unknown;
    result?: unknown;
    error?: { code: number; message: string };
  }[];
  assert.equal(replies.length, 5, JSON.stringify(replies));
  const byId = new Map(replies.filter((r) => r.id !== null).map((r) => [r.id, r]));
  assert.equal(byId.get(2)?.result, 5);
  assert.equal(byId.get(3)?.result, "x");
  const refused = replies.filter((r) => r.id === null);
  assert.equal(refused.length, 3);
  for (const reply of refused) {
    assert.equal(reply.error?.code, -32600);
    assert.match(reply.error!.message, /cannot be sent back exactly/);
  }
  // The connection is still served.
  await conn.write(utf8.encode('{"jsonrpc":"2.0","id":4,"method":"add","params":[40,2]}\n'));
  assert.deepEqual(await readLines(conn, 1), [{ jsonrpc: "2.0", result: 42, id: 4 }]);
});

Deno.test("msgpack-rpc: a msgid beyond 32 bits is answered with -32600 under a nil msgid, the connection goes on", async () => {
  await using server = await startCalculator("--codec", "msgpack");
  const codec = msgpackRpc();
  using conn = await Deno.connect({ hostname: server.hostname, port: server.port });
  // [0, 2^32 (uint 64), "add", [1, 2]], then a good call.
  const bad = new Uint8Array([
    0x94,
    0x00,
    0xcf,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0xa3,
    ...utf8.encode("add"),
    0x92,
    1,
    2,
  ]);
  const good = codec.encode({
    kind: "request",
    id: 9,
    method: "add",
    params: [40, 2],
  }) as Uint8Array;
  await conn.write(new Uint8Array([...bad, ...good]));
  const splitter = selfDelimiting(codec.measure!.bind(codec)).splitter!();
  const replies: unknown[] = [];
  const buffer = new Uint8Array(65536);
  while (replies.length < 2) {
    const n = await conn.read(buffer);
    if (n === null) break;
    for (const frame of splitter.push(buffer.slice(0, n))) replies.push(codec.decode(frame));
  }
  assert.equal(replies.length, 2);
  const [refusal, answer] = replies as [
    { kind: string; id: unknown; error: { code: number } },
    unknown,
  ];
  assert.equal(refusal.kind, "error");
  assert.equal(refusal.id, null);
  assert.equal(refusal.error.code, -32600);
  assert.deepEqual(answer, { kind: "result", id: 9, result: 42 });
});

Deno.test("a result the codec cannot carry is -32603 for that call only, over TCP", async () => {
  const codec = msgpackRpc();
  await using server = serveTcp({ port: 0 }, {
    codec,
    framing: selfDelimiting(codec.measure!.bind(codec)),
    service: {
      huge: () => 2n ** 70n, // beyond msgpack's 64-bit integers
      add: (a: number, b: number) => a + b,
    },
  });
  await using client = await connectTcp(server.address, {
    codec,
    framing: selfDelimiting(codec.measure!.bind(codec)),
    timeout: 10_000,
  });
  const [huge, sum] = await Promise.allSettled([
    client.call("huge", []),
    client.call("add", [40, 2]),
  ]);
  assert.equal(huge.status, "rejected");
  assert.ok(huge.reason instanceof RpcError && huge.reason.code === -32603, String(huge.reason));
  assert.deepEqual(sum, { status: "fulfilled", value: 42 });
  assert.equal(await client.call("add", [1, 1]), 2);
});

Deno.test("encodeReply() puts an error under id null in place of a reply whose id does not encode", () => {
  const errors: unknown[] = [];
  const settings = { expose: false, onError: (e: unknown) => void errors.push(e) };
  const codec = jsonRpc();
  const alone = JSON.parse(
    encodeReply(codec, { kind: "result", id: 1e308, result: 1 }, settings) as string,
  );
  assert.deepEqual(alone.id, null);
  assert.equal(alone.error.code, -32600);
  assert.deepEqual(alone.error.data, { id: "1e+308" });
  // In a batch, only that member is replaced.
  const batch = JSON.parse(encodeReply(codec, [
    { kind: "result", id: 1, result: "a" },
    { kind: "error", id: 2 ** 60, error: { code: 1, message: "no" } },
    { kind: "result", id: 3, result: 10n ** 30n },
  ], settings) as string);
  assert.deepEqual(batch[0], { jsonrpc: "2.0", result: "a", id: 1 });
  assert.equal(batch[1].id, null);
  assert.equal(batch[1].error.code, -32600);
  assert.equal(batch[2].id, 3);
  assert.equal(batch[2].error.code, -32603);
  assert.ok(errors.length >= 3);
});
