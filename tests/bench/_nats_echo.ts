/**
 * The bare nats.js responder of `nats_bench.ts`'s ceiling: no parley, no
 * codec, the request's payload sent back as the reply, in a process of its
 * own (as a worker runs), on the subject `bare-echo`. Prints `listening 0`
 * (the line `startServer()` of `_harness.ts` waits for) once NATS has its
 * subscription.
 *
 * Usage: `deno run --allow-net --allow-env --allow-read tests/bench/_nats_echo.ts NATS_URL`
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";

const [url] = Deno.args;
const subject = "bare-echo";
const nc = await connect({ servers: url! });
nc.subscribe(subject, {
  queue: subject,
  // A callback, not an iterator: nats.js's fastest way to take messages.
  callback: (_error, msg) => {
    msg.respond(msg.data);
  },
});
await nc.flush();
console.log("listening 0");
await nc.closed();
