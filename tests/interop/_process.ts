/**
 * Child processes for interop tests: start a server that prints
 * `listening URL` on stdout, stop it by its own handle, and run a client to
 * completion. Every wait is bounded by a timeout, and errors carry the
 * child's output.
 *
 * @module
 */

/** The root of the repository, for commands run from it. */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname;

/** How to start a process. */
export interface SpawnOptions {
  /** Arguments after the command. */
  readonly args?: readonly string[];
  /** Working directory; the repository root by default. */
  readonly cwd?: string;
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
  /** Milliseconds to wait (for the listening line, or for the whole run). */
  readonly timeout?: number;
}

/** What a finished process did. */
export interface RunResult {
  /** The exit code (128 + n when killed by signal n). */
  readonly code: number;
  /** The signal that ended it, if any. */
  readonly signal: Deno.Signal | null;
  /** Everything it wrote to stdout. */
  readonly stdout: string;
  /** Everything it wrote to stderr. */
  readonly stderr: string;
}

/** A server started by {@linkcode spawnListening}. */
export interface ListeningProcess extends AsyncDisposable {
  /** The child, for anything not covered here. */
  readonly child: Deno.ChildProcess;
  /** The URL of its listening line, such as `tcp://127.0.0.1:40123`. */
  readonly url: string;
  /** The host of the URL. */
  readonly hostname: string;
  /** The port of the URL. */
  readonly port: number;
  /** What it has written to stdout after the listening line, so far. */
  stdout(): string;
  /** What it has written to stderr so far. */
  stderr(): string;
  /**
   * Sends `signal` (SIGTERM by default) and waits for the exit, at most
   * `timeout` ms (then SIGKILL). Safe to call more than once.
   */
  stop(signal?: Deno.Signal, timeout?: number): Promise<RunResult>;
}

const LISTENING = /^listening (\S+)\s*$/;

/** Collects a byte stream as text in the background. */
class TextSink {
  #text = "";
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = stream.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (chunk) => void (this.#text += chunk) }),
    ).catch(() => {});
  }

  get text(): string {
    return this.#text;
  }
}

function delay(ms: number): { promise: Promise<"timeout">; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

function describe(command: string, args: readonly string[]): string {
  return [command, ...args].join(" ");
}

function killQuietly(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already exited.
  }
}

/** Waits for the child's exit, at most `timeout` ms, then kills it hard. */
async function waitExit(
  child: Deno.ChildProcess,
  timeout: number,
): Promise<{ status: Deno.CommandStatus; timedOut: boolean }> {
  const timer = delay(timeout);
  const first = await Promise.race([child.status, timer.promise]);
  timer.cancel();
  if (first !== "timeout") return { status: first, timedOut: false };
  killQuietly(child, "SIGKILL");
  return { status: await child.status, timedOut: true };
}

