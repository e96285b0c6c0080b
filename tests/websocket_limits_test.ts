/**
 * What no WebSocket client can do to a server (issue 16), against the
 * calculator in a child process of its own (`--transport ws`) with a raw
 * client that writes hand-made frames: crash it with messages that meet a
 * session that has ended, grow its memory with fragments that never end or
 * with calls whose replies it never reads. Memory is the child's peak RSS
 * (VmHWM in /proc, Linux) against its RSS before, with generous ceilings
 * that the old server went far past (1 GiB of fragments held 1.1 GiB; one
 * reader that did not read, 330 MiB). Every loop is bounded in bytes, every
 * wait in time; nothing asserts a duration.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import { formatOutput, startCalculator } from "./interop/_process.ts";
import { memoryOf } from "./_memory.ts";
import { concat } from "./framing/conformance.ts";
import { frame, Op, RawSocket, type ServerFrame, WAIT_MS } from "./_raw_websocket.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MiB = 1024 * 1024;

/** Calls `add` on a fresh, well-behaved connection: the server still serves others. */
async function assertServes(url: string): Promise<void> {
  await using client = await connectWebSocket(url, { codec: jsonRpc(), timeout: WAIT_MS });
  assert.equal(await client.call("add", [20, 22]), 42);
}

Deno.test("calculator over ws: three messages in one write, the first with id 1e308, never crash the process", async () => {
  await using calculator = await startCalculator("--codec", "jsonrpc", "--transport", "ws");
  const messages = [
    '{"jsonrpc":"2.0","id":1e308,"method":"add","params":[1,2]}',
    '{"jsonrpc":"2.0","id":2,"method":"add","params":[1,2]}',
    '{"jsonrpc":"2.0","id":3,"method":"add","params":[1,2]}',
  ];
  const write = concat(messages.map((text) => frame(Op.Text, encoder.encode(text))));
  // The old server died on the first round; a few more rounds, each on a
  // new connection, give any other ordering of the teardown its chance.
  for (let round = 0; round < 10; round++) {
    await using socket = await RawSocket.connect(calculator.port);
    assert.equal((await socket.handshake("/rpc")).status, 101);
    await socket.write(write);
    // The session answers ids 2 and 3, or ends with a close; either way
    // within the bound (a hang would throw here).
    const answered = new Set<unknown>();
    while (!(answered.has(2) && answered.has(3))) {
      const got = await socket.readFrame();
      if (got === "eof" || got.opcode === Op.Close) break;
      answered.add(JSON.parse(decoder.decode((got as ServerFrame).payload)).id);
    }
  }
  await assertServes(calculator.url);
  const result = await calculator.stop();
  assert.equal(result.code, 0, formatOutput(result));
  assert.doesNotMatch(result.stderr, /Uncaught|stream controller/, formatOutput(result));
});

Deno.test("calculator over ws: endless fragments without FIN are closed with 1009 past maxMessageSize; the server's memory stays bounded", async () => {
  await using calculator = await startCalculator("--codec", "jsonrpc", "--transport", "ws");
  await assertServes(calculator.url);
  const before = memoryOf(calculator.child.pid);
  const limit = 16 * MiB; // the calculator's maxMessageSize (the default)
  const cap = 256 * MiB; // what the client sends at most
  const chunk = new Uint8Array(MiB).fill(0x20);
  const first = frame(Op.Text, chunk, { fin: false });
  const next = frame(Op.Continuation, chunk, { fin: false });
  {
    await using socket = await RawSocket.connect(calculator.port);
    assert.equal((await socket.handshake("/rpc")).status, 101);
    let closed = false;
    const closing = socket.readClose().finally(() => closed = true);
    for (let sent = 0; sent < cap && !closed; sent += chunk.length) {
      try {
        await socket.write(sent === 0 ? first : next);
      } catch {
        break; // closed by the server
      }
    }
    const { code } = await closing;
    assert.equal(code, 1009, "the message grew past maxMessageSize");
  }
  const after = memoryOf(calculator.child.pid);
  const grown = after.peak - before.rss;
  assert.ok(
    grown < 4 * limit,
    `peak RSS grew by ${(grown / MiB).toFixed(1)} MiB, over 4 × the 16 MiB message limit`,
  );
  await assertServes(calculator.url);
});

Deno.test("calculator over ws: a client that sends calls and never reads the replies is stopped being read; memory bounded, others served", async () => {
  await using calculator = await startCalculator("--codec", "jsonrpc", "--transport", "ws");
  await assertServes(calculator.url);
  const before = memoryOf(calculator.child.pid);
  const cap = 256 * MiB;
  // 16 echo calls of 16 KiB per write: the replies are as large as the calls.
  const text = "x".repeat(16 * 1024);
  const batch = concat(
    Array.from({ length: 16 }, (_, id) =>
      frame(
        Op.Text,
        encoder.encode(JSON.stringify({ jsonrpc: "2.0", id, method: "echo", params: [text] })),
      )),
  );
  let written = 0;
  {
    await using socket = await RawSocket.connect(calculator.port);
    assert.equal((await socket.handshake("/rpc")).status, 101);
    // Writing until a write is not taken within a few seconds: the server
    // stopped reading (the kernel's buffers are full), or the cap.
    while (written < cap) {
      const writing = socket.write(batch);
      writing.catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<"stalled">((resolve) => {
        timer = setTimeout(() => resolve("stalled"), 3000);
      });
      const outcome = await Promise.race([writing, stalled]);
      clearTimeout(timer);
      if (outcome === "stalled") break;
      written += batch.length;
    }
    assert.ok(
      written < cap / 2,
      `the server read ${(written / MiB).toFixed(0)} MiB of calls whose replies were not read`,
    );
    // Served meanwhile, the slow reader still connected.
    await assertServes(calculator.url);
    const during = memoryOf(calculator.child.pid);
    const grown = during.peak - before.rss;
    // Replies queued up to maxQueuedBytes (32 MiB), the calls read before
    // the session paused, and their garbage: ~125 MiB measured; the old
    // server read all 256 MiB and held more than that.
    assert.ok(
      grown < 6 * 32 * MiB,
      `peak RSS grew by ${(grown / MiB).toFixed(1)} MiB for one reader, over 6 × maxQueuedBytes`,
    );
  }
  await assertServes(calculator.url);
});
