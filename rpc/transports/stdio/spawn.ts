/**
 * Spawning a child process and talking to it over its stdin and stdout.
 *
 * @module
 */

import { framedStream } from "../../framed.ts";
import { resolveLimits } from "../../limits.ts";
import { Peer, type PeerOptions } from "../../peer.ts";
import type { Service } from "../../service.ts";
import type { ByteStream, MessageStream } from "../../types.ts";
import type { StdioPeerOptions } from "./serve.ts";
import { closeQuietly, drain, type Pump, pump, Tail, within } from "./_streams.ts";

/** Options of {@linkcode spawnStdio}. */
export interface SpawnStdioOptions extends StdioPeerOptions {
  /** Arguments after the command. */
  readonly args?: readonly string[];
  /** The child's working directory; this process's by default. */
  readonly cwd?: string | URL;
  /** Environment variables to set, on top of this process's unless `clearEnv`. */
  readonly env?: Record<string, string>;
  /** Start from an empty environment (only `env`). */
  readonly clearEnv?: boolean;
  /**
   * The child's stderr: `"inherit"` passes it through to this process's
   * stderr; `"piped"` captures its last `maxStderrSize` bytes, read with
   * {@linkcode StdioProcess.stderr} and added to the error when the child
   * exits; `"null"` discards it.
   *
   * @default {"inherit"}
   */
  readonly stderr?: "inherit" | "piped" | "null";
  /**
   * How many bytes of captured stderr to keep (the last ones), so that a
   * chatty child cannot grow memory.
   *
   * @default {65536}
   */
  readonly maxStderrSize?: number;
  /**
   * Milliseconds to wait for each step of stopping the child: after its
   * stdin is closed, for it to exit; then after SIGTERM, before SIGKILL.
   * Also how long an exit may lag behind the end of its stdout.
   *
   * @default {2000}
   */
  readonly gracePeriod?: number;
  /** What this end serves to the child (a language server calls its client). */
  readonly service?: Service;
}

/**
 * Why a child's connection ended: it exited (or was killed). The `cause` of
 * the `ConnectionClosedError` of the calls it left pending. Its message
 * quotes the end of the captured stderr (the last 2000 characters); `stderr`
 * holds all that was kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessExitError } from "../stdio.ts";
 * const error = new ProcessExitError("python3", { success: false, code: 3, signal: null }, "boom\n");
 * assert.equal(error.message, 'Process "python3" exited with code 3; stderr:\nboom\n');
 * assert.equal(error.code, 3);
 * ```
 */
export class ProcessExitError extends Error {
  /** The command that was spawned. */
  readonly command: string;
  /** The exit code (128 + n when killed by signal n). */
  readonly code: number;
  /** The signal that ended it, if any. */
  readonly signal: Deno.Signal | null;
  /** The last of what it wrote to stderr, when captured (`stderr: "piped"`). */
  readonly stderr: string | undefined;

  /**
   * Creates the error.
   *
   * @param command the command that was spawned
   * @param status how it ended
   * @param stderr the captured tail of its stderr, if any
   */
  constructor(command: string, status: Deno.CommandStatus, stderr?: string) {
    const how = status.signal === null
      ? `exited with code ${status.code}`
      : `was killed by ${status.signal}`;
    const tail = stderr === undefined || stderr === ""
      ? ""
      : `; stderr:\n${stderr.length > STDERR_IN_MESSAGE ? "…" : ""}${
        stderr.slice(-STDERR_IN_MESSAGE)
      }`;
    super(`Process ${JSON.stringify(command)} ${how}${tail}`);
    this.name = "ProcessExitError";
    this.command = command;
    this.code = status.code;
    this.signal = status.signal;
    this.stderr = stderr;
  }
}

// Characters of captured stderr quoted in a ProcessExitError's message.
const STDERR_IN_MESSAGE = 2000;

/** What {@linkcode StdioProcess} needs to know about its child. */
export interface StdioChildInfo {
  /** The spawned child. */
  readonly child: Deno.ChildProcess;
  /** The command, as given. */
  readonly command: string;
  /** The captured stderr so far ("" when not captured). */
  readonly stderr: () => string;
}

/**
 * A child process spoken to over its stdin and stdout: a {@linkcode Peer}
 * (call, notify, batch, proxy) that also knows its process. Closing it
 * (`close()`, `drain()`, `await using`, the `signal` option, or a broken
 * stream) closes the child's stdin, waits `gracePeriod` for it to exit,
 * then sends SIGTERM, waits again, then SIGKILL; `closed` resolves once the
 * child has exited. When the child exits first, pending calls are rejected
 * with a `ConnectionClosedError` whose `cause` is a
 * {@linkcode ProcessExitError}. Made by {@linkcode spawnStdio}.
 *
 * @example The child's process id, exit status and captured stderr
 * ```ts
 * import assert from "node:assert/strict";
 * import { spawnStdio } from "../stdio.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 * import { newline } from "../../framing/delimiter.ts";
 *
 * const script = `
 *   import { serveStdio } from "${import.meta.resolve("../stdio.ts")}";
 *   import { jsonRpc } from "${import.meta.resolve("../../../codecs/json_rpc.ts")}";
 *   import { newline } from "${import.meta.resolve("../../framing/delimiter.ts")}";
 *   console.error("serving add");
 *   await serveStdio({ codec: jsonRpc(), framing: newline(), service: { add: (a, b) => a + b } })
 *     .finished;
 * `;
 * const child = spawnStdio(Deno.execPath(), {
 *   args: ["eval", script],
 *   codec: jsonRpc(),
 *   framing: newline(),
 *   stderr: "piped",
 * });
 * assert.ok(child.pid > 0);
 * assert.equal(await child.call("add", [1, 2]), 3);
 * await child.close(); // closes its stdin: serveStdio's session ends, the child exits
 * assert.equal((await child.status).code, 0);
 * assert.match(child.stderr(), /serving add/);
 * ```
 */