// A child with its own output piped, no input, and only the environment given.
function spawnPiped(command: string, options: SpawnOptions): Deno.ChildProcess {
  return new Deno.Command(command, {
    args: [...(options.args ?? [])],
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? {},
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Starts a server and waits for its `listening URL` line on stdout.
 *
 * @param command the program, such as `python3` or `Deno.execPath()`
 * @param options its arguments, and how long to wait for the line (30 s by default)
 * @returns the running server; stop it with `stop()` or `await using`
 * @throws {Error} when it exits, closes stdout or times out before the line,
 * with its stdout and stderr in the message
 */
export async function spawnListening(
  command: string,
  options: SpawnOptions = {},
): Promise<ListeningProcess> {
  const timeout = options.timeout ?? 30_000;
  const child = spawnPiped(command, options);
  const stderr = new TextSink(child.stderr);
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let before = "";
  let skipped = "";

  const readListening = async (): Promise<string | undefined> => {
    while (true) {
      const newline = before.indexOf("\n");
      if (newline >= 0) {
        const line = before.slice(0, newline);
        before = before.slice(newline + 1);
        const match = LISTENING.exec(line);
        if (match) return match[1];
        skipped += `${line}\n`;
        continue;
      }
      const { value, done } = await lines.read();
      if (done) return undefined;
      before += value;
    }
  };

  const timer = delay(timeout);
  let outcome: string | undefined | "timeout";
  try {
    outcome = await Promise.race([readListening(), timer.promise]);
  } catch {
    outcome = undefined;
  } finally {
    timer.cancel();
  }

  if (outcome === undefined || outcome === "timeout") {
    killQuietly(child, "SIGKILL");
    await lines.cancel().catch(() => {});
    const { status } = await waitExit(child, 5_000);
    await stderr.done;
    const why = outcome === "timeout"
      ? `printed no "listening URL" line within ${timeout} ms`
      : `exited (code ${status.code}${
        status.signal ? `, signal ${status.signal}` : ""
      }) before printing "listening URL"`;
    throw new Error(
      `${
        describe(command, options.args ?? [])
      } ${why}\n--- stdout ---\n${skipped}${before}\n--- stderr ---\n${stderr.text}`,
    );
  }

  // Keep draining stdout so that the child never blocks on a full pipe.
  let rest = before;
  const stdoutDone = (async () => {
    try {
      while (true) {
        const { value, done } = await lines.read();
        if (done) return;
        rest += value;
      }
    } catch {
      // The stream broke: the child is gone.
    }
  })();

  const url = outcome;
  const parsed = new URL(url);
  let stopped: Promise<RunResult> | undefined;
  const stop = (signal: Deno.Signal = "SIGTERM", wait = 10_000): Promise<RunResult> => {
    stopped ??= (async () => {
      killQuietly(child, signal);
      const { status } = await waitExit(child, wait);
      await Promise.all([stdoutDone, stderr.done]);
      return { code: status.code, signal: status.signal, stdout: rest, stderr: stderr.text };
    })();
    return stopped;
  };

  return {
    child,
    url,
    hostname: parsed.hostname,
    port: Number(parsed.port),
    stdout: () => rest,
    stderr: () => stderr.text,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/**
 * Runs a process to completion, at most `timeout` ms (60 s by default; then
 * it is killed and this throws).
 *
 * @param command the program
 * @param options its arguments, working directory and timeout
 * @returns its exit code and output
 * @throws {Error} when it does not finish in time, with its output so far
 */
export async function run(command: string, options: SpawnOptions = {}): Promise<RunResult> {
  const timeout = options.timeout ?? 60_000;
  const child = spawnPiped(command, options);
  const stdout = new TextSink(child.stdout);
  const stderr = new TextSink(child.stderr);
  const { status, timedOut } = await waitExit(child, timeout);
  await Promise.all([stdout.done, stderr.done]);
  if (timedOut) {
    throw new Error(
      `${
        describe(command, options.args ?? [])
      } did not finish within ${timeout} ms\n--- stdout ---\n${stdout.text}\n--- stderr ---\n${stderr.text}`,
    );
  }
  return { code: status.code, signal: status.signal, stdout: stdout.text, stderr: stderr.text };
}

/**
 * Formats a finished process's output for an assertion message.
 *
 * @param result what {@linkcode run} or `stop()` returned
 * @returns the exit code, stdout and stderr, labelled
 */
export function formatOutput(result: RunResult): string {
  return `exit code ${result.code}${
    result.signal ? ` (signal ${result.signal})` : ""
  }\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/**
 * The Python with Debian's modules (python3-msgpack, -protobuf, -websockets):
 * `/usr/bin/python3`, which a pyenv `python3` on the PATH may shadow; else
 * `python3`.
 */
export const DEBIAN_PYTHON: string = (() => {
  try {
    Deno.statSync("/usr/bin/python3");
    return "/usr/bin/python3";
  } catch {
    return "python3";
  }
})();

/**
 * Starts the example calculator (`examples/calculator.ts`) on a free port
 * with the given options (`--codec`, `--transport`, `--framing`, ...) and
 * waits for its listening line; the first start may type-check and load
 * npm packages, hence the long wait.
 *
 * @param args the calculator's options
 * @returns the running calculator
 */
export function startCalculator(...args: string[]): Promise<ListeningProcess> {
  return spawnListening(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--allow-write", // unix sockets
      "examples/calculator.ts",
      "--port",
      "0",
      ...args,
    ],
    timeout: 60_000,
  });
}
