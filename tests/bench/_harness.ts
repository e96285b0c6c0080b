/**
 * What the socket benchmarks share: their settings, starting a server mode
 * of `_server.ts` in a process of its own, and driving calls with a fixed
 * number in flight.
 *
 * @module
 */

/** Seconds per measurement (`BENCH_SECONDS`, 1 by default). */
export const SECONDS: number = Number(Deno.env.get("BENCH_SECONDS") ?? "1");
/** Alternating rounds (`BENCH_ROUNDS`, 3 by default). */
export const ROUNDS: number = Number(Deno.env.get("BENCH_ROUNDS") ?? "3");
/** A bound on the calls of one measurement, whatever the time. */
export const MAX_CALLS = 5_000_000;

/** A benchmark server process. */
export interface BenchServer {
  /** The port it listens on. */
  readonly port: number;
  /** Its process id (for its CPU time, from `/proc`). */
  readonly pid: number;
  /** Stops it (SIGTERM) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts `_server.ts` (or another script) in `mode` and waits for its
 * `listening PORT` line.
 *
 * @param mode a mode of `_server.ts`, such as `"raw"`
 * @param script the server's script, when not `_server.ts`
 * @returns the running server
 */
export async function startServer(
  mode: string,
  script: URL = new URL("./_server.ts", import.meta.url),
): Promise<BenchServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      script.pathname,
      mode,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`bench server ${mode} exited before listening`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const port = Number(text.trim().split(" ")[1]);
  return {
    port,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/**
 * Keeps `depth` calls in flight until the time or the call budget is spent.
 *
 * @param depth calls in flight
 * @param call makes one call
 * @param seconds how long, `BENCH_SECONDS` by default
 * @returns calls per second
 */
export async function drive(
  depth: number,
  call: () => Promise<unknown>,
  seconds: number = SECONDS,
): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  // The clock is read every 16 calls: reading it per call costs a visible
  // share of the fastest baseline.
  const lane = async () => {
    for (let i = 0; done < MAX_CALLS && (i % 16 !== 0 || performance.now() < deadline); i++) {
      await call();
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: depth }, lane));
  return done / ((performance.now() - start) / 1000);
}

/**
 * Runs one of the Node benchmark references (`tests/interop/node/*_bench.mjs`,
 * installed by `nodePeers()`) with `depth` calls in flight for
 * `BENCH_SECONDS`, and returns its calls per second.
 *
 * @param script the script's path in the installed peers' directory
 * @param depth calls in flight
 * @param args further arguments (`--proto-dir DIR`, `--thrift-dir DIR`)
 * @returns calls per second
 */
export async function runNodeBench(
  script: string,
  depth: number,
  args: readonly string[],
): Promise<number> {
  const output = await new Deno.Command("node", {
    args: [
      script,
      "--in-flight",
      String(depth),
      "--seconds",
      String(SECONDS),
      "--max-calls",
      String(MAX_CALLS),
      ...args,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`${script} failed (exit ${output.code})`);
  return JSON.parse(new TextDecoder().decode(output.stdout).trim()).callsPerSecond;
}
