/**
 * A child process spoken to over stdio that is started again when it exits:
 * the reconnecting client of the stdio transport.
 *
 * @module
 */

import { ReconnectingClient, type ReconnectOptions } from "../../reconnect.ts";
import type { RetryPolicy } from "../../retry.ts";
import { spawnStdio, type SpawnStdioOptions, type StdioProcess } from "./spawn.ts";

/** Options of {@linkcode respawnStdio}. */
export interface RespawnStdioOptions extends SpawnStdioOptions {
  /**
   * The backoff between respawns, when to give up, and which calls are sent
   * again to the next child (`idempotent`).
   */
  readonly retry?: RetryPolicy;
  /** The same as `retry`, by its older name; `retry` wins where both say. */
  readonly reconnect?: ReconnectOptions;
  /** Called with each child, the first included (its pid, its stderr). */
  readonly onConnect?: (child: StdioProcess) => void;
}

/**
 * Spawns a child as {@linkcode spawnStdio} does and spawns it again, with the
 * policy's backoff, whenever it exits: calls waiting for a reply when it
 * exits fail with a `ConnectionClosedError` naming the method (its `cause`
 * tells how the child ended), unless idempotent, then they go to the next
 * child; calls made meanwhile wait for it. Closing the client stops the
 * current child as `StdioProcess.close()` does and spawns no other.
 *
 * @param command the program
 * @param options as for {@linkcode spawnStdio}, plus the policy
 * @returns the client, with its first child already started
 * @throws {Deno.errors.NotFound} when the first child cannot be started
 *
 * @example A child that exits after each call is started again
 * ```ts
 * import assert from "node:assert/strict";
 * import { respawnStdio } from "../stdio.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 * import { newline } from "../../framing/delimiter.ts";
 *
 * const script = `
 *   import { serveStdio } from "${import.meta.resolve("../stdio.ts")}";
 *   import { jsonRpc } from "${import.meta.resolve("../../../codecs/json_rpc.ts")}";
 *   import { newline } from "${import.meta.resolve("../../framing/delimiter.ts")}";
 *   serveStdio({ codec: jsonRpc(), framing: newline(), service: { pid: () => Deno.pid } });
 * `;
 * const pids: number[] = [];
 * await using client = respawnStdio(Deno.execPath(), {
 *   args: ["eval", script],
 *   codec: jsonRpc(),
 *   framing: newline(),
 *   retry: { initialDelay: 10, idempotent: ["pid"] },
 *   onConnect: (child) => pids.push(child.pid),
 * });
 * assert.equal(await client.call("pid", [], { timeout: 10_000 }), pids[0]);
 * Deno.kill(pids[0]!, "SIGKILL"); // the child dies…
 * // …an idempotent call made now reaches the next one.
 * assert.equal(await client.call("pid", [], { timeout: 10_000 }), pids[1]);
 * ```
 */
export function respawnStdio(command: string, options: RespawnStdioOptions): ReconnectingClient {
  const { retry, reconnect, onConnect, ...spawnOptions } = options;
  const spawn = () => {
    const child = spawnStdio(command, spawnOptions);
    onConnect?.(child);
    return child;
  };
  // onConnect is told here, not by ReconnectingClient, so that it gets the StdioProcess type.
  return new ReconnectingClient(
    `stdio:${command}`,
    { connect: () => Promise.resolve().then(spawn), retry: { ...reconnect, ...retry } },
    spawn(),
  );
}
