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

import process from "node:process";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import { selfDelimiting } from "../../rpc/framing/self_delimiting.ts";
import { connectTcp } from "../../rpc/transports/tcp.ts";
import { connectWebSocket } from "../../rpc/transports/websocket.ts";
import { nodeWebSocket } from "../../rpc/transports/websocket/node_client.ts";
import { type BenchServer, drive, ROUNDS, SECONDS, startServer } from "./_harness.ts";
import { Report } from "./_report.ts";
import { cpuSeconds } from "./_proc_cpu.ts";

// Calls made before each measurement, so that neither side is measured compiling.
const WARMUP_SECONDS = 0.3;
// `BENCH_WS_QUICK=1`: 64 in flight over WebSocket only (no TCP, no 1 in
// flight), for comparing two versions of the WebSocket path.
const QUICK = Deno.env.get("BENCH_WS_QUICK") === "1";

/** A WebSocket measurement: calls per second, and the server's CPU per call. */
interface Measured {
  readonly rate: number;
  /** Microseconds of the server process's CPU (user + system) per call. */
  readonly serverCpu: number;
  /** Microseconds of this (the client's) process's CPU per call. */
  readonly clientCpu: number;
}

// `BENCH_PIN=1`: this process on core 0, each server on core 1 (Linux
// `taskset`), so that every measurement has the same placement.
const PIN = Deno.env.get("BENCH_PIN") === "1";

async function pin(pid: number, core: number): Promise<void> {
  await new Deno.Command("taskset", {
    args: ["-p", "-c", String(core), String(pid)],
    stdout: "null",
  })
    .output();
}

if (PIN) await pin(Deno.pid, 0);

// Drives `call` after a warm-up, measuring the server's CPU over the run.
async function measure(
  server: BenchServer,
  depth: number,
  call: () => Promise<unknown>,
): Promise<Measured> {
  if (PIN) await pin(server.pid, 1);
  await drive(depth, call, WARMUP_SECONDS);
  const before = await cpuSeconds(server.pid);
  const client = process.cpuUsage();
  const start = performance.now();
  const rate = await drive(depth, call);
  const calls = rate * (performance.now() - start) / 1000;
  const used = process.cpuUsage(client);
  return {
    rate,
    serverCpu: (await cpuSeconds(server.pid) - before) * 1e6 / calls,
    clientCpu: (used.user + used.system) / calls,
  };
}

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

