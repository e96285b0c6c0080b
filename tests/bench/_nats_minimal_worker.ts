/**
 * A prototype for `nats_bench.ts`: parley's answer path
 * (`createDirectResponder`, the calculator of `examples/cluster/worker.ts`)
 * on the minimal NATS reader of `_nats_minimal.ts` instead of nats.js. What
 * a worker could cost with a NATS client of parley's own; not a product (no
 * reconnection, no deadline read from the headers, no TLS).
 *
 * Usage: `deno run --allow-net tests/bench/_nats_minimal_worker.ts NATS_URL`
 * (prints `listening 0` once NATS has its subscription).
 *
 * @module
 */

import { jsonRpc } from "../../codecs/json_rpc.ts";
import { createDirectResponder } from "../../rpc/responder.ts";
import { createCalculator } from "../../examples/calculator/service.ts";
import { startServer } from "./_harness.ts";
import { open } from "./_nats_minimal.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Starts the prototype worker on the subject `calculator`.
 *
 * @param url the NATS server
 * @returns the running worker
 */
export function startMinimalWorker(url: string): ReturnType<typeof startServer> {
  return startServer(url, new URL(import.meta.url));
}

if (import.meta.main) {
  const respond = createDirectResponder({
    codec: jsonRpc(),
    service: createCalculator({ int64: "safe" }),
  });
  const send = (reply: string, frame: unknown) => {
    if (typeof frame === "string") publish(reply, undefined, encoder.encode(frame));
  };
  const { publish } = await open(Deno.args[0]!, (_subject, reply, payload) => {
    const answer = respond(decoder.decode(payload));
    if (reply === undefined) return;
    if (answer instanceof Promise) answer.then((frame) => send(reply, frame), () => {});
    else send(reply, answer);
  }, "SUB calculator calculator 1");
  console.log("listening 0");
}
