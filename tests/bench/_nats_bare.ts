/**
 * The ceiling of `nats_bench.ts`: nats.js's own `request()` loop, a bare
 * nats.js client against the bare responder of `_nats_echo.ts` (its own
 * process), with the same calls in flight and the same payload size as a
 * JSON-RPC `add` call. No parley on either side.
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";
import { startServer } from "./_harness.ts";
import { type Costed, costed } from "./_nats_costs.ts";

// The subject `_nats_echo.ts` answers on.
const SUBJECT = "bare-echo";

/**
 * Starts the bare responder, drives nats.js's `request()` with `depth` in
 * flight, and stops the responder.
 *
 * @param url the NATS server
 * @param brokerPid the NATS server's process, for its CPU
 * @param depth requests in flight
 * @returns requests per second, and the CPU each process spent per request
 */
export async function bareNatsRequests(
  url: string,
  brokerPid: number,
  depth: number,
): Promise<Costed> {
  // Its "listening" line says that NATS has its subscription.
  const responder = await startServer(url, new URL("./_nats_echo.ts", import.meta.url));
  const nc = await connect({ servers: url });
  // As long as a JSON-RPC `add` request: the same bytes through the broker.
  const payload = new TextEncoder().encode(
    '{"jsonrpc":"2.0","id":12345,"method":"add","params":[1234,1234]}',
  );
  for (let i = 0; i < 50; i++) await nc.request(SUBJECT, payload, { timeout: 10_000 });
  const result = await costed(
    [responder.pid],
    brokerPid,
    depth,
    () => nc.request(SUBJECT, payload, { timeout: 10_000 }),
  );
  await nc.drain();
  await responder.stop();
  return result;
}
