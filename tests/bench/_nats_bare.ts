/**
 * The ceiling of `nats_bench.ts`: nats.js's own `request()` loop, a bare
 * nats.js client against the bare responder of `_nats_echo.ts` (its own
 * process), with the same calls in flight and the same payload size as a
 * JSON-RPC `add` call. No parley on either side.
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";
import { drive } from "./_harness.ts";

/**
 * Starts the bare responder, drives nats.js's `request()` with `depth` in
 * flight, and stops the responder.
 *
 * @param url the NATS server
 * @param depth requests in flight
 * @returns requests per second
 */
export async function bareNatsRequests(url: string, depth: number): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      new URL("./_nats_echo.ts", import.meta.url).pathname,
      url,
      "bare-echo",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("The bare nats.js responder ended before it was ready");
    out += value;
  }
  reader.releaseLock();
  const nc = await connect({ servers: url });
  // As long as a JSON-RPC `add` request: the same bytes through the broker.
  const payload = new TextEncoder().encode(
    '{"jsonrpc":"2.0","id":12345,"method":"add","params":[1234,1234]}',
  );
  for (let i = 0; i < 50; i++) await nc.request("bare-echo", payload, { timeout: 10_000 });
  const rate = await drive(depth, () => nc.request("bare-echo", payload, { timeout: 10_000 }));
  await nc.drain();
  child.kill("SIGKILL");
  await child.status;
  await child.stdout.cancel().catch(() => {});
  return rate;
}
