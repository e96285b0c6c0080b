/**
 * Spawning a child process and talking to it over its stdin and stdout.
 *
 * @module
 */

import { framedStream } from "../../framed.ts";
import { resolveLimits } from "../../limits.ts";
import { Peer, type PeerOptions } from "../../peer.ts";
import type { Service } from "../../service.ts";
import type { MessageStream } from "../../types.ts";
import type { StdioPeerOptions } from "./serve.ts";
import { pump, Tail } from "./_streams.ts";
import { childByteStream } from "./_child.ts";

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
