/**
 * What the tests of parley's own NATS client (tests/nats_core_*_test.ts)
 * share: waiting for a condition within a bound, a free port, and a status
 * log.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { NatsStatus } from "../rpc/transports/nats.ts";

/**
 * Waits until `condition` holds, at most `ms` milliseconds.
 *
 * @param condition what to wait for
 * @param what named in the failure
 * @param ms the bound
 */
export async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), `${what}: not within ${ms} ms`);
}

/**
 * A port nothing listens on now (taken from the system, then let go).
 *
 * @returns the port
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The statuses a connection reported, for its `onStatus`. */
export class StatusLog {
  /** Every status, in order. */
  readonly seen: NatsStatus[] = [];
  /** The listener to pass as `onStatus`. */
  readonly onStatus = (status: NatsStatus): void => {
    this.seen.push(status);
  };

  /** The types seen, in order. */
  get types(): string[] {
    return this.seen.map((status) => status.type);
  }

  /**
   * Waits until a status of `type` has been seen `count` times.
   *
   * @param type the status's type
   * @param count how many
   */
  async waitFor(type: string, count = 1): Promise<void> {
    await until(
      () => this.types.filter((t) => t === type).length >= count,
      `status ${type} x${count} (seen: ${this.types})`,
    );
  }
}
