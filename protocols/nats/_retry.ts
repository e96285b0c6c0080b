/**
 * Reconnection: the servers tried in turn, each at most every
 * `reconnectTimeWait` ms (plus up to `reconnectJitter` at random, so that a
 * cluster's clients do not all come back at once), until one accepts or
 * every server has failed `maxReconnectAttempts` times in a row.
 *
 * @module
 */

import type { Accepted } from "./_handshake.ts";
import type { ResolvedOptions } from "./_options.ts";
import type { ServerEntry, Servers } from "./_servers.ts";

/**
 * The reconnection loop of one connection.
 *
 * @example No server left to try
 * ```ts
 * import assert from "node:assert/strict";
 * import { Retry } from "./_retry.ts";
 * import { Servers } from "./_servers.ts";
 * import { resolveOptions } from "./_options.ts";
 *
 * const servers = new Servers(["nats://127.0.0.1:1"], false);
 * const retry = new Retry(servers, resolveOptions({ maxReconnectAttempts: 2, reconnectTimeWait: 1 }));
 * const refuse = () => Promise.reject(new Error("refused"));
 * assert.equal(await retry.run(refuse, () => {}), undefined);
 * assert.equal(servers.list[0]!.failures, 2);
 * ```
 */
export class Retry {
  readonly #servers: Servers;
  readonly #resolved: ResolvedOptions;
  #wait: { timer: ReturnType<typeof setTimeout>; resolve(): void } | undefined;
  #stopped = false;

  /**
   * Creates the loop.
   *
   * @param servers the servers to try
   * @param resolved the options that pace it
   */
  constructor(servers: Servers, resolved: ResolvedOptions) {
    this.#servers = servers;
    this.#resolved = resolved;
  }

  /**
   * Tries the servers until one accepts.
   *
   * @param attempt connects to one server
   * @param report told of each attempt and each failure
   * @returns the accepted connection; undefined when stopped or every server gave out
   */
  async run(
    attempt: (server: ServerEntry) => Promise<Accepted>,
    report: (type: string, data?: unknown) => void,
  ): Promise<Accepted | undefined> {
    const { maxReconnectAttempts, reconnectTimeWait, reconnectJitter } = this.#resolved;
    while (!this.#stopped) {
      const server = this.#servers.next(maxReconnectAttempts);
      if (server === undefined) return undefined;
      const jitter = Math.random() * reconnectJitter;
      const wait = server.lastAttempt + reconnectTimeWait + jitter - Date.now();
      if (wait > 0) await this.#sleep(wait);
      if (this.#stopped) return undefined;
      server.lastAttempt = Date.now();
      report("reconnecting", `${server.hostname}:${server.port}`);
      try {
        return await attempt(server);
      } catch (error) {
        if (this.#stopped) return undefined; // given up by the stop itself: nothing to tell
        server.failures++;
        report("error", error);
      }
    }
    return undefined;
  }

  /**
   * The first connection: each server tried once, in order.
   *
   * @param attempt connects to one server
   * @returns the first that accepts
   * @throws {Error} the last failure, when none accepts
   */
  async first(attempt: (server: ServerEntry) => Promise<Accepted>): Promise<Accepted> {
    let last: unknown = new Error("No NATS server answered");
    for (const server of [...this.#servers.list]) {
      try {
        return await attempt(server);
      } catch (error) {
        server.failures++;
        server.lastAttempt = Date.now();
        last = error;
      }
    }
    throw last;
  }

  /** Stops the loop: a wait under way ends at once. */
  stop(): void {
    this.#stopped = true;
    if (this.#wait === undefined) return;
    clearTimeout(this.#wait.timer);
    this.#wait.resolve();
    this.#wait = undefined;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wait = undefined;
        resolve();
      }, ms);
      this.#wait = { timer, resolve };
    });
  }
}
