// A Deno connection's addresses as a `Connection`, and the per-connection
// scope a server builds with its `context` option. Deno only (Deno.Addr).

import type {
  Connection,
  ConnectionAddress,
  ConnectionScope,
  ContextFunction,
} from "../connection.ts";

/** A Deno address as a connection's address. */
export function addressOf(addr: Deno.Addr): ConnectionAddress {
  return addr.transport === "unix" || addr.transport === "unixpacket"
    ? { path: (addr as Deno.UnixAddr).path }
    : { hostname: (addr as Deno.NetAddr).hostname, port: (addr as Deno.NetAddr).port };
}

/** What a Deno connection tells of itself. */
export function connectionInfo(
  conn: Deno.Conn,
  transport: string,
  alpn?: string | null,
): Connection {
  return {
    transport,
    remoteAddr: addressOf(conn.remoteAddr),
    localAddr: addressOf(conn.localAddr),
    ...(alpn === undefined ? {} : { alpnProtocol: alpn }),
  };
}

/**
 * The scope of a connection: its context built by `context` when there is
 * one. Rejects with what `context` threw (the connection is then refused).
 */
export async function scopeOf(
  connection: Connection,
  context: ContextFunction | undefined,
): Promise<ConnectionScope> {
  if (context === undefined) return { connection };
  return { connection, context: await context(connection) };
}
