/**
 * `deno task bench` (Thrift): calls per second of the calculator's add with
 * 1 and 64 calls in flight, parley's Thrift codec over TCP (framed, binary)
 * next to parley's msgpack-rpc over TCP and to the `thrift` npm package's
 * own generated client and server on Node (`tests/interop/node/thrift_bench.mjs`,
 * its server in a process of its own), measured in the same run. Rounds
 * alternate; read the ratios.
 *
 * @module
 */

import { loadThrift, thriftRpc } from "../../codecs/thrift.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { lengthPrefix } from "../../rpc/framing/length_prefix.ts";
import { selfDelimiting } from "../../rpc/framing/self_delimiting.ts";
import { connectTcp } from "../../rpc/transports/tcp.ts";
import { CALCULATOR_PROTO_DIR, nodePeers } from "../interop/_node.ts";
import { drive, ROUNDS, runNodeBench, SECONDS, startServer } from "./_harness.ts";
import { Report } from "./_report.ts";

const schema = loadThrift(
  Deno.readTextFileSync(new URL("../../examples/calculator/calculator.thrift", import.meta.url)),
);

async function parleyCalls(depth: number, mode: "thrift" | "msgpack"): Promise<number> {
  const server = await startServer(mode);
  const msgpack = msgpackRpc();
  const peer = await connectTcp(
    { hostname: "127.0.0.1", port: server.port },
    mode === "thrift"
      ? { codec: thriftRpc({ schema }), framing: lengthPrefix() }
      : { codec: msgpack, framing: selfDelimiting(msgpack.measure!.bind(msgpack)) },
  );
  let i = 0;
  const rate = await drive(depth, () => peer.call("add", [i & 0xffff, i++ & 0xffff]));
  await peer.close();
  await server.stop();
  return rate;
}

// The thrift package on Node: its generated client and its server.
function thriftNode(dir: string, depth: number): Promise<number> {
  return runNodeBench(`${dir}/thrift_bench.mjs`, depth, ["--thrift-dir", CALCULATOR_PROTO_DIR]);
}

const dir = await nodePeers();
const report = new Report();
for (let round = 1; round <= ROUNDS; round++) {
  for (const depth of [1, 64]) {
    const node = await thriftNode(dir, depth);
    const thrift = await parleyCalls(depth, "thrift");
    const msgpack = await parleyCalls(depth, "msgpack");
    report.record(`thrift npm package on Node, ${depth} in flight`, node);
    report.record(`parley Thrift (framed, binary) over TCP, ${depth} in flight`, thrift);
    report.record(`parley msgpack-rpc over TCP, ${depth} in flight`, msgpack);
    report.record(`ratio parley Thrift/thrift on Node, ${depth} in flight`, thrift / node);
    report.record(`ratio Thrift/msgpack over TCP, ${depth} in flight`, thrift / msgpack);
    console.error(
      `round ${round}, depth ${depth}: thrift on Node ${node.toFixed(0)}/s, parley ${
        thrift.toFixed(0)
      }/s (${(thrift / node).toFixed(2)})`,
    );
  }
}
report.print(
  `Thrift: parley vs the thrift package on Node, add, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
