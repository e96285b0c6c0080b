/**
 * Starts a calculator worker (`worker.ts`) in a process of its own and waits
 * until it serves: what the cluster example, its tests and the benchmark
 * share.
 *
 * @module
 */

/** A worker process. */
export interface WorkerProcess {
  /** The worker's name. */
  readonly name: string;
  /** The child process. */
  readonly child: Deno.ChildProcess;
  /** Everything it printed, once it has exited. */
  output(): Promise<string>;
  /** Sends `signal` (SIGTERM: it drains) and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<{ status: Deno.CommandStatus; out: string }>;
}

/**
 * Starts a worker and waits for its `ready NAME` line.
 *
 * @param url the NATS server
 * @param name the worker's name
 * @param extra further arguments (`--slow MS`)
 * @returns the running worker
 */
export async function spawnWorker(
  url: string,
  name: string,
  ...extra: string[]
): Promise<WorkerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      new URL("./worker.ts", import.meta.url).pathname,
      url,
      name,
      ...extra,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes(`ready ${name}`)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`worker ${name} exited before it was ready: ${out}`);
    out += value;
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return out;
      out += value;
    }
  })();
  return {
    name,
    child,
    output: () => rest,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      const status = await child.status;
      await rest;
      return { status, out };
    },
  };
}
