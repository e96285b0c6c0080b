/**
 * One calculator worker of the cluster example: serves the calculator on
 * the NATS subject `calculator` in its queue group, until SIGTERM, when it
 * drains (finishes the calls it took, takes no more) and prints how many
 * calls it served.
 *
 * Usage: `deno run --allow-net --allow-env --allow-read examples/cluster/worker.ts NATS_URL NAME [--slow MS] [--nats-js]`
 *
 * It connects with parley's own NATS client (`connectNatsCore`); `--nats-js`
 * connects with nats.js instead (`connectNats`), as the benchmark compares.
 *
 * @module
 */

import { jsonRpc } from "../../codecs/json_rpc.ts";
import { connectNats, connectNatsCore, serveNats } from "../../rpc/transports/nats.ts";
import { combineServices, withContext } from "../../mod.ts";
import { createCalculator } from "../calculator/service.ts";

const [url, name = "worker", ...flags] = Deno.args;
if (url === undefined) {
  console.error("usage: worker.ts NATS_URL NAME [--slow MS] [--nats-js]");
  Deno.exit(2);
}
const slowAt = flags.indexOf("--slow");
const slow = slowAt === -1 ? 0 : Number(flags[slowAt + 1]);
const options = {
  name,
  onStatus: (status: { type: string }) => console.error(`${name}: nats ${status.type}`),
};
const connection = flags.includes("--nats-js")
  ? await connectNats(url, options)
  : await connectNatsCore(url, options);
// `work(ms)` takes that long (honouring the caller's deadline), and says who did it.
const extra = {
  work: withContext(async (ctx, ms: number) => {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms + slow);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
    return name;
  }),
  whoami: () => name,
  // CPU-bound work: keeps this process busy for `ms`.
  spin: (ms: number) => {
    const end = performance.now() + Math.min(ms, 1000);
    while (performance.now() < end) { /* busy */ }
    return name;
  },
};
const worker = serveNats({
  connection,
  subject: "calculator",
  codec: jsonRpc(),
  service: combineServices(extra, createCalculator({ int64: "safe" })),
});
// Ready once NATS has the subscription: calls from now on may come here.
await worker.ready;
console.log(`ready ${name}`);
const stop = async () => {
  await worker.drain();
  console.log(`drained ${name} served=${worker.served}`);
  await connection.drain();
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