export class StdioProcess extends Peer {
  /** The child, for anything not covered here (its streams are in use). */
  readonly child: Deno.ChildProcess;
  /** The command, as given to {@linkcode spawnStdio}. */
  readonly command: string;
  readonly #stderr: () => string;

  /**
   * Starts the session; use {@linkcode spawnStdio} rather than this.
   *
   * @param stream the child's stdin and stdout as frames
   * @param options the codec, the service and the limits
   * @param info the child, its command and its captured stderr
   */
  constructor(stream: MessageStream, options: PeerOptions, info: StdioChildInfo) {
    super(stream, options);
    this.child = info.child;
    this.command = info.command;
    this.#stderr = info.stderr;
  }

  /** The child's process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** Resolves when the child has exited, with its exit code and signal. */
  get status(): Promise<Deno.CommandStatus> {
    return this.child.status;
  }

  /**
   * The last `maxStderrSize` bytes the child wrote to stderr, as text; empty
   * unless `stderr: "piped"`. Complete once `closed` has resolved.
   *
   * @returns the captured text
   */
  stderr(): string {
    return this.#stderr();
  }
}

/**
 * Spawns a child process and speaks to it over its stdin (calls out) and
 * stdout (replies and its calls in), with a codec and a framing. The
 * child's stderr is passed through by default, or captured (bounded).
 *
 * @param command the program, such as `"python3"` or `Deno.execPath()`
 * @param options arguments, working directory, environment, stderr
 * handling, grace period; the codec, framing, service and limits
 * @returns the child as a peer; close it (or `await using`) to stop it
 * @throws {RangeError} when an option or a limit is out of range (before spawning)
 * @throws {Deno.errors.NotFound} when the command does not exist
 * @throws {Deno.errors.NotCapable} without `--allow-run`
 *
 * @example A child serving JSON-RPC with Content-Length framing, as language servers do
 * ```ts
 * import assert from "node:assert/strict";
 * import { spawnStdio } from "../stdio.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 * import { contentLength } from "../../framing/content_length.ts";
 *
 * const script = `
 *   import { serveStdio } from "${import.meta.resolve("../stdio.ts")}";
 *   import { jsonRpc } from "${import.meta.resolve("../../../codecs/json_rpc.ts")}";
 *   import { contentLength } from "${import.meta.resolve("../../framing/content_length.ts")}";
 *   const service = { initialize: () => ({ capabilities: { hoverProvider: true } }) };
 *   await serveStdio({ codec: jsonRpc(), framing: contentLength(), service }).finished;
 * `;
 * await using server = spawnStdio(Deno.execPath(), {
 *   args: ["eval", script],
 *   codec: jsonRpc(),
 *   framing: contentLength(),
 * });
 * const result = await server.call("initialize", { processId: Deno.pid, capabilities: {} });
 * assert.deepEqual(result, { capabilities: { hoverProvider: true } });
 * ```
 */
export function spawnStdio(command: string, options: SpawnStdioOptions): StdioProcess {
  const {
    framing,
    args = [],
    cwd,
    env,
    clearEnv,
    stderr = "inherit",
    maxStderrSize = 64 * 1024,
    gracePeriod = 2000,
    ...peerOptions
  } = options;
  if (!Number.isSafeInteger(maxStderrSize) || maxStderrSize <= 0) {
    throw new RangeError(`Option maxStderrSize must be a positive integer, got ${maxStderrSize}`);
  }
  if (!(gracePeriod >= 0)) {
    throw new RangeError(`Option gracePeriod must be a number of milliseconds, got ${gracePeriod}`);
  }
  resolveLimits(peerOptions.limits); // throws before anything is spawned
  const commandOptions: Deno.CommandOptions = {
    args: [...args],
    stdin: "piped",
    stdout: "piped",
    stderr,
  };
  if (cwd !== undefined) commandOptions.cwd = cwd;
  if (env !== undefined) commandOptions.env = env;
  if (clearEnv !== undefined) commandOptions.clearEnv = clearEnv;
  const child = new Deno.Command(command, commandOptions).spawn();

  const tail = stderr === "piped" ? new Tail(maxStderrSize) : undefined;
  const capture = tail === undefined ? undefined : pump(child.stderr.getReader(), tail);
  const bytes = childByteStream(child, command, gracePeriod, tail, capture);
  const stream = framedStream(bytes, framing, {
    remote: `${command} (pid ${child.pid})`,
    text: options.codec.text === true,
  });
  try {
    return new StdioProcess(stream, peerOptions, {
      child,
      command,
      stderr: () => tail?.text() ?? "",
    });
  } catch (error) {
    // No peer, no one to stop the child: stop it now.
    bytes.close();
    throw error;
  }
}

