/**
 * The servers a NATS client may connect to: those it was given, and those
 * the cluster tells of in `INFO`'s `connect_urls`; which to try next, and
 * how long to wait before trying one again.
 *
 * @module
 */

/** One server the client may connect to. */
export interface ServerEntry {
  /** Host name or address, as dialled and as TLS checks it. */
  readonly hostname: string;
  /** Its client port. */
  readonly port: number;
  /** Whether the address said TLS (`tls://`). */
  readonly tls: boolean;
  /** Whether the cluster told of it (rather than the caller). */
  readonly discovered: boolean;
  /** Failed attempts since it was last connected. */
  failures: number;
  /** When it was last tried (epoch ms). */
  lastAttempt: number;
  /** User and password from the address (`nats://user:pass@host`). */
  readonly user?: string;
  /** The password (a user without one is a token). */
  readonly pass?: string;
}

/**
 * Reads `nats://host:port`, `tls://host:port`, `host:port` or `host`
 * (port 4222 by default).
 *
 * @param address the address
 * @param discovered whether the cluster told of it
 * @returns the entry
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseServer } from "./_servers.ts";
 *
 * const server = parseServer("tls://alice:secret@nats.example:4443");
 * assert.deepEqual([server.hostname, server.port, server.tls, server.user], ["nats.example", 4443, true, "alice"]);
 * assert.equal(parseServer("127.0.0.1").port, 4222);
 * ```
 */
export function parseServer(address: string, discovered = false): ServerEntry {
  const withScheme = /^[a-z]+:\/\//i.test(address) ? address : `nats://${address}`;
  const url = new URL(withScheme);
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme !== "nats" && scheme !== "tls") {
    throw new TypeError(`Not a NATS address: ${address} (nats:// or tls://)`);
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (hostname === "") throw new TypeError(`A NATS address without a host: ${address}`);
  return {
    hostname,
    port: url.port === "" ? 4222 : Number(url.port),
    tls: scheme === "tls",
    discovered,
    failures: 0,
    lastAttempt: 0,
    ...(url.username === "" ? {} : { user: decodeURIComponent(url.username) }),
    ...(url.password === "" ? {} : { pass: decodeURIComponent(url.password) }),
  };
}

/**
 * The servers, in the order they are tried.
 *
 * @example Servers told of by the cluster join the list once
 * ```ts
 * import assert from "node:assert/strict";
 * import { Servers } from "./_servers.ts";
 *
 * const servers = new Servers(["nats://127.0.0.1:4222"], false);
 * servers.discover(["127.0.0.1:4223", "127.0.0.1:4222"]);
 * assert.deepEqual(servers.list.map((s) => s.port), [4222, 4223]);
 * ```
 */
export class Servers {
  /** Every server known. */
  readonly list: ServerEntry[];
  #next = 0;

  /**
   * Creates the list.
   *
   * @param addresses the servers given
   * @param randomize whether to shuffle them
   */
  constructor(addresses: readonly string[], randomize: boolean) {
    if (addresses.length === 0) throw new TypeError("No NATS server to connect to");
    this.list = addresses.map((address) => parseServer(address));
    if (randomize) {
      for (let i = this.list.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [this.list[i], this.list[j]] = [this.list[j]!, this.list[i]!];
      }
    }
  }

  /**
   * Adds the servers a cluster tells of (`INFO`'s `connect_urls`).
   *
   * @param urls `host:port` of each
   * @returns whether any was new
   */
  discover(urls: readonly unknown[]): boolean {
    const before = this.list.length;
    for (const address of urls) {
      if (typeof address !== "string") continue;
      let entry: ServerEntry;
      try {
        entry = parseServer(address, true);
      } catch {
        continue; // an address the cluster got wrong: not one to dial
      }
      const known = this.list.some((s) => s.hostname === entry.hostname && s.port === entry.port);
      if (!known) this.list.push(entry);
    }
    return this.list.length > before;
  }

  /**
   * The next server to try, round the list; none when every one has failed
   * `maxAttempts` times in a row (-1: never give up).
   *
   * @param maxAttempts the attempts each server gets
   * @returns the server, or undefined
   */
  next(maxAttempts: number): ServerEntry | undefined {
    for (let tried = 0; tried < this.list.length; tried++) {
      const server = this.list[this.#next++ % this.list.length]!;
      if (maxAttempts < 0 || server.failures < maxAttempts) return server;
    }
    return undefined;
  }
}
