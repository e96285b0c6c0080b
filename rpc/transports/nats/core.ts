/**
 * parley's own NATS client (protocols/nats/connection.ts) on Deno's
 * sockets: `connectNatsCore` is `connectNats` without nats.js, for the
 * request/reply that parley's workers and clients do, at about twice the
 * calls a worker answers. Use `connectNats` (nats.js) for JetStream,
 * key-value stores or NATS over WebSocket.
 *
 * @module
 */

import type { NatsDialer, NatsLink, ServerEntry } from "../../../protocols/nats/mod.ts";
import {
  type NatsCoreConnection,
  type NatsCoreOptions,
  openNatsCore,
} from "../../../protocols/nats/mod.ts";

// A Deno socket as the NATS client reads it: a read pending when the
// client closes the socket ends as the stream's end, not as an error.
class DenoLink implements NatsLink {
  readonly conn: Deno.Conn;
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    try {
      return await this.conn.read(buffer);
    } catch (error) {
      if (this.#closed) return null;
      throw error;
    }
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.conn.write(bytes);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Closed by the other end already.
    }
  }
}

const denoDialer: NatsDialer = {
  async connect(server: ServerEntry): Promise<NatsLink> {
    const conn = await Deno.connect({ hostname: server.hostname, port: server.port });
    conn.setNoDelay(true);
    return new DenoLink(conn);
  },
  async startTls(link, server, options): Promise<NatsLink> {
    const tls = await Deno.startTls((link as DenoLink).conn as Deno.TcpConn, {
      hostname: server.hostname,
      ...(options.caCerts === undefined ? {} : { caCerts: [...options.caCerts] }),
    });
    return new DenoLink(tls);
  },
};

/**
 * Connects to NATS with parley's own client: reconnects for ever by
 * default (every 250 ms, as `connectNats`), and reports what happens to
 * `onStatus`. What it returns fits wherever parley takes a NATS connection
 * (`serveNats`, `natsClient`).
 *
 * @param servers `nats://host:port` (or `tls://`, or `nats://user:pass@host`), or several
 * @param options credentials, TLS, reconnection, `onStatus`
 * @returns the connection
 *
 * @example A worker and a client, each on a connection of its own
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "../../../testing/nats_server.ts";
 * import { connectNatsCore, natsClient, serveNats } from "../nats.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * await using natsServer = await startNatsServer(); // Debian package nats-server
 * const workerSide = await connectNatsCore(natsServer.url, { name: "calculator worker" });
 * const clientSide = await connectNatsCore(natsServer.url);
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
export function connectNatsCore(
  servers: string | readonly string[],
  options: NatsCoreOptions = {},
): Promise<NatsCoreConnection> {
  return openNatsCore(servers, { reconnectTimeWait: 250, ...options }, denoDialer);
}
