/**
 * parley's own NATS client, Web-standard: {@linkcode openNatsCore} with a
 * dialer of the runtime's sockets (`connectNatsCore` of `@parley/rpc/nats`
 * brings Deno's), and everything a caller meets in its API.
 *
 * @module
 */

import type { NatsDialer } from "./_handshake.ts";
import type { NatsCoreOptions } from "./_options.ts";
import { NatsCoreConnection } from "./connection.ts";

export { NatsCoreConnection } from "./connection.ts";
export { NatsCoreMessage, NatsHeaders } from "./_message.ts";
export { NatsCoreSubscription, type NatsSubscribeOptions } from "./_subscription.ts";
export type {
  NatsAuthenticator,
  NatsCoreOptions,
  NatsPublishOptions,
  NatsServerInfo,
  NatsStats,
  NatsStatus,
} from "./_options.ts";
export type { NatsDialer, NatsLink } from "./_handshake.ts";
export type { ServerEntry } from "./_servers.ts";
export { NatsProtocolError } from "./_parser.ts";

/**
 * Opens a connection with the given dialer.
 *
 * @param servers the servers' addresses
 * @param options the options
 * @param dialer how sockets are opened
 * @returns the connection, connected
 *
 * @example A dialer of Deno's sockets (a `Deno.Conn` is a `NatsLink`)
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "../../testing/nats_server.ts";
 * import { type NatsDialer, openNatsCore } from "./mod.ts";
 *
 * await using natsServer = await startNatsServer(); // Debian package nats-server
 * const dialer: NatsDialer = {
 *   connect: ({ hostname, port }) => Deno.connect({ hostname, port }),
 *   startTls: () => Promise.reject(new Error("no TLS in this example")),
 * };
 * const nc = await openNatsCore(natsServer.url, { name: "example" }, dialer);
 * const greetings = nc.subscribe("greetings", { max: 1 });
 * nc.publish("greetings", "hello");
 * for await (const msg of greetings) assert.equal(msg.text(), "hello");
 * await nc.drain();
 * ```
 */
export async function openNatsCore(
  servers: string | readonly string[],
  options: NatsCoreOptions,
  dialer: NatsDialer,
): Promise<NatsCoreConnection> {
  const connection = new NatsCoreConnection(
    typeof servers === "string" ? [servers] : servers,
    options,
    dialer,
  );
  await connection.start();
  return connection;
}
