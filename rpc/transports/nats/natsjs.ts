/**
 * A NATS connection from the official client, nats.js
 * (`@nats-io/transport-node`): `connectNats`, for what parley's own client
 * (core.ts) does not do: JetStream, key-value stores, NATS over WebSocket.
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";
import type { NatsConnectionLike } from "./_wire.ts";

/**
 * Options of {@linkcode connectNats}: any option of the NATS client
 * (`name`, `user`/`pass`, `token`, `authenticator`, `tls`, reconnection
 * settings), and `onStatus`.
 */
export interface ConnectNatsOptions {
  /** Told about disconnections, reconnections and errors of the connection to NATS. */
  readonly onStatus?: (status: { type: string; data?: unknown }) => void;
  /** The connection's name, as NATS monitoring shows it. */
  readonly name?: string;
  /** Any other option of the NATS client, passed through. */
  readonly [option: string]: unknown;
}

/**
 * Connects to NATS (one server, or several of a cluster): reconnects for
 * ever by default, and reports what happens to `onStatus`. For production,
 * pass credentials (`authenticator`, `user`/`pass`, `token`) and `tls`
 * options as the NATS client takes them.
 *
 * @param servers `nats://host:port`, or several
 * @param options the NATS client's options, and `onStatus`
 * @returns the connection
 *
 * @example A worker's connection and a client's, as two processes would have
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "../../../testing/nats_server.ts";
 * import { connectNats, natsClient, serveNats } from "../nats.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * await using natsServer = await startNatsServer(); // Debian package nats-server
 * const workerSide = await connectNats(natsServer.url, {
 *   name: "calculator worker", // as NATS monitoring shows it
 *   onStatus: (status) => console.warn(`NATS: ${status.type}`), // disconnected, reconnected…
 *   waitOnFirstConnect: true, // a NATS client option: keep trying if NATS is not up yet
 * });
 * const clientSide = await connectNats(natsServer.url);
 * const worker = serveNats({
 *   connection: workerSide,
 *   subject: "calculator",
 *   codec: jsonRpc(),
 *   service: { add: (a: number, b: number) => a + b },
 * });
 * await worker.ready;
 * const client = natsClient({ connection: clientSide, subject: "calculator", codec: jsonRpc() });
 * assert.equal(await client.call("add", [40, 2]), 42);
 * await worker.drain();
 * await Promise.all([workerSide.drain(), clientSide.drain()]);
 * ```
 */
export async function connectNats(
  servers: string | string[],
  options: ConnectNatsOptions = {},
): Promise<NatsConnectionLike> {
  const { onStatus, ...rest } = options;
  const nc = await connect({ maxReconnectAttempts: -1, reconnectTimeWait: 250, ...rest, servers });
  if (onStatus !== undefined) {
    (async () => {
      for await (const status of nc.status()) {
        onStatus({ type: status.type, data: (status as { data?: unknown }).data });
      }
    })().catch(() => {});
  }
  return nc as unknown as NatsConnectionLike;
}
