/**
 * `deno task bench` (NATS): calls per second of `add` with 64 in flight
 * through a real nats-server to one and to two worker processes
 * (`examples/cluster/worker.ts`), next to a direct JSON-RPC call over TCP to
 * one server process, measured in the same run: the cost of the broker, and
 * the gain of a second worker. Client and workers on parley's own NATS
 * client (`connectNatsCore`), and the same on nats.js (`connectNats`,
 * `--nats-js`); nats.js's own `request()` loop to a bare nats.js responder
 * (`_nats_bare.ts`); and the floor of any NATS round trip here: a minimal
 * client and responder on NATS's text protocol with no framework
 * (`_nats_minimal.ts`). Rounds alternate; read the ratios, and the CPU each
 * process (client, nats-server, responders) spends per call: what tells
 * whether the cores are the limit, and whether a second worker has a core
 * to use.
 *
 * @module
 */

import { jsonRpc } from "../../codecs/json_rpc.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import { connectNats, connectNatsCore, natsClient } from "../../rpc/transports/nats.ts";
import { connectTcp } from "../../rpc/transports/tcp.ts";
import { startNatsServer } from "../../testing/nats_server.ts";
import { spawnWorker } from "../../examples/cluster/spawn_worker.ts";
import { drive, ROUNDS, SECONDS, startServer } from "./_harness.ts";
import { bareNatsRequests } from "./_nats_bare.ts";
import { type Costed, costed } from "./_nats_costs.ts";
import { minimalNatsRequests } from "./_nats_minimal.ts";
import { Report } from "./_report.ts";

const DEPTH = 64;

// Which NATS client both ends use: parley's own, or nats.js.
type Client = "parley" | "nats.js";

function startWorkers(url: string, count: number, client: Client) {
  const flags = client === "nats.js" ? ["--nats-js"] : [];
  return Promise.all(Array.from({ length: count }, (_, i) => spawnWorker(url, `w${i}`, ...flags)));
}

async function throughNats(
  url: string,
  brokerPid: number,
  workers: number,
  call: readonly [string, (i: number) => unknown[]],
  client_: Client = "parley",
): Promise<Costed> {
  const children = await startWorkers(url, workers, client_);
  const connection = client_ === "nats.js" ? await connectNats(url) : await connectNatsCore(url);
  const client = natsClient({
    connection,
    subject: "calculator",
    codec: jsonRpc(),
    timeout: 10_000,
  });
  // Every worker has subscribed before the clock starts.
  for (let i = 0; i < 50; i++) await client.call("add", [1, 2]);
  let i = 0;
  const pids = children.map((worker) => worker.child.pid);
  const result = await costed(pids, brokerPid, DEPTH, () => client.call(call[0], call[1](i++)));
  await connection.drain();
  for (const worker of children) await worker.stop("SIGKILL");
  return result;
}

async function directTcp(): Promise<number> {
  const server = await startServer("jsonrpc-newline");
  const peer = await connectTcp({ hostname: "127.0.0.1", port: server.port }, {
    codec: jsonRpc(),
    framing: newline(),
  });
  let i = 0;
  const rate = await drive(DEPTH, () => peer.call("add", [i & 0xffff, i++ & 0xffff]));
  await peer.close();
  await server.stop();
  return rate;
}

await using nats = await startNatsServer();
const report = new Report();
const cpu = new Report("µs");
const costs = (name: string, run: Costed) => {
  cpu.record(`CPU per call, ${name}: the client`, run.clientCpu);
  cpu.record(`CPU per call, ${name}: nats-server`, run.brokerCpu);
  cpu.record(`CPU per call, ${name}: the responder(s)`, run.workersCpu);
  cpu.record(`CPU per call, ${name}: all three`, run.clientCpu + run.brokerCpu + run.workersCpu);
};
for (let round = 1; round <= ROUNDS; round++) {
  const add = ["add", (i: number) => [i & 0xffff, i & 0xffff]] as const;
  const spin = ["spin", () => [2]] as const; // 2 ms of CPU per call, in the worker
  const tcp = await directTcp();
  const floor = await minimalNatsRequests(nats.url, nats.pid, DEPTH);
  const bare = await bareNatsRequests(nats.url, nats.pid, DEPTH);
  const one = await throughNats(nats.url, nats.pid, 1, add);
  const oneJs = await throughNats(nats.url, nats.pid, 1, add, "nats.js");
  const two = await throughNats(nats.url, nats.pid, 2, add);
  const busyOne = await throughNats(nats.url, nats.pid, 1, spin);
  const busyTwo = await throughNats(nats.url, nats.pid, 2, spin);
  report.record(`direct JSON-RPC over TCP, add, ${DEPTH} in flight`, tcp);
  report.record(`minimal NATS round trip (no framework), ${DEPTH} in flight`, floor.rate);
  report.record(`nats.js request() to a bare nats.js responder, ${DEPTH} in flight`, bare.rate);
  report.record(`through NATS, add, 1 worker`, one.rate);
  report.record(`through NATS on nats.js (both ends), add, 1 worker`, oneJs.rate);
  report.record(`through NATS, add, 2 workers`, two.rate);
  report.record(`through NATS, 2 ms of CPU per call, 1 worker`, busyOne.rate);
  report.record(`through NATS, 2 ms of CPU per call, 2 workers`, busyTwo.rate);
  report.record("ratio minimal NATS round trip/direct TCP", floor.rate / tcp);
  report.record("ratio NATS add 1 worker/direct TCP", one.rate / tcp);
  report.record("ratio NATS add 1 worker/minimal NATS round trip", one.rate / floor.rate);
  report.record("ratio NATS add 1 worker/bare nats.js request()", one.rate / bare.rate);
  report.record("ratio NATS add 1 worker/the same on nats.js", one.rate / oneJs.rate);
  report.record("ratio NATS add 2 workers/1 worker", two.rate / one.rate);
  report.record("ratio NATS CPU-bound 2 workers/1 worker", busyTwo.rate / busyOne.rate);
  costs("minimal round trip", floor);
  costs("bare nats.js", bare);
  costs("add, 1 worker", one);
  costs("add, 1 worker on nats.js", oneJs);
  costs("add, 2 workers", two);
  console.error(
    `round ${round}: tcp ${tcp.toFixed(0)}/s, minimal NATS ${floor.rate.toFixed(0)}/s, ` +
      `bare nats.js ${bare.rate.toFixed(0)}/s, nats ${one.rate.toFixed(0)}/s → ` +
      `${two.rate.toFixed(0)}/s, on nats.js ${oneJs.rate.toFixed(0)}/s, ` +
      `cpu-bound ${busyOne.rate.toFixed(0)}/s → ${busyTwo.rate.toFixed(0)}/s`,
  );
}
report.print(
  `NATS: the broker's cost and a second worker's gain, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
cpu.print(
  `NATS: CPU per call (µs; the broker's and workers' from /proc, so Linux only), on ${navigator.hardwareConcurrency} cores`,
);
