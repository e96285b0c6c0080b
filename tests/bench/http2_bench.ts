/**
 * HTTP/2 benchmark (not in `deno task bench` yet): gRPC-like unary
 * exchanges (a POST of one 5-byte-prefixed message; headers, one message
 * and `grpc-status` trailers back) per second, with 1 and 64 in flight:
 * parley's own HTTP/2 (connectHttp2 ↔ serveHttp2) against Deno's
 * `node:http2` client and server, and against `@grpc/grpc-js` client and
 * server on Node doing real unary Add calls (tests/interop/node/grpc_bench.mjs).
 * Each server runs in a process of its own (tests/bench/_http2_server.ts),
 * h2c on loopback; rounds alternate; the report prints medians and ratios.
 *
 * `deno run -A tests/bench/http2_bench.ts` (BENCH_SECONDS, BENCH_ROUNDS).
 *
 * @module
 */

import http2 from "node:http2";
import { connectHttp2 } from "../../rpc/transports/http2.ts";
import { CALCULATOR_PROTO_DIR, nodePeers } from "../interop/_node.ts";
import { drive, ROUNDS, runNodeBench, SECONDS } from "./_harness.ts";
import { Report } from "./_report.ts";

const REQUEST = new Uint8Array([0, 0, 0, 0, 4, 0x08, 0x01, 0x10, 0x02]);
const HEADERS = {
  ":method": "POST",
  ":path": "/interop.Calculator/Add",
  "content-type": "application/grpc",
  "te": "trailers",
};

/** Starts `_http2_server.ts MODE` and waits for its port. */
async function startServer(mode: string): Promise<{ port: number; stop(): Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_http2_server.ts", import.meta.url).pathname, mode],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`http2 bench server ${mode} exited before listening`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return {
    port: Number(text.trim().split(" ")[1]),
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function parley(depth: number): Promise<number> {
  const server = await startServer("parley");
  const client = connectHttp2(`http://127.0.0.1:${server.port}`);
  const call = async () => {
    const stream = client.request(HEADERS);
    stream.write(REQUEST);
    stream.end();
    const headers = await stream.response;
    if (headers[":status"] !== "200") throw new Error(`status ${headers[":status"]}`);
    let length = 0;
    for (let chunk = await stream.read(); chunk !== null; chunk = await stream.read()) {
      length += chunk.length;
    }
    if (length !== 7 || stream.trailers?.["grpc-status"] !== "0") throw new Error("bad reply");
  };
  for (let i = 0; i < 2000; i++) await call(); // warm-up
  const rate = await drive(depth, call);
  await client.close();
  await server.stop();
  return rate;
}

async function nodeHttp2(depth: number): Promise<number> {
  const server = await startServer("node");
  const session = http2.connect(`http://127.0.0.1:${server.port}`);
  const call = () =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request(HEADERS);
      let length = 0;
      let status = "";
      stream.on("data", (chunk: Uint8Array) => length += chunk.length);
      stream.on("trailers", (trailers) => status = String(trailers["grpc-status"]));
      stream.on("error", reject);
      stream.on("close", () =>
        length === 7 && status === "0" ? resolve() : reject(new Error("bad reply")));
      stream.end(REQUEST);
    });
  for (let i = 0; i < 2000; i++) await call();
  const rate = await drive(depth, call);
  session.close();
  await server.stop();
  return rate;
}

const dir = await nodePeers();
const report = new Report("exchanges/s");
for (let round = 1; round <= ROUNDS; round++) {
  for (const depth of [1, 64]) {
    const grpcJs = await runNodeBench(`${dir}/grpc_bench.mjs`, depth, [
      "--proto-dir",
      CALCULATOR_PROTO_DIR,
    ]);
    const node = await nodeHttp2(depth);
    const own = await parley(depth);
    report.record(`grpc-js unary Add on Node, ${depth} in flight`, grpcJs);
    report.record(`Deno node:http2 client + server, ${depth} in flight`, node);
    report.record(`parley HTTP/2 client + server, ${depth} in flight`, own);
    report.record(`ratio parley/node:http2, ${depth} in flight`, own / node);
    report.record(`ratio parley/grpc-js, ${depth} in flight`, own / grpcJs);
    console.error(
      `round ${round}, depth ${depth}: grpc-js ${grpcJs.toFixed(0)}/s, node:http2 ${
        node.toFixed(0)
      }/s, parley ${own.toFixed(0)}/s`,
    );
  }
}
report.print(
  `HTTP/2 unary exchanges: parley vs Deno's node:http2 vs grpc-js, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
