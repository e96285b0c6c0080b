/**
 * `deno task example:cluster [NATS_URL]`: one service, three worker
 * processes, behind NATS. Starts a nats-server (unless one is given), three
 * calculator workers, and a client load for a few seconds; one worker is
 * killed halfway. Prints the calls each worker completed, and the calls that
 * failed, with why.
 *
 * @module
 */

import { jsonRpc } from "../codecs/json_rpc.ts";
import { connectNats, natsClient } from "../rpc/transports/nats.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { spawnWorker } from "./cluster/spawn_worker.ts";

const SECONDS = 4;
const given = Deno.args[0];
const nats = given === undefined ? await startNatsServer() : undefined;
const url = given ?? nats!.url;
console.log(`NATS at ${url}${nats === undefined ? "" : " (started for this run)"}`);

const workers = await Promise.all(["alpha", "beta", "gamma"].map((name) => spawnWorker(url, name)));
const connection = await connectNats(url, {
  onStatus: (status) => console.log(`client: nats ${status.type}`),
});
const client = natsClient({
  connection,
  subject: "calculator",
  codec: jsonRpc(),
  timeout: 1_000,
  idempotent: ["whoami"],
});
console.log(`workers ready: ${workers.map((w) => w.name).join(", ")}`);

const completed = new Map<string, number>();
const failed = new Map<string, number>();
const started = performance.now();
let killed = false;
// 16 callers, each making `work` calls of 20 ms until the time is up.
await Promise.all(Array.from({ length: 16 }, async () => {
  while (performance.now() - started < SECONDS * 1000) {
    if (!killed && performance.now() - started > SECONDS * 500) {
      killed = true;
      console.log("killing gamma (SIGKILL) in the middle of the load");
      workers[2]!.stop("SIGKILL");
    }
    try {
      const who = await client.call<string>("work", [20]);
      completed.set(who, (completed.get(who) ?? 0) + 1);
    } catch (error) {
      const why = `${(error as Error).name}: ${(error as Error).message}`;
      failed.set(why, (failed.get(why) ?? 0) + 1);
    }
  }
}));

console.log(`\ncalls completed per worker in ${SECONDS} s:`);
for (const [who, count] of [...completed].sort()) console.log(`  ${who}: ${count}`);
console.log(`calls failed: ${[...failed.values()].reduce((a, b) => a + b, 0)}`);
for (const [why, count] of failed) console.log(`  ${count} × ${why}`);

for (const worker of workers) {
  const { out } = await worker.stop("SIGTERM");
  const drained = /drained \S+ served=(\d+)/.exec(out);
  if (drained !== null) console.log(`${worker.name} drained after serving ${drained[1]} calls`);
}
await connection.drain();
await nats?.stop();
