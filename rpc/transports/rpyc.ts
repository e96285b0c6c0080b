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
import { classic, type RpycClassic } from "../../protocols/rpyc/classic.ts";
import type { SocketAddress } from "./_addresses.ts";
import { connByteStream } from "./_conn.ts";
import { dialSocket } from "./_connect.ts";

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
  const conn = await dialSocket(address, options.connectTimeout ?? 10_000);
  return await openRpyc<T>(connByteStream(conn), options);
}

/**
 * Connects to a classic RPyC server (`rpyc_classic`, `SlaveService`) with
 * the classic helpers: `conn.modules.os.getcwd()`, `conn.eval("1+1")`,
 * `conn.execute("x = 1")`, `conn.namespace`, `conn.builtins`. This is remote
 * code execution by design: only against a server you trust, which itself
 * trusts every client (see docs/rpyc.md).
 *
 * @example
 * ```ts
 * import { connectRpycClassic } from "./rpyc.ts";
 *
 * // await using conn = await connectRpycClassic({ hostname: "127.0.0.1", port: 18812 });
 * // console.log(await conn.modules.os.getcwd());
 * console.log(typeof connectRpycClassic);
 * ```
 *
 * @param address where the server listens (`transport: "tls"` or `"unix"` for those)
 * @param options limits, timeouts
 * @returns the connection with its classic helpers
 * @throws {Deno.errors.ConnectionRefused} when nothing listens there
 */
export async function connectRpycClassic(
  address: SocketAddress,
  options: OpenRpycOptions = {},
): Promise<RpycClassic> {
  return classic(await connectRpyc(address, options));
}

export { type RpycServer, serveRpyc, type ServeRpycOptions } from "./rpyc_serve.ts";
