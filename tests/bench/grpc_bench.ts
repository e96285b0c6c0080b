/**
 * `deno task bench` (gRPC): calls per second of the calculator's Add with 1
 * and 64 calls in flight, and messages per second of one server stream of
 * 100,000 small messages (Range's Numbers), parley's `connectGrpc` client
 * calling parley's `serveGrpc` server (its own Deno process, `_server.ts
 * grpc`), next to `@grpc/grpc-js` client and server on Node
 * (`tests/interop/node/grpc_bench.mjs`), both over h2c on loopback, measured
 * in the same run, each after 10,000 calls to warm up (V8 and both HTTP/2
 * stacks). Rounds alternate; read the ratios (issue 18's goals:
 * parley ≥ 3× grpc-js with 64 in flight, ≥ 2× its messages per second).
 *
 * @module
 */

import { loadProto, protoClient } from "../../codecs/protobuf.ts";
import { connectGrpc } from "../../rpc/transports/grpc.ts";
import { CALCULATOR_PROTO_DIR, nodePeers } from "../interop/_node.ts";
import { drive, ROUNDS, runNodeBench, SECONDS, startServer } from "./_harness.ts";
import { Report } from "./_report.ts";

const schema = loadProto({
  "calculator.proto": Deno.readTextFileSync(`${CALCULATOR_PROTO_DIR}calculator.proto`),
});
type Calculator = {
  Add(r: { num1: number; num2: number }): { sum: number };
  Range(r: { start: number; count: number }): AsyncIterable<{ value: bigint }>;
};
/** Messages in the streaming measurement. */
const STREAM = 100_000;
/** Unary calls before a measurement, as grpc_bench.mjs makes for grpc-js. */
const WARMUP = 10_000;

async function parleyGrpc(depth: number): Promise<number> {
  const server = await startServer("grpc");
  const client = connectGrpc(`grpc://127.0.0.1:${server.port}`, { schema });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  let i = 0;
  // The same warm-up as grpc_bench.mjs gives grpc-js: 10,000 calls, 64 in flight.
  await Promise.all(Array.from({ length: 64 }, async () => {
    for (let n = 0; n < WARMUP / 64; n++) await calc.Add({ num1: n, num2: 1 });
  }));
  const rate = await drive(depth, () => calc.Add({ num1: i & 0xffff, num2: i++ & 0xffff }));
  await client.close();
  await server.stop();
  return rate;
}

// One stream to warm up, one measured: messages per second, each checked.
async function parleyStream(count: number): Promise<number> {
  const server = await startServer("grpc");
  const client = connectGrpc(`grpc://127.0.0.1:${server.port}`, { schema });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  const read = async () => {
    const start = performance.now();
    let next = 0;
    for await (const { value } of calc.Range({ start: 0, count })) {
      if (Number(value) !== next++) {
        throw new Error(`Range sent ${value} where ${next - 1} was due`);
      }
    }
    if (next !== count) throw new Error(`Range sent ${next} of ${count} numbers`);
    return (performance.now() - start) / 1000;
  };
  await read();
  const seconds = await read();
  await client.close();
  await server.stop();
  return count / seconds;
}

async function grpcJsStream(script: string, count: number): Promise<number> {
  const output = await new Deno.Command("node", {
    args: [script, "--stream", String(count), "--proto-dir", CALCULATOR_PROTO_DIR],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`${script} --stream failed (exit ${output.code})`);
  return JSON.parse(new TextDecoder().decode(output.stdout).trim()).messagesPerSecond;
}

const dir = await nodePeers();
const only = Deno.env.get("BENCH_GRPC"); // "unary" or "stream": one half alone
const report = new Report();
const streams = new Report("messages/s");
for (let round = 1; round <= ROUNDS; round++) {
  for (const depth of only === "stream" ? [] : [1, 64]) {
    const grpcJs = await runNodeBench(`${dir}/grpc_bench.mjs`, depth, [
      "--proto-dir",
      CALCULATOR_PROTO_DIR,
    ]);
    const parley = await parleyGrpc(depth);
    report.record(`grpc-js unary on Node, ${depth} in flight`, grpcJs);
    report.record(`parley gRPC unary, ${depth} in flight`, parley);
    report.record(`ratio parley gRPC/grpc-js, ${depth} in flight`, parley / grpcJs);
    console.error(
      `round ${round}, depth ${depth}: grpc-js ${grpcJs.toFixed(0)}/s, parley gRPC ${
        parley.toFixed(0)
      }/s (${(parley / grpcJs).toFixed(2)})`,
    );
  }
  if (only === "unary") continue;
  const grpcJs = await grpcJsStream(`${dir}/grpc_bench.mjs`, STREAM);
  const parley = await parleyStream(STREAM);
  streams.record(`grpc-js server stream of ${STREAM.toLocaleString("en")} Numbers`, grpcJs);
  streams.record(`parley gRPC server stream of ${STREAM.toLocaleString("en")} Numbers`, parley);
  streams.record("ratio parley gRPC/grpc-js, server stream", parley / grpcJs);
  console.error(
    `round ${round}, stream: grpc-js ${grpcJs.toFixed(0)} msg/s, parley gRPC ${
      parley.toFixed(0)
    } msg/s (${(parley / grpcJs).toFixed(2)})`,
  );
}
if (only !== "stream") {
  report.print(
    `gRPC: parley connectGrpc ↔ serveGrpc vs grpc-js (Node), unary Add, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
  );
}
if (only !== "unary") {
  streams.print(
    `gRPC: parley vs grpc-js (Node), one server stream of ${STREAM} Numbers read whole after one to warm up, ${ROUNDS} alternating rounds (median)`,
  );
}
