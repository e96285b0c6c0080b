/**
 * `deno task example:callbacks`: the classic RPyC demonstration. A client
 * passes a function to the server; the server calls it back, over the same
 * connection, to report progress while it works. Then a chain of calls on
 * results that have not arrived yet (promise pipelining), and the server's
 * table of references going back to zero.
 *
 * @module
 */

import { jsonRpc } from "../codecs/json_rpc.ts";
import { exposed, ObjectSession, serveObjects } from "../rpc/objects/mod.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";

/** A job the server runs for a client; it reports back as it goes. */
class Job {
  constructor(readonly name: string) {}
  /** Processes `items`, calling `progress(done, total, item)` after each. */
  @exposed
  async run(
    items: string[],
    progress: (done: number, total: number, item: string) => unknown,
  ): Promise<string> {
    for (const [i, item] of items.entries()) {
      await new Promise((resolve) => setTimeout(resolve, 100)); // the work
      await progress(i + 1, items.length, item);
    }
    return `${this.name}: ${items.length} items processed`;
  }
  /** The next job in a pipeline. */
  @exposed
  next(name: string): Job {
    return new Job(`${this.name} → ${name}`);
  }
  /** Its name. */
  @exposed
  describe(): string {
    return this.name;
  }
}

let serverSession: ObjectSession | undefined;
const root = { job: (name: string) => new Job(name) };
const server = serveTcp({ port: 0 }, {
  codec: jsonRpc(),
  framing: newline(),
  service: serveObjects(root, { onSession: (session) => serverSession = session }),
});
console.log(`server: listening on port ${server.address.port}`);

const objects = new ObjectSession();
const peer = await connectTcp(server.address, {
  codec: jsonRpc(),
  framing: newline(),
  service: objects.service,
});
objects.attach(peer);
const api = objects.root<typeof root>();

console.log("client: asking the server for a job, and passing it a callback");
const job = await api.job("resize photos");
const result = await job.run(["a.jpg", "b.jpg", "c.jpg"], (done, total, item) => {
  console.log(`client: the server called back: ${done}/${total} (${item})`);
});
console.log(`client: ${result}`);

console.log("client: three dependent calls, sent at once (pipelining)");
const started = performance.now();
const name = await api.job("fetch").next("parse").next("store").describe();
console.log(`client: ${name} (${(performance.now() - started).toFixed(1)} ms)`);

console.log(`server: exports ${serverSession?.exportCount} object(s) to this client`);
objects.release(job);
await new Promise((resolve) => setTimeout(resolve, 20));
console.log(
  `server: after the client released its job: ${serverSession?.exportCount} ` +
    "(the pipelined jobs go when the client's proxies are garbage-collected)",
);

await peer.close();
await new Promise((resolve) => setTimeout(resolve, 20));
console.log(`server: after the client disconnected: ${serverSession?.exportCount}`);
await server.shutdown();
