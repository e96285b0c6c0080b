/**
 * @grpc/grpc-js on Node as a gRPC peer (tests/interop/node/grpc_peer.mjs):
 * its client running one scenario against a server, and its server,
 * started for parley's client. Shared by the unary and the streaming
 * interop tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { GrpcServer } from "../../rpc/transports/grpc.ts";
import { CALCULATOR_PROTO_DIR, nodePeers } from "./_node.ts";
import { formatOutput, run, spawnListening } from "./_process.ts";

/**
 * Runs grpc-js's client on one scenario against `server`.
 *
 * @returns the JSON line it printed: the call's outcome
 */
export async function grpcJs(
  server: GrpcServer,
  scenario: string,
): Promise<Record<string, unknown>> {
  const dir = await nodePeers();
  const result = await run("node", {
    args: [
      `${dir}/grpc_peer.mjs`,
      "client",
      `127.0.0.1:${server.addr.port}`,
      scenario,
      "--proto-dir",
      CALCULATOR_PROTO_DIR,
    ],
    timeout: 60_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  return JSON.parse(result.stdout);
}

/** Starts grpc-js's calculator server; `await using` stops it. */
export async function startGrpcJs(): Promise<Awaited<ReturnType<typeof spawnListening>>> {
  const dir = await nodePeers();
  return spawnListening("node", {
    args: [`${dir}/grpc_peer.mjs`, "server", "--proto-dir", CALCULATOR_PROTO_DIR],
  });
}
