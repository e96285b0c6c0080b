/**
 * `deno task bench` (NATS): calls per second of `add` with 64 in flight
 * through a real nats-server to one and to two worker processes
 * (`examples/cluster/worker.ts`), next to a direct JSON-RPC call over TCP to
 * one server process, measured in the same run: the cost of the broker, and
 * the gain of a second worker; and nats.js's own `request()` loop to a bare
 * nats.js responder (`_nats_bare.ts`), the ceiling of a NATS client on this
 * runtime. Rounds alternate; read the ratios, and the CPU each side spends
 * per call (what tells whether a second worker has a core to use).
 *
 * @module
 */

import process from "node:process";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import { connectNats, natsClient } from "../../rpc/transports/nats.ts";
import { connectTcp } from "../../rpc/transports/tcp.ts";
import { startNatsServer } from "../../testing/nats_server.ts";
import { spawnWorker } from "../../examples/cluster/spawn_worker.ts";
import { drive, ROUNDS, SECONDS, startServer } from "./_harness.ts";
import { bareNatsRequests } from "./_nats_bare.ts";
import { Report } from "./_report.ts";

const DEPTH = 64;

function startWorkers(url: string, count: number) {
  return Promise.all(Array.from({ length: count }, (_, i) => spawnWorker(url, `w${i}`)));
}

// CPU seconds a process has used so far, from Linux's /proc (read by `cat`:
// Deno lets only --allow-all read another process's /proc files); NaN elsewhere.
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).output();
    const fields = new TextDecoder().decode(stdout).split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in ticks of 10 ms
  } catch {
    return NaN;
  }
}

/** Calls per second, and µs of CPU per call in the client and in all workers together. */
interface Through {
  readonly rate: number;
  readonly clientCpu: number;
  readonly workersCpu: number;
}

async function throughNats(
  url: string,
  workers: number,
  call: readonly [string, (i: number) => unknown[]],
): Promise<Through> {
  const children = await startWorkers(url, workers);
  const connection = await connectNats(url);
  const client = natsClient({
    connection,
    subject: "calculator",
    codec: jsonRpc(),
    timeout: 10_000,
  });
  // Every worker has subscribed before the clock starts.
  for (let i = 0; i < 50; i++) await client.call("add", [1, 2]);
  const workersCpu = async () => {
    const used = await Promise.all(children.map((worker) => cpuSeconds(worker.child.pid)));
    return used.reduce((sum, seconds) => sum + seconds, 0);
  };
  const workersBefore = await workersCpu();
  const clientBefore = process.cpuUsage();
  let i = 0;
  const rate = await drive(DEPTH, () => client.call(call[0], call[1](i++)));
  const clientUsed = process.cpuUsage(clientBefore);
  const workersUsed = await workersCpu() - workersBefore;
  await connection.drain();
  for (const worker of children) await worker.stop("SIGKILL");
  return {
    rate,
    clientCpu: (clientUsed.user + clientUsed.system) / i,
    workersCpu: (workersUsed * 1e6) / i,
  };
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
for (let round = 1; round <= ROUNDS; round++) {
  const add = ["add", (i: number) => [i & 0xffff, i & 0xffff]] as const;
  const spin = ["spin", () => [2]] as const; // 2 ms of CPU per call, in the worker
  const tcp = await directTcp();
  const bare = await bareNatsRequests(nats.url, DEPTH);
  const one = await throughNats(nats.url, 1, add);
  const two = await throughNats(nats.url, 2, add);
  const busyOne = await throughNats(nats.url, 1, spin);
  const busyTwo = await throughNats(nats.url, 2, spin);
  report.record(`direct JSON-RPC over TCP, add, ${DEPTH} in flight`, tcp);
  report.record(`nats.js request() to a bare nats.js responder, ${DEPTH} in flight`, bare);
  report.record(`through NATS, add, 1 worker`, one.rate);
  report.record(`through NATS, add, 2 workers`, two.rate);
  report.record(`through NATS, 2 ms of CPU per call, 1 worker`, busyOne.rate);
  report.record(`through NATS, 2 ms of CPU per call, 2 workers`, busyTwo.rate);
  report.record("ratio NATS add 1 worker/direct TCP", one.rate / tcp);
  report.record("ratio NATS add 1 worker/bare nats.js request()", one.rate / bare);
  report.record("ratio NATS add 2 workers/1 worker", two.rate / one.rate);
  report.record("ratio NATS CPU-bound 2 workers/1 worker", busyTwo.rate / busyOne.rate);
  cpu.record("CPU per call, add, 1 worker: the client", one.clientCpu);
  cpu.record("CPU per call, add, 1 worker: the worker", one.workersCpu);
  cpu.record("CPU per call, add, 2 workers: the client", two.clientCpu);
  cpu.record("CPU per call, add, 2 workers: both workers", two.workersCpu);
  console.error(
    `round ${round}: tcp ${tcp.toFixed(0)}/s, bare nats.js ${bare.toFixed(0)}/s, ` +
      `nats ${one.rate.toFixed(0)}/s → ${two.rate.toFixed(0)}/s, ` +
      `cpu-bound ${busyOne.rate.toFixed(0)}/s → ${busyTwo.rate.toFixed(0)}/s`,
  );
}
report.print(
  `NATS: the broker's cost and a second worker's gain, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
cpu.print(
  `NATS: CPU per call (µs; the workers' from /proc, so Linux only), on ${navigator.hardwareConcurrency} cores`,
);
