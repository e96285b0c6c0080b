/**
 * Starts a real `nats-server` (Debian's package) on 127.0.0.1, for tests of
 * the NATS transport (ours and yours), its examples and the benchmark.
 *
 * @module
 */

/** A running nats-server. */
export interface NatsServerProcess extends AsyncDisposable {
  /** Its client URL, `nats://127.0.0.1:PORT`. */
  readonly url: string;
  /** Its client port. */
  readonly port: number;
  /** Its process id (the benchmark reads its CPU from /proc). */
  readonly pid: number;
  /** Stops it (SIGTERM) and waits. */
  stop(): Promise<void>;
}

/** What else a test's nats-server is started with. */
export interface NatsServerOptions {
  /**
   * More arguments, after the address and port: `--user u --pass p`,
   * `--tls --tlscert F --tlskey F`, `-c FILE` (whose own `listen` the port
   * given here overrides).
   */
  readonly args?: readonly string[];
}

/**
 * Starts nats-server and waits until it accepts clients.
 *
 * @param port the port; 0 (the default) picks a free one
 * @param options more arguments
 * @returns the running server
 * @throws {Error} when nats-server is missing or does not start within 10 s
 *
 * @example A server of its own for one test
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "./nats_server.ts";
 *
 * await using server = await startNatsServer();
 * assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
 * assert.equal(server.url, `nats://127.0.0.1:${server.port}`);
 * ```
 */
export async function startNatsServer(
  port = 0,
  options: NatsServerOptions = {},
): Promise<NatsServerProcess> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("nats-server", {
      args: ["-a", "127.0.0.1", "-p", port === 0 ? "-1" : String(port), ...(options.args ?? [])],
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(
      `cannot run nats-server (${
        (error as Error).message
      }): install it (apt-get install nats-server)`,
    );
  }
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), 10_000);
  let found: number | undefined;
  while (found === undefined) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`nats-server exited before listening:\n${log}`);
    log += value;
    const match = /Listening for client connections on [\d.]+:(\d+)/.exec(log);
    if (match !== null) found = Number(match[1]);
  }
  clearTimeout(deadline);
  // Keep reading its log, so that it never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  };
  return {
    url: `nats://127.0.0.1:${found}`,
    port: found,
    pid: child.pid,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
