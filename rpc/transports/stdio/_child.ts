/**
 * A spawned child's lifecycle: its stdout and stdin as a `ByteStream`,
 * stopping it (stdin closed, then SIGTERM, then SIGKILL), and its exit as
 * a {@linkcode ProcessExitError} quoting its captured stderr.
 *
 * @module
 */

import type { ByteStream } from "../../types.ts";
import { closeQuietly, drain, type Pump, type Tail, within } from "./_streams.ts";

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

/**
 * The child's stdout (read into a reused buffer) and stdin as a ByteStream.
 * Its end waits for the exit status so that the error can say how the child
 * ended; closing stops the child, gently then not.
 *
 * @param child the spawned child, its stdin and stdout piped
 * @param command the command, for error messages
 * @param gracePeriod milliseconds to wait at each step of stopping it
 * @param tail its captured stderr, if piped
 * @param capture the pump filling `tail`, if any
 * @returns the child's pipes; `close()` stops it
 *
 * @example A child that exits with code 3 ends the stream with the reason
 * ```ts
 * import assert from "node:assert/strict";
 * import { childByteStream, ProcessExitError } from "./_child.ts";
 *
 * const child = new Deno.Command(Deno.execPath(), {
 *   args: ["eval", "Deno.exit(3)"],
 *   stdin: "piped",
 *   stdout: "piped",
 *   stderr: "null",
 * }).spawn();
 * const bytes = childByteStream(child, "deno", 2000, undefined, undefined);
 * await assert.rejects(
 *   Array.fromAsync(bytes.readable),
 *   (error) => error instanceof ProcessExitError && error.code === 3,
 * );
 * await bytes.close();
 * ```
 */
export function childByteStream(
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
