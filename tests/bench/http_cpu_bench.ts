/**
 * CPU per call of each end of the HTTP benchmarks (`http_bench.ts`), far
 * steadier than calls per second on a shared machine: user + system CPU
 * microseconds per call of the server process (from /proc) and of this
 * client process (`process.cpuUsage()`), 32 calls in flight
 * (`BENCH_IN_FLIGHT`), `BENCH_SECONDS` (2) per measurement after a second
 * of warm-up, `BENCH_ROUNDS` (3) rounds in alternating order, each server
 * fresh. Servers measured with the bare `fetch` client: parley's, the
 * minimal one (the codec, no framework) and the canned one (no parsing);
 * clients measured against the canned server: parley's, the minimal one
 * and the bare `fetch` loop. Each figure is also given divided by the CPU
 * per call of the bare process on the other end, which does the same work
 * in every pair: a figure that takes most of the machine's load out.
 * `BENCH_ONLY=xml` or `connect` measures one protocol. Linux only (/proc).
 *
 * @module
 */

import process from "node:process";
import { MAX_CALLS, ROUNDS, startServer } from "./_harness.ts";
import {
  bareCaller,
  type HttpCaller,
  type HttpProtocol,
  minimalCaller,
  parleyCaller,
} from "./_http_calls.ts";
import { cpuSeconds } from "./_proc_cpu.ts";
import { Report } from "./_report.ts";

const IN_FLIGHT = Number(Deno.env.get("BENCH_IN_FLIGHT") ?? "32");
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? "2");
const ONLY = Deno.env.get("BENCH_ONLY");
const SERVER = new URL("./_http_server.ts", import.meta.url);

// Calls with IN_FLIGHT in flight for `seconds` (bounded in count too).
async function run(call: () => Promise<unknown>, seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let calls = 0;
  const lane = async () => {
    for (let i = 0; calls < MAX_CALLS && (i % 16 !== 0 || performance.now() < deadline); i++) {
      await call();
      calls++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return calls;
}

interface CpuPerCall {
  readonly server: number;
  readonly client: number;
}

// One pair: a fresh server in `mode`, the client `caller` makes; µs per call of each.
async function cpuOf(
  mode: string,
  protocol: HttpProtocol,
  caller: (protocol: HttpProtocol, port: number) => HttpCaller,
): Promise<CpuPerCall> {
  const server = await startServer(mode, SERVER);
  const client = caller(protocol, server.port);
  try {
    await run(client.call, 1);
    const serverBefore = await cpuSeconds(server.pid);
    const clientBefore = process.cpuUsage();
    const calls = await run(client.call, SECONDS);
    const used = process.cpuUsage(clientBefore);
    const serverUsed = await cpuSeconds(server.pid) - serverBefore;
    return { server: serverUsed * 1e6 / calls, client: (used.user + used.system) / calls };
  } finally {
    await client.close();
    await server.stop();
  }
}

const protocols: HttpProtocol[] = ONLY === "xml" || ONLY === "connect" ? [ONLY] : [
  "xml",
  "connect",
];
const report = new Report("µs per call");
for (let round = 1; round <= ROUNDS; round++) {
  for (const protocol of protocols) {
    const parleyMode = protocol === "xml" ? "xmlrpc" : "connect";
    const canned = `${protocol === "xml" ? "xml" : "connect"}-canned`;
    const minimal = `${protocol === "xml" ? "xml" : "connect"}-minimal`;
    const steps: [string, () => Promise<CpuPerCall>, "server" | "client"][] = [
      ["parley server", () => cpuOf(parleyMode, protocol, bareCaller), "server"],
      ["minimal server", () => cpuOf(minimal, protocol, bareCaller), "server"],
      ["canned server", () => cpuOf(canned, protocol, bareCaller), "server"],
      ["parley client", () => cpuOf(canned, protocol, parleyCaller), "client"],
      ["minimal client", () => cpuOf(canned, protocol, minimalCaller), "client"],
      ["bare fetch client", () => cpuOf(canned, protocol, bareCaller), "client"],
    ];
    // A B C, then C B A: no side always goes first.
    if (round % 2 === 0) steps.reverse();
    for (const [name, step, side] of steps) {
      const cpu = await step();
      const other = side === "server" ? cpu.client : cpu.server;
      report.record(`${protocol} ${name} (µs)`, cpu[side]);
      report.record(`ratio ${protocol} ${name} ÷ the bare other end's CPU`, cpu[side] / other);
    }
    console.error(`round ${round} ${protocol} done`);
  }
}
report.print(
  `CPU per call over HTTP/1.1, ${IN_FLIGHT} in flight, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
