/**
 * `deno task bench` (gRPC): calls per second of the calculator's Add with 1
 * and 64 calls in flight, parley's `connectGrpc` client calling parley's
 * `serveGrpc` server (its own Deno process, `_server.ts grpc`), next to
 * `@grpc/grpc-js` client and server on Node (`tests/interop/node/grpc_bench.mjs`),
 * both over h2c on loopback, measured in the same run. Rounds alternate;
 * read the ratios (issue 18's goal: parley ≥ 3× grpc-js with 64 in flight).
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
type Adder = { Add(r: { num1: number; num2: number }): { sum: number } };

async function parleyGrpc(depth: number): Promise<number> {
  const server = await startServer("grpc");
  const client = connectGrpc(`grpc://127.0.0.1:${server.port}`, { schema });
  const calc = protoClient<Adder>(client, schema, "interop.Calculator");
  let i = 0;
  const rate = await drive(depth, () => calc.Add({ num1: i & 0xffff, num2: i++ & 0xffff }));
  await client.close();
  await server.stop();
  return rate;
}

const dir = await nodePeers();
const report = new Report();
for (let round = 1; round <= ROUNDS; round++) {
  for (const depth of [1, 64]) {
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
}
report.print(
  `gRPC: parley connectGrpc ↔ serveGrpc vs grpc-js (Node), unary Add, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
