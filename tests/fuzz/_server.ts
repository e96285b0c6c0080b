/**
 * The calculator under fuzzing: a child process started as the interop tests
 * start it, watched for its exit (with the inputs in flight at that moment)
 * and for its memory, read from `/proc/PID/status`.
 *
 * @module
 */

import { type ListeningProcess, startCalculator } from "../interop/_process.ts";

/** The resident memory of a process, in bytes. */
export interface Memory {
  /** Resident now (VmRSS). */
  readonly rss: number;
  /** The peak since it started (VmHWM), as the kernel counts it. */
  readonly peak: number;
}

/**
 * Reads a process's resident memory from `/proc/PID/status` (Linux), through
 * `cat`: Deno lets only `--allow-all` read another process's /proc files,
 * where `--allow-run` is enough for this.
 *
 * @param pid the process
 * @returns its memory, or `undefined` when it is gone or there is no /proc
 *
 * @example
 * ```ts
 * import { memoryOf } from "./_server.ts";
 * console.log((await memoryOf(Deno.pid))?.rss);
 * ```
 */
export async function memoryOf(pid: number): Promise<Memory | undefined> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("cat", {
      args: [`/proc/${pid}/status`],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
  } catch {
    return undefined;
  }
  if (!output.success) return undefined;
  const status = new TextDecoder().decode(output.stdout);
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  const rss = kib("VmRSS");
  const peak = kib("VmHWM");
  if (!Number.isFinite(rss) || !Number.isFinite(peak)) return undefined;
  return { rss: rss * 1024, peak: peak * 1024 };
}

/** A running calculator. */
export interface FuzzServer extends AsyncDisposable {
  /** The URL of its listening line. */
  readonly url: string;
  /** Its port. */
  readonly port: number;
  /** Its process id. */
  readonly pid: number;
  /** How it exited, once it has; `undefined` while it runs. */
  exit(): Deno.CommandStatus | undefined;
  /** Resolves when it exits. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Its memory now; `undefined` once it is gone. */
  memory(): Promise<Memory | undefined>;
  /** What it last wrote to stderr: from its last uncaught error, or its last lines; no colours. */
  stderrTail(): string;
  /** Stops it (SIGTERM, then SIGKILL) and returns its exit code. */
  stop(): Promise<number>;
}

/**
 * Starts the calculator with `args` and watches it.
 *
 * @param args the calculator's flags
 * @param onExit called as soon as its exit is seen (before `stop()`'s)
 * @returns the running server
 *
 * @example
 * ```ts ignore
 * import { startServer } from "./_server.ts";
 * await using server = await startServer(["--codec", "jsonrpc"], (status) => console.log(status));
 * console.log(server.url, await server.memory());
 * ```
 */
export async function startServer(
  args: readonly string[],
  onExit: (status: Deno.CommandStatus) => void,
): Promise<FuzzServer> {
  const process: ListeningProcess = await startCalculator(...args);
  let exited: Deno.CommandStatus | undefined;
  process.child.status.then((status) => {
    exited = status;
    onExit(status);
  });
  const pid = process.child.pid;
  return {
    url: process.url,
    port: process.port,
    pid,
    exit: () => exited,
    exited: process.child.status,
    memory: () => (exited === undefined ? memoryOf(pid) : Promise.resolve(undefined)),
    stderrTail: () => tail(process.stderr()),
    stop: async () => (await process.stop()).code,
    [Symbol.asyncDispose]: async () => void (await process.stop()),
  };
}

// deno prints an uncaught error as "error: Uncaught ..." and its stack.
function tail(stderr: string): string {
  // deno-lint-ignore no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").trimEnd().split("\n");
  const error = lines.findLastIndex((line) => line.startsWith("error: "));
  return lines.slice(error >= 0 ? error : -10).slice(0, 12).join("\n");
}
