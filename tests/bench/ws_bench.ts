/**
 * `deno task bench`, WebSocket part: calls per second over WebSocket with 1
 * and 64 calls in flight on one connection, JSON-RPC (text messages) and
 * msgpack-rpc (binary messages) against `serveHttp`'s WebSocket routes, next
 * to the same codecs over TCP (JSON-RPC newline, msgpack-rpc self-delimiting)
 * and a bare WebSocket echo (`Deno.upgradeWebSocket` sending each message
 * back: the WebSocket ceiling; text messages the size of a JSON-RPC add
 * request for JSON-RPC, binary ones the size of a msgpack-rpc add request
 * for msgpack-rpc), all measured in the same run, each after `WARMUP_SECONDS`
 * of the same calls (both ends compile their hot paths first). Every server is
 * a process of its own; rounds alternate the order (TCP first, then WebSocket
 * first) because which core a process lands on moves absolute figures a
 * lot: the ratios are what to read.
 *
 * @module
 */

import { jsonRpc } from "../../codecs/json_rpc.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import { selfDelimiting } from "../../rpc/framing/self_delimiting.ts";
import { connectTcp } from "../../rpc/transports/tcp.ts";
import { connectWebSocket } from "../../rpc/transports/websocket.ts";
import { drive, ROUNDS, SECONDS, startServer } from "./_harness.ts";
import { Report } from "./_report.ts";

// Calls made before each measurement, so that neither side is measured compiling.
const WARMUP_SECONDS = 0.3;

async function tcpCalls(depth: number, codec: "jsonrpc" | "msgpack"): Promise<number> {
  const server = await startServer(codec === "jsonrpc" ? "jsonrpc-newline" : "msgpack");
  const msgpack = msgpackRpc();
  const client = await connectTcp({ hostname: "127.0.0.1", port: server.port }, {
    codec: codec === "msgpack" ? msgpack : jsonRpc(),
    framing: codec === "msgpack" ? selfDelimiting(msgpack.measure!.bind(msgpack)) : newline(),
  });
  let i = 0;
  const call = () => client.call("add", [i & 0xffff, i++ & 0xffff]);
  await drive(depth, call, WARMUP_SECONDS);
  const rate = await drive(depth, call);
  await client.close();
  await server.stop();
  return rate;
}

async function wsCalls(depth: number, codec: "jsonrpc" | "msgpack"): Promise<number> {
  const server = await startServer("ws");
  const path = codec === "jsonrpc" ? "/rpc" : "/msgpack";
  const client = await connectWebSocket(`ws://127.0.0.1:${server.port}${path}`, {
    codec: codec === "msgpack" ? msgpackRpc() : jsonRpc(),
  });
  let i = 0;
  const call = () => client.call("add", [i & 0xffff, i++ & 0xffff]);
  await drive(depth, call, WARMUP_SECONDS);
  const rate = await drive(depth, call);
  await client.close();
  await server.stop();
  return rate;
}

// A msgpack-rpc add request, [0, 12345, "add", [17, 17]]: 12 bytes, the
// size of the calls measured (ids and numbers of up to 2 bytes each).
const MSGPACK_ADD = new Uint8Array([
  0x94,
  0x00,
  0xcd,
  0x30,
  0x39,
  0xa3,
  0x61,
  0x64,
  0x64,
  0x92,
  0x11,
  0x11,
]);

// The ceiling: a text message the size of a JSON-RPC add request (or a
// binary one the size of a msgpack-rpc one), echoed by a bare
// Deno.upgradeWebSocket; replies come back in order, so a queue of
// resolvers matches them.
async function wsEcho(depth: number, binary = false): Promise<number> {
  const server = await startServer("ws-echo");
  const socket = new WebSocket(`ws://127.0.0.1:${server.port}/`);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  // As parley's sockets: a binary message as an ArrayBuffer, not a Blob.
  socket.binaryType = "arraybuffer";
  const waiting: (() => void)[] = [];
  socket.onmessage = () => waiting.shift()?.();
  const message = binary
    ? MSGPACK_ADD
    : '{"jsonrpc":"2.0","id":12345,"method":"add","params":[17,17]}';
  const call = () => {
    const { promise, resolve } = Promise.withResolvers<void>();
    waiting.push(resolve);
    socket.send(message);
    return promise;
  };
  await drive(depth, call, WARMUP_SECONDS);
  const rate = await drive(depth, call);
  const closed = new Promise((resolve) => (socket.onclose = resolve));
  socket.close();
  await closed;
  await server.stop();
  return rate;
}

const report = new Report();

for (let round = 1; round <= ROUNDS; round++) {
  for (const depth of [1, 64]) {
    let jsonTcp = 0, jsonWs = 0, msgpackTcp = 0, msgpackWs = 0, echo = 0, binaryEcho = 0;
    const tcp = async () => {
      jsonTcp = await tcpCalls(depth, "jsonrpc");
      msgpackTcp = await tcpCalls(depth, "msgpack");
    };
    const ws = async () => {
      jsonWs = await wsCalls(depth, "jsonrpc");
      msgpackWs = await wsCalls(depth, "msgpack");
      echo = await wsEcho(depth);
      binaryEcho = await wsEcho(depth, true);
    };
    // A B, then B A: neither side always goes first.
    if (round % 2 === 1) {
      await tcp();
      await ws();
    } else {
      await ws();
      await tcp();
    }
    report.record(`jsonrpc tcp newline, ${depth} in flight`, jsonTcp);
    report.record(`jsonrpc ws, ${depth} in flight`, jsonWs);
    report.record(`msgpack-rpc tcp self-delimiting, ${depth} in flight`, msgpackTcp);
    report.record(`msgpack-rpc ws, ${depth} in flight`, msgpackWs);
    report.record(`bare ws echo, text (ceiling), ${depth} in flight`, echo);
    report.record(`bare ws echo, binary (ceiling), ${depth} in flight`, binaryEcho);
    report.record(`ratio jsonrpc ws/tcp, ${depth} in flight`, jsonWs / jsonTcp);
    report.record(`ratio msgpack ws/tcp, ${depth} in flight`, msgpackWs / msgpackTcp);
    report.record(`ratio msgpack ws/jsonrpc ws, ${depth} in flight`, msgpackWs / jsonWs);
    report.record(`ratio jsonrpc ws/bare ws echo, ${depth} in flight`, jsonWs / echo);
    report.record(
      `ratio msgpack ws/bare binary ws echo, ${depth} in flight`,
      msgpackWs / binaryEcho,
    );
    console.error(
      `round ${round}, depth ${depth}: jsonrpc tcp ${jsonTcp.toFixed(0)}/s, ws ${
        jsonWs.toFixed(0)
      }/s (${(jsonWs / jsonTcp).toFixed(2)}), of the bare echo: jsonrpc ${
        (jsonWs / echo).toFixed(2)
      }, msgpack ${(msgpackWs / binaryEcho).toFixed(2)}`,
    );
  }
}

report.print(
  `JSON-RPC and msgpack-rpc over WebSocket vs TCP, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
