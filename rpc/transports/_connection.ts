// A Deno connection's addresses as a `Connection`, and the per-connection
// scope a server builds with its `context` option. Deno only (Deno.Addr).

import type {
  Connection,
  ConnectionAddress,
  ConnectionScope,
  ContextFunction,
} from "../connection.ts";
import type { Codec, MessageStream } from "../types.ts";

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

/** The code of the error under id `null` that tells a refused client why (JSON-RPC's server range). */
export const CONNECTION_REFUSED = -32001;

/**
 * Tells a client whose connection the `context` refused why, as an error
 * under id `null` (a `Peer` makes it the `cause` of its
 * `ConnectionClosedError`), when the codec can carry one; then closes.
 */
export async function refuseWithReason(
  stream: MessageStream,
  codec: Codec,
  reason: unknown,
): Promise<void> {
  try {
    if (codec.features.replyToParseError) {
      const message = `Connection refused: ${(reason as Error)?.message ?? String(reason)}`;
      const writer = stream.writable.getWriter();
      await writer.write(
        codec.encode({ kind: "error", id: null, error: { code: CONNECTION_REFUSED, message } }),
      );
      await writer.close();
    }
  } catch {
    // The client is gone already.
  } finally {
    await stream.close().catch(() => {});
  }
}