// The child's stdout (read into a reused buffer) and stdin as a ByteStream.
// Its end waits for the exit status so that the error can say how the child
// ended; closing stops the child, gently then not.
function childByteStream(
  child: Deno.ChildProcess,
  command: string,
  gracePeriod: number,
  tail: Tail | undefined,
  capture: Pump | undefined,
): ByteStream {
  const stderrDone = capture?.done ?? Promise.resolve();
  const stdout = child.stdout.getReader({ mode: "byob" });
  const stdin = child.stdin.getWriter();
  let scratch: Uint8Array = new Uint8Array(64 * 1024);
  let eof = false;
  const ended = Promise.withResolvers<void>();
  let output: ReadableStreamDefaultController<Uint8Array> | undefined;
  let stopping: Promise<void> | undefined;
  let stdinClosed = false;

  const closeStdin = (): void => {
    if (stdinClosed) return;
    stdinClosed = true;
    stdin.close().catch(() => {});
  };

  // How the child ended, once it has (bounded: it may keep running).
  const exitReason = async (): Promise<Error | undefined> => {
    const status = await within(child.status, gracePeriod);
    if (status === undefined) return undefined;
    await within(stderrDone, gracePeriod);
    return new ProcessExitError(command, status, tail?.text());
  };

  const kill = (signal: Deno.Signal): void => {
    try {
      child.kill(signal);
    } catch {
      // Exited already.
    }
  };

  // Closes stdin, waits for the exit (SIGTERM, then SIGKILL, if need be),
  // and reads stdout and stderr to their end, so that nothing is left open.
  const stop = (): Promise<void> =>
    stopping ??= (async () => {
      closeStdin();
      // Keep reading stdout meanwhile: a child blocked on a full pipe
      // would never see its stdin close.
      const drained = eof ? Promise.resolve() : drain(stdout).then(() => ended.resolve());
      let status = await within(child.status, gracePeriod);
      if (status === undefined) {
        kill("SIGTERM");
        status = await within(child.status, gracePeriod);
      }
      if (status === undefined) {
        kill("SIGKILL");
        await child.status;
      }
      // A grandchild may hold the pipes open: do not wait for it.
      if (await within(Promise.all([drained, stderrDone]), gracePeriod) === undefined) {
        await Promise.all([stdout.cancel().catch(() => {}), capture?.cancel()]);
      }
      // A write stuck on a full pipe ended with the child; release the writer.
      await stdin.abort().catch(() => {});
    })();

  // A grandchild may keep stdout open after the child has exited: the
  // connection ends anyway, a grace period after the exit.
  child.status.then(async () => {
    if (stopping !== undefined || eof) return;
    if (await within(ended.promise, gracePeriod) !== undefined || stopping !== undefined) return;
    const reason = await exitReason();
    if (stopping !== undefined || eof || output === undefined) return;
    if (isCleanExit(reason)) closeQuietly(output);
    else output.error(reason);
  });

  return {
    readable: new ReadableStream<Uint8Array>({
      start(controller) {
        output = controller;
      },
      async pull(controller) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await stdout.read(scratch);
        } catch (error) {
          // Broken, or cancelled by stop().
          eof = true;
          ended.resolve();
          if (stopping === undefined) controller.error(error);
          else closeQuietly(controller);
          return;
        }
        if (result.value !== undefined) scratch = new Uint8Array(result.value.buffer);
        try {
          if (!result.done) {
            controller.enqueue(result.value.slice());
            return;
          }
          eof = true;
          ended.resolve();
          if (stopping !== undefined) {
            controller.close();
            return;
          }
          // The child closed its stdout: say how it ended, if it did; a
          // clean exit (code 0) is the end of the stream, not a failure.
          const reason = await exitReason() ??
            new Error(`Process ${JSON.stringify(command)} closed its stdout`);
          if (stopping === undefined && !isCleanExit(reason)) controller.error(reason);
          else controller.close();
        } catch {
          // Errored already (the child exited, a grandchild holds stdout).
        }
      },
      cancel: () => {},
    }, { highWaterMark: 0 }),
    writable: new WritableStream<Uint8Array>({
      async write(chunk) {
        try {
          await stdin.write(chunk);
        } catch (error) {
          // A broken pipe: the child is gone, say how.
          throw (await exitReason().catch(() => undefined)) ?? error;
        }
      },
      close: closeStdin,
      abort: closeStdin,
    }),
    close: stop,
  };
}

function isCleanExit(reason: Error | undefined): boolean {
  return reason instanceof ProcessExitError && reason.code === 0 && reason.signal === null;
}
