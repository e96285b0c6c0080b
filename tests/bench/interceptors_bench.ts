/**
 * `deno task bench`: what interceptors cost. JSON-RPC over TCP (newline
 * framing), 64 calls in flight on one connection, the same interceptors
 * on client and server (the server in a process of its own: this script,
 * run with `--server CONFIG`), in five configurations: no `interceptors`
 * option, `interceptors: []`, one pass-through interceptor, `tracing()`
 * with no OpenTelemetry provider registered (the api's no-op), and
 * `tracing()` + `metrics()` no-op. Rounds alternate, their order rotating;
 * the ratios to "none" are what to read. The goals (issue 19): the empty
 * chain within 1 %, tracing with a no-op provider within 5 %.
 *
 * @module
 */

import { jsonRpc } from "../../codecs/json_rpc.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import type { Interceptor } from "../../rpc/interceptors.ts";
import { metrics, tracing } from "../../rpc/otel/mod.ts";
import { connectTcp, serveTcp } from "../../rpc/transports/tcp.ts";
import { drive, ROUNDS, SECONDS } from "./_harness.ts";
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
const service = { add: (a: number, b: number) => a + b };

function interceptorsOf(config: Config): { interceptors?: Interceptor[] } {
  const interceptors = CONFIGS[config]();
  return interceptors === undefined ? {} : { interceptors };
}

if (Deno.args[0] === "--server") {
  const config = Deno.args[1] as Config;
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

async function measure(config: Config): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      import.meta.filename!,
      "--server",
      config,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`bench server (${config}) exited before listening`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const port = Number(text.trim().split(" ")[1]);
  const client = await connectTcp({ hostname: "127.0.0.1", port }, {
    codec: jsonRpc(),
    framing: newline(),
    ...interceptorsOf(config),
  });
  let i = 0;
  const rate = await drive(DEPTH, () => client.call("add", [i & 0xffff, i++ & 0xffff]));
  await client.close();
  child.kill("SIGTERM");
  await child.status;
  return rate;
}

async function main(): Promise<void> {
  const report = new Report();
  const names = Object.keys(CONFIGS) as Config[];
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order, so that no configuration always runs first (or warmest).
    const order = names.map((_, k) => names[(k + round) % names.length]!);
    const rates = new Map<Config, number>();
    for (const config of order) rates.set(config, await measure(config));
    const none = rates.get("none")!;
    for (const config of names) report.record(`${config}, ${DEPTH} in flight`, rates.get(config)!);
    for (const config of names.slice(1)) {
      report.record(`ratio ${config}/none`, rates.get(config)! / none);
    }
    console.error(
      `round ${round + 1}: ${names.map((n) => `${n} ${rates.get(n)!.toFixed(0)}/s`).join(", ")}`,
    );
  }
  report.print(
    `Interceptors on JSON-RPC over TCP, client and server, ${ROUNDS} rotating rounds of ${SECONDS} s (median)`,
  );
}
