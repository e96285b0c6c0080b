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