// `corked`: the client is nodeWebSocket's (the ws package's, each turn's
// calls in one socket write), not the standard WebSocket.
async function wsCalls(
  depth: number,
  codec: "jsonrpc" | "msgpack",
  corked = false,
): Promise<Measured> {
  const server = await startServer("ws");
  const path = codec === "jsonrpc" ? "/rpc" : "/msgpack";
  const client = await connectWebSocket(`ws://127.0.0.1:${server.port}${path}`, {
    codec: codec === "msgpack" ? msgpackRpc() : jsonRpc(),
    ...(corked ? { WebSocket: await nodeWebSocket() } : {}),
  });
  let i = 0;
  const measured = await measure(
    server,
    depth,
    () => client.call("add", [i & 0xffff, i++ & 0xffff]),
  );
  await client.close();
  await server.stop();
  return measured;
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
// Deno.upgradeWebSocket; `ws`: by the ws package alone on parley's
// ConnDuplex (the ceiling of the design parley's server runs on); `parley`:
// answered by parley's server (the messages are add requests), which
// measures its server alone. Replies come back in order, so a queue of
// resolvers matches them.
async function wsEcho(
  depth: number,
  binary: boolean,
  server: "deno" | "ws" | "parley" = "deno",
): Promise<Measured> {
  const process = server === "ws"
    ? await startServer("", new URL("./_ws_bare.ts", import.meta.url))
    : await startServer(server === "parley" ? "ws" : "ws-echo");
  const path = server !== "parley" ? "/" : binary ? "/msgpack" : "/rpc";
  const socket = new WebSocket(`ws://127.0.0.1:${process.port}${path}`);
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
  const measured = await measure(process, depth, call);
  const closed = new Promise((resolve) => (socket.onclose = resolve));
  socket.close();
  await closed;
  await process.stop();
  return measured;
}

const report = new Report();
const NONE: Measured = { rate: NaN, serverCpu: NaN, clientCpu: NaN };

for (let round = 1; round <= ROUNDS; round++) {
  for (const depth of QUICK ? [64] : [1, 64]) {
    let jsonTcp = NaN, msgpackTcp = NaN;
    let jsonWs = NONE, msgpackWs = NONE, echo = NONE, binaryEcho = NONE;
    let wsEchoText = NONE, wsEchoBinary = NONE, bareJson = NONE, bareMsgpack = NONE;
    let jsonCorked = NONE, msgpackCorked = NONE;
    const tcp = async () => {
      if (QUICK) return;
      jsonTcp = await tcpCalls(depth, "jsonrpc");
      msgpackTcp = await tcpCalls(depth, "msgpack");
    };
    const ws = async () => {
      jsonWs = await wsCalls(depth, "jsonrpc");
      msgpackWs = await wsCalls(depth, "msgpack");
      jsonCorked = await wsCalls(depth, "jsonrpc", true);
      msgpackCorked = await wsCalls(depth, "msgpack", true);
      echo = await wsEcho(depth, false);
      binaryEcho = await wsEcho(depth, true);
      wsEchoText = await wsEcho(depth, false, "ws");
      wsEchoBinary = await wsEcho(depth, true, "ws");
      bareJson = await wsEcho(depth, false, "parley");
      bareMsgpack = await wsEcho(depth, true, "parley");
    };
    // A B, then B A: neither side always goes first.
    if (round % 2 === 1) {
      await tcp();
      await ws();
    } else {
      await ws();
      await tcp();
    }
    const at = `${depth} in flight`;
    if (!QUICK) {
      report.record(`jsonrpc tcp newline, ${at}`, jsonTcp);
      report.record(`msgpack-rpc tcp self-delimiting, ${at}`, msgpackTcp);
    }
    report.record(`jsonrpc ws, ${at}`, jsonWs.rate);
    report.record(`msgpack-rpc ws, ${at}`, msgpackWs.rate);
    report.record(`bare ws echo, text (ceiling), ${at}`, echo.rate);
    report.record(`bare ws echo, binary (ceiling), ${at}`, binaryEcho.rate);
    report.record(`ws package echo on ConnDuplex, text, ${at}`, wsEchoText.rate);
    report.record(`ws package echo on ConnDuplex, binary, ${at}`, wsEchoBinary.rate);
    report.record(`jsonrpc ws, nodeWebSocket client, ${at}`, jsonCorked.rate);
    report.record(`msgpack-rpc ws, nodeWebSocket client, ${at}`, msgpackCorked.rate);
    report.record(`bare client → parley server, jsonrpc, ${at}`, bareJson.rate);
    report.record(`bare client → parley server, msgpack-rpc, ${at}`, bareMsgpack.rate);
    report.record(`server CPU µs/call, jsonrpc ws, ${at}`, jsonWs.serverCpu);
    report.record(`server CPU µs/call, msgpack-rpc ws, ${at}`, msgpackWs.serverCpu);
    report.record(`server CPU µs/call, bare ws echo text, ${at}`, echo.serverCpu);
    report.record(`server CPU µs/call, ws package echo text, ${at}`, wsEchoText.serverCpu);
    if (!QUICK) {
      report.record(`ratio jsonrpc ws/tcp, ${at}`, jsonWs.rate / jsonTcp);
      report.record(`ratio msgpack ws/tcp, ${at}`, msgpackWs.rate / msgpackTcp);
    }
    report.record(`ratio msgpack ws/jsonrpc ws, ${at}`, msgpackWs.rate / jsonWs.rate);
    report.record(`ratio jsonrpc ws/bare ws echo, ${at}`, jsonWs.rate / echo.rate);
    report.record(
      `ratio jsonrpc ws (nodeWebSocket client)/bare ws echo, ${at}`,
      jsonCorked.rate / echo.rate,
    );
    report.record(
      `ratio msgpack ws (nodeWebSocket client)/bare binary ws echo, ${at}`,
      msgpackCorked.rate / binaryEcho.rate,
    );
    report.record(`ratio msgpack ws/bare binary ws echo, ${at}`, msgpackWs.rate / binaryEcho.rate);
    report.record(`ratio ws package echo/bare ws echo, text, ${at}`, wsEchoText.rate / echo.rate);
    report.record(
      `ratio ws package echo/bare ws echo, binary, ${at}`,
      wsEchoBinary.rate / binaryEcho.rate,
    );
    report.record(`ratio jsonrpc ws/ws package echo, ${at}`, jsonWs.rate / wsEchoText.rate);
    report.record(
      `ratio bare client → parley jsonrpc/bare ws echo, ${at}`,
      bareJson.rate / echo.rate,
    );
    report.record(
      `ratio bare client → parley msgpack/bare binary ws echo, ${at}`,
      bareMsgpack.rate / binaryEcho.rate,
    );
    report.record(
      `ratio msgpack ws/ws package echo, binary, ${at}`,
      msgpackWs.rate / wsEchoBinary.rate,
    );
    console.error(
      `round ${round}, depth ${depth}: of the bare echo: jsonrpc ${
        (jsonWs.rate / echo.rate).toFixed(2)
      }, msgpack ${(msgpackWs.rate / binaryEcho.rate).toFixed(2)}; with nodeWebSocket: jsonrpc ${
        (jsonCorked.rate / echo.rate).toFixed(2)
      }, msgpack ${(msgpackCorked.rate / binaryEcho.rate).toFixed(2)} (client µs/call ${
        jsonCorked.clientCpu.toFixed(1)
      }, ${msgpackCorked.clientCpu.toFixed(1)}); ws package echo ${
        (wsEchoText.rate / echo.rate).toFixed(2)
      } (text), ${(wsEchoBinary.rate / binaryEcho.rate).toFixed(2)} (binary); ` +
        `bare client → parley: jsonrpc ${(bareJson.rate / echo.rate).toFixed(2)}, msgpack ${
          (bareMsgpack.rate / binaryEcho.rate).toFixed(2)
        }; server µs/call ` +
        `jsonrpc ${jsonWs.serverCpu.toFixed(1)}, msgpack ${msgpackWs.serverCpu.toFixed(1)}, ` +
        `echo ${echo.serverCpu.toFixed(1)}, ws echo ${wsEchoText.serverCpu.toFixed(1)}; ` +
        `client µs/call jsonrpc ${jsonWs.clientCpu.toFixed(1)}, msgpack ${
          msgpackWs.clientCpu.toFixed(1)
        }, echo ${echo.clientCpu.toFixed(1)}`,
    );
  }
}

report.print(
  `JSON-RPC and msgpack-rpc over WebSocket vs TCP, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
