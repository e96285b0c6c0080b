/**
 * `deno task bench` (protobuf): calls per second of the calculator's Add
 * with 1 and 64 calls in flight, parley's protobuf envelope over TCP and the
 * Connect protocol over HTTP, next to parley's msgpack-rpc over TCP and to
 * `@grpc/grpc-js` unary calls on Node over loopback (its client and server
 * in a Node process of their own, `tests/interop/node/grpc_bench.mjs`),
 * measured in the same run. Rounds alternate; read the ratios.
 *
 * @module
 */

import { loadProto, protobufRpc, protoClient } from "../../codecs/protobuf.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { connectClient } from "../../protocols/connect.ts";
import { lengthPrefix } from "../../rpc/framing/length_prefix.ts";
import { selfDelimiting } from "../../rpc/framing/self_delimiting.ts";
import { connectTcp } from "../../rpc/transports/tcp.ts";
import { nodePeers } from "../interop/_node.ts";
import { drive, ROUNDS, runNodeBench, SECONDS, startServer } from "./_harness.ts";
import { Report } from "./_report.ts";

const schema = loadProto({
  "calculator.proto": Deno.readTextFileSync(
    new URL("../../examples/calculator/calculator.proto", import.meta.url),
  ),
});
type Adder = { Add(r: { num1: number; num2: number }): { sum: number } };

async function protobufTcp(depth: number): Promise<number> {
  const server = await startServer("protobuf");
  const peer = await connectTcp({ hostname: "127.0.0.1", port: server.port }, {
    codec: protobufRpc({ schema }),
    framing: lengthPrefix(),
  });
  const calc = protoClient<Adder>(peer, schema, "interop.Calculator");
  let i = 0;
  const rate = await drive(depth, () => calc.Add({ num1: i & 0xffff, num2: i++ & 0xffff }));
  await peer.close();
  await server.stop();
  return rate;
}

async function connectHttp(depth: number): Promise<number> {
  const server = await startServer("connect");
  const client = connectClient(`http://127.0.0.1:${server.port}`, { schema });
  const calc = protoClient<Adder>(client, schema, "interop.Calculator");
  let i = 0;
  const rate = await drive(depth, () => calc.Add({ num1: i & 0xffff, num2: i++ & 0xffff }));
  await client.close();
  await server.stop();
  return rate;
}

async function msgpackTcp(depth: number): Promise<number> {
  const server = await startServer("msgpack");
  const codec = msgpackRpc();
  const peer = await connectTcp({ hostname: "127.0.0.1", port: server.port }, {
    codec,
    framing: selfDelimiting(codec.measure!.bind(codec)),
  });
  let i = 0;
  const rate = await drive(depth, () => peer.call("add", [i & 0xffff, i++ & 0xffff]));
  await peer.close();
  await server.stop();
  return rate;
}

// grpc-js on Node: its own client and server, loopback, the same Add.
function grpcJs(dir: string, depth: number): Promise<number> {
  return runNodeBench(`${dir}/grpc_bench.mjs`, depth, [
    "--proto-dir",
    new URL("../../examples/calculator", import.meta.url).pathname,
  ]);
}

const dir = await nodePeers();
const report = new Report();
for (let round = 1; round <= ROUNDS; round++) {
  for (const depth of [1, 64]) {
    const grpc = await grpcJs(dir, depth);
    const pb = await protobufTcp(depth);
    const mp = await msgpackTcp(depth);
    const connect = await connectHttp(depth);
    report.record(`grpc-js unary on Node, ${depth} in flight`, grpc);
    report.record(`parley protobuf envelope over TCP, ${depth} in flight`, pb);
    report.record(`parley msgpack-rpc over TCP, ${depth} in flight`, mp);
    report.record(`parley Connect over HTTP/1.1, ${depth} in flight`, connect);
    report.record(`ratio protobuf TCP/grpc-js, ${depth} in flight`, pb / grpc);
    report.record(`ratio Connect HTTP/grpc-js, ${depth} in flight`, connect / grpc);
    report.record(`ratio protobuf/msgpack over TCP, ${depth} in flight`, pb / mp);
    console.error(
      `round ${round}, depth ${depth}: grpc-js ${grpc.toFixed(0)}/s, protobuf ${pb.toFixed(0)}/s (${
        (pb / grpc).toFixed(2)
      }), Connect ${connect.toFixed(0)}/s`,
    );
  }
}
report.print(
  `protobuf: parley vs grpc-js (Node), Add, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
