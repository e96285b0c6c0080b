/**
 * The WebSocket server writes the replies to messages that arrived together
 * in one socket write (it holds its writes while the session has messages it
 * has not read). Whatever the grouping, every call is answered: calls sent
 * in one TCP write, answered at once or later, and a burst larger than one
 * read.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import { concat } from "../testing/framing_helpers.ts";
import { frame, Op, RawSocket } from "./_raw_websocket.ts";

const service = {
  add: (a: number, b: number) => a + b,
  // Answered after the others of its burst have been written.
  later: async (n: number) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return n;
  },
};
const utf8 = new TextEncoder();

// Sends `count` calls in one TCP write and reads replies until all came,
// returning each id's result.
async function burst(socket: RawSocket, count: number): Promise<Map<number, unknown>> {
  const frames: Uint8Array[] = [];
  for (let id = 1; id <= count; id++) {
    const call = id % 7 === 0
      ? { jsonrpc: "2.0", id, method: "later", params: [id] }
      : { jsonrpc: "2.0", id, method: "add", params: [id, 1] };
    frames.push(frame(Op.Text, utf8.encode(JSON.stringify(call))));
  }
  await socket.write(concat(frames));
  const results = new Map<number, unknown>();
  while (results.size < count) {
    const reply = await socket.readFrame();
    assert.notEqual(reply, "eof", `the server closed after ${results.size} of ${count} replies`);
    if (reply === "eof" || reply.opcode !== Op.Text) continue;
    const { id, result } = JSON.parse(new TextDecoder().decode(reply.payload));
    assert.ok(!results.has(id), `a second reply to ${id}`);
    results.set(id, result);
  }
  return results;
}

Deno.test("WebSocket server: calls sent in one write are all answered, at once or later", async () => {
  await using server = serveHttp({
    routes: { "/rpc": { codec: jsonRpc(), service, websocket: true } },
  });
  await using socket = await RawSocket.connect(server);
  assert.equal((await socket.handshake("/rpc")).status, 101);
  for (const count of [1, 50, 2_000]) {
    const results = await burst(socket, count);
    for (let id = 1; id <= count; id++) {
      assert.equal(results.get(id), id % 7 === 0 ? id : id + 1, `call ${id} of ${count}`);
    }
  }
});

Deno.test("WebSocket server: binary calls in one write are all answered (msgpack-rpc)", async () => {
  await using server = serveHttp({
    routes: { "/msgpack": { codec: msgpackRpc(), service, websocket: true } },
  });
  await using socket = await RawSocket.connect(server);
  assert.equal((await socket.handshake("/msgpack")).status, 101);
  const codec = msgpackRpc();
  const count = 300;
  const frames = Array.from({ length: count }, (_, i) =>
    frame(
      Op.Binary,
      codec.encode({ kind: "request", id: i + 1, method: "add", params: [i, 2] }) as Uint8Array,
    ));
  await socket.write(concat(frames));
  const reader = msgpackRpc();
  const seen = new Set<unknown>();
  while (seen.size < count) {
    const reply = await socket.readFrame();
    assert.notEqual(reply, "eof");
    if (reply === "eof" || reply.opcode !== Op.Binary) continue;
    const message = reader.decode(reply.payload);
    assert.equal(message.kind, "result");
    const { id, result } = message as { id: number; result: number };
    assert.equal(result, id - 1 + 2);
    seen.add(id);
  }
});

Deno.test("WebSocket server: bytes a handler keeps stay as sent, whole and fragmented messages alike", async () => {
  // Binary messages reach the codec as views of what the socket read, not
  // copies: what a handler keeps must not change as more messages arrive.
  const kept: Uint8Array[] = [];
  await using server = serveHttp({
    routes: {
      "/msgpack": {
        codec: msgpackRpc(),
        service: {
          keep: (bytes: Uint8Array) => {
            kept.push(bytes);
            // A copy made by slice() is the caller's own.
            bytes.slice(0, 1).fill(0xff);
            return bytes.length;
          },
        },
        websocket: true,
      },
    },
  });
  await using socket = await RawSocket.connect(server);
  assert.equal((await socket.handshake("/msgpack")).status, 101);
  const codec = msgpackRpc();
  const count = 120;
  const payloadOf = (i: number) => Uint8Array.from({ length: 1 + (i * 37) % 700 }, (_, j) => i + j);
  const frames = Array.from({ length: count }, (_, i) => {
    const message = codec.encode({
      kind: "request",
      id: i + 1,
      method: "keep",
      params: [payloadOf(i)],
    }) as Uint8Array;
    if (i % 5 !== 0) return frame(Op.Binary, message);
    // Every fifth message in two fragments.
    const half = message.length >> 1;
    return concat([
      frame(Op.Binary, message.subarray(0, half), { fin: false }),
      frame(Op.Continuation, message.subarray(half)),
    ]);
  });
  for (let round = 0; round < 2; round++) {
    kept.length = 0;
    await socket.write(concat(frames));
    let replies = 0;
    while (replies < count) {
      const reply = await socket.readFrame();
      assert.notEqual(reply, "eof");
      if (reply === "eof" || reply.opcode !== Op.Binary) continue;
      const message = codec.decode(reply.payload) as { id: number; result: number };
      assert.equal(message.result, payloadOf(message.id - 1).length);
      replies++;
    }
    assert.equal(kept.length, count);
    for (let i = 0; i < count; i++) {
      assert.ok(kept[i] instanceof Uint8Array);
      assert.deepEqual([...kept[i]!], [...payloadOf(i)], `message ${i + 1}, round ${round + 1}`);
    }
  }
});
