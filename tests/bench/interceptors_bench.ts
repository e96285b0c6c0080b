/**
 * `deno task bench`: what interceptors cost. JSON-RPC over TCP (newline
 * framing), 64 calls in flight on one connection, the same interceptors
 * on client and server (the server in a process of its own: this script,
 * run with the configuration's name), in five configurations: no `interceptors`
 * option, `interceptors: []`, one pass-through interceptor, `tracing()`
 * with no OpenTelemetry provider registered (the api's no-op), and
 * `tracing()` + `metrics()` no-op. Rounds alternate, their order rotating;
 * the ratios to "none" are what to read. The goals (issue 19): the empty
 * chain within 1 %, tracing with a no-op provider within 5 %.
 *
 * @module
 */

import process from "node:process";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import type { Interceptor } from "../../rpc/interceptors.ts";
import { metrics, tracing } from "../../rpc/otel/mod.ts";
import { connectTcp, serveTcp } from "../../rpc/transports/tcp.ts";
import { drive, ROUNDS, SECONDS, startServer } from "./_harness.ts";
import { Report } from "./_report.ts";

const CONFIGS = {
  none: () => undefined,
  "empty chain": () => [],
  "pass-through": () => [(next) => next] satisfies Interceptor[],
  "tracing no-op": () => [tracing()],
  "tracing+metrics no-op": () => [tracing(), metrics()],
} satisfies Record<string, () => Interceptor[] | undefined>;
type Config = keyof typeof CONFIGS;

const DEPTH = 64;
const service = {
  add: (a: number, b: number) => a + b,
  // The server process's CPU time so far, in µs: the bench's yardstick.
  cpu: () => cpuMicros(),
};

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

function interceptorsOf(config: Config): { interceptors?: Interceptor[] } {
  const interceptors = CONFIGS[config]();
  return interceptors === undefined ? {} : { interceptors };
}

// Run with a configuration's name, this script is that configuration's server.
if (Deno.args[0] !== undefined) {
  const config = Deno.args[0] as Config;
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service,
    ...interceptorsOf(config),
  });
  console.log(`listening ${server.address.port}`);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
} else {
  await main();
}

/** One configuration's server process and connected client. */
interface Setup {
  readonly call: () => Promise<unknown>;
  /** The server's CPU time so far, in µs. */
  readonly serverCpu: () => Promise<number>;
  close(): Promise<void>;
}

async function setUp(config: Config): Promise<Setup> {
  const server = await startServer(config, new URL(import.meta.url));
  const port = server.port;
  const client = await connectTcp({ hostname: "127.0.0.1", port }, {
    codec: jsonRpc(),
    framing: newline(),
    ...interceptorsOf(config),
  });
  let i = 0;
  return {
    call: () => client.call("add", [i & 0xffff, i++ & 0xffff]),
    serverCpu: () => client.call("cpu", []) as Promise<number>,
    async close() {
      await client.close();
      await server.stop();
    },
  };
}

// Calls per second with DEPTH in flight for `ms`, bounded in count too,
// and the CPU time both processes spent per call (µs).
async function slice(setup: Setup, ms: number): Promise<{ rate: number; cpu: number }> {
  const serverBefore = await setup.serverCpu();
  const clientBefore = cpuMicros();
  let done = 0;
  const rate = await drive(DEPTH, () => (done++, setup.call()), ms / 1000);
  const cpu = cpuMicros() - clientBefore + (await setup.serverCpu()) - serverBefore;
  return { rate, cpu: cpu / done };
}

// The VM's other load moves absolute rates by 2-3× from one second to the
// next: every configuration runs at once (its own server and client), and
// is measured in short slices taken in turn, each ratio against the slice
// of "none" of the same turn. CPU time per call (client and server
// processes) is the steadier yardstick: other programs' load takes cores
// away, not CPU time from each call.
async function main(): Promise<void> {
  const report = new Report();
  const cpu = new Report("ns");
  const names = Object.keys(CONFIGS) as Config[];
  const setups = new Map<Config, Setup>();
  for (const config of names) setups.set(config, await setUp(config));
  const slices = ROUNDS * 8;
  const ms = (SECONDS * 1000) / 8;
  for (const config of names) await slice(setups.get(config)!, ms); // warm up
  for (let round = 0; round < slices; round++) {
    // Rotate the order, so that no configuration always runs first.
    const order = names.map((_, k) => names[(k + round) % names.length]!);
    const results = new Map<Config, { rate: number; cpu: number }>();
    for (const config of order) results.set(config, await slice(setups.get(config)!, ms));
    const none = results.get("none")!;
    for (const config of names) {
      report.record(`${config}, ${DEPTH} in flight`, results.get(config)!.rate);
    }
    for (const config of names) {
      cpu.record(`${config}: CPU per call`, results.get(config)!.cpu * 1000);
    }
    for (const config of names.slice(1)) {
      const { rate, cpu: used } = results.get(config)!;
      report.record(`ratio ${config}/none (calls/s)`, rate / none.rate);
      cpu.record(`ratio ${config}/none (CPU per call)`, used / none.cpu);
    }
  }
  for (const setup of setups.values()) await setup.close();
  report.print(
    `Interceptors on JSON-RPC over TCP, client and server, ${slices} rotating slices of ${ms} ms (median)`,
  );
  cpu.print("CPU time per call, client and server processes together (median)");
}
