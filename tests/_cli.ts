/**
 * The parley command line run as a user runs it (`deno run … cli/main.ts`),
 * for the CLI tests.
 *
 * @example
 * ```ts
 * import { ok, parley } from "./_cli.ts";
 *
 * console.log(ok(await parley("help")));
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import { formatOutput, run, type RunResult } from "./interop/_process.ts";

/** `deno run`'s arguments for the CLI: the permissions `deno task rpc` gives it. */
export const CLI: readonly string[] = [
  "run",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "cli/main.ts",
];

/**
 * Runs `parley ARGS...` to completion (at most a minute).
 *
 * @param args the command and its arguments
 * @returns its exit code and output
 */
export function parley(...args: string[]): Promise<RunResult> {
  return run(Deno.execPath(), { args: [...CLI, ...args], timeout: 60_000 });
}

/**
 * The stdout of a command that must have succeeded.
 *
 * @param result what {@linkcode parley} returned
 * @returns its stdout
 */
export function ok(result: RunResult): string {
  assert.equal(result.code, 0, formatOutput(result));
  return result.stdout;
}
