/**
 * An RPyC client for Deno: `connectRpyc` reaches a Python RPyC server
 * (`ThreadedServer`, `rpyc_classic`) over TCP, TLS or a Unix socket and
 * gives its root object as a proxy. See docs/rpyc.md.
 *
 * @example Against nothing: the connection is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectRpyc } from "./rpyc.ts";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = listener.addr.port;
 * listener.close();
 * await assert.rejects(connectRpyc({ hostname: "127.0.0.1", port }), Deno.errors.ConnectionRefused);
 * ```
 *
 * @module
 */

import {
  openRpyc,
  type OpenRpycOptions,
  type RpycConnection,
} from "../../protocols/rpyc/connection.ts";
import type { RemoteObject } from "../../protocols/rpyc/proxy.ts";
import { type SocketAddress, urlOfAddress } from "./_addresses.ts";
import { connByteStream, noDelay } from "./_conn.ts";
import { connectTls } from "./tls.ts";

export * from "../../protocols/rpyc/mod.ts";

/**
 * Connects to a Python RPyC server and fetches its root.
 *
 * @example
 * ```ts
 * import { connectRpyc } from "./rpyc.ts";
 *
 * // const conn = await connectRpyc({ hostname: "127.0.0.1", port: 18861 });
 * // console.log(await conn.root.get_service_name());
 * console.log(typeof connectRpyc);
 * ```
 *
 * @typeParam T the root's type, such as `Remote<MyService>`
 * @param address where the server listens (`transport: "tls"` or `"unix"` for those)
 * @param options limits, timeouts (`connectTimeout` bounds fetching the root)
 * @returns the connection, `root` its service's root object
 * @throws {Deno.errors.ConnectionRefused} when nothing listens there
 * @throws {Deno.errors.TimedOut} when connecting takes longer than `connectTimeout`
 * (which then bounds fetching the root as well)
 */
export async function connectRpyc<T = RemoteObject>(
  address: SocketAddress,
  options: OpenRpycOptions = {},
): Promise<RpycConnection<T>> {
  const connectTimeout = options.connectTimeout ?? 10_000;
  const connecting: Promise<Deno.Conn> = address.transport === "unix"
    ? Deno.connect({ transport: "unix", path: address.path })
    : address.transport === "tls"
    ? connectTls(address)
    : Deno.connect({ hostname: address.hostname ?? "127.0.0.1", port: address.port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Deno.errors.TimedOut(
            `Connecting to ${urlOfAddress(address)} timed out after ${connectTimeout} ms`,
          ),
        ),
      connectTimeout,
    );
  });
  let conn: Deno.Conn;
  try {
    conn = await Promise.race([connecting, timedOut]);
  } catch (error) {
    // A connection that succeeds after we gave up must not leak.
    connecting.then((late) => late.close(), () => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
  noDelay(conn);
  return await openRpyc<T>(connByteStream(conn), options);
}
