/**
 * Serving over this process's own stdin and stdout.
 *
 * @module
 */

import { framedStream } from "../../framed.ts";
import type { Peer, PeerOptions } from "../../peer.ts";
import { checkServiceSource, servePeer, type ServiceSource } from "../../serve_connection.ts";
import type { ByteStream, Framing } from "../../types.ts";

/** Options shared by {@linkcode serveStdio} and {@linkcode spawnStdio}. */
export interface StdioPeerOptions extends Omit<PeerOptions, "service"> {
  /** How frames are delimited on the byte stream. */
  readonly framing: Framing;
}

/** Options of {@linkcode serveStdio}. */
export interface ServeStdioOptions extends StdioPeerOptions {
  /**
   * What to serve: an object, or a factory wrapped in `perConnection` that
   * makes it once the peer exists (it receives the connection, to call the
   * parent back).
   */
  readonly service: ServiceSource;
}

/** This process served over its stdin and stdout, by {@linkcode serveStdio}. */
export interface StdioServer {
  /** The session over stdin and stdout: call the parent through it. */
  readonly peer: Peer;
  /**
   * Graceful shutdown: new calls are refused, those in flight finish, then
   * stdin is closed. Stdout stays open (closing it would break
   * `console.log`); the parent sees it end when this process exits.
   */
  shutdown(): Promise<void>;
  /** Resolves when the session has ended: stdin closed, or shutdown. */
  readonly finished: Promise<void>;
  /** Shuts down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

let serving = false;

/**
 * Serves a service over this process's stdin and stdout, until stdin
 * closes (the parent closed it or exited) or {@linkcode StdioServer.shutdown}.
 * A process has one stdin: call it once.
 *
 * Nothing else may write to stdout while serving: every byte there is read
 * by the parent as protocol. Log with `console.error` (stderr) instead of
 * `console.log`.
 *
 * @param options the codec, the framing, the service and the limits
 * @returns the running server; `finished` resolves when stdin closes
 * @throws {Error} when called a second time
 *
 * @example A server script, started here by `spawnStdio` as `deno eval`
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
 *
 *   const server = serveStdio({
 *     codec: jsonRpc(),
 *     framing: newline(),
 *     service: { add: (a, b) => a + b },
 *     onError: (error) => console.error(error), // stderr: stdout is the protocol's
 *   });
 *   await server.finished; // the parent closed our stdin
 * `;
 * await using child = spawnStdio(Deno.execPath(), {
 *   args: ["eval", script],
 *   codec: jsonRpc(),
 *   framing: newline(),
 * });
 * assert.equal(await child.call("add", [1, 2]), 3);
 * ```
 */
export function serveStdio(options: ServeStdioOptions): StdioServer {
  if (serving) {
    throw new Error("serveStdio was called already: a process has one stdin and one stdout");
  }
  const { framing, service, ...peerOptions } = options;
  checkServiceSource(service);
  serving = true;
  const stream = framedStream(ownStdioByteStream(), framing, {
    remote: "stdio",
    text: options.codec.text === true,
  });
  const peer = servePeer(stream, {
    ...peerOptions,
    service,
    remote: "stdio",
    // Handlers learn that they serve stdin/stdout (connectionOf); there is no address.
    connection: peerOptions.connection ?? { connection: { transport: "stdio" } },
  });
  const shutdown = () => peer.drain();
  return { peer, shutdown, finished: peer.closed, [Symbol.asyncDispose]: shutdown };
}

// This process's stdin and stdout: stdin read into one reused buffer (as
// connByteStream does), stdout written directly. Closing closes stdin only,
// which also ends a read in progress, so that the process can exit.
function ownStdioByteStream(): ByteStream {
  const scratch = new Uint8Array(64 * 1024);
  const closeStdin = () => {
    try {
      Deno.stdin.close();
    } catch {
      // Closed already.
    }
  };
  return {
    readable: new ReadableStream<Uint8Array>({
      async pull(controller) {
        let n: number | null;
        try {
          n = await Deno.stdin.read(scratch);
        } catch (error) {
          // Closed by us (Interrupted, BadResource): the stream simply ends.
          if (
            error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted
          ) n = null;
          else throw error;
        }
        if (n === null) controller.close();
        else controller.enqueue(scratch.slice(0, n));
      },
      cancel: closeStdin,
    }, { highWaterMark: 0 }),
    writable: new WritableStream<Uint8Array>({
      async write(chunk) {
        for (let written = 0; written < chunk.length;) {
          written += await Deno.stdout.write(written === 0 ? chunk : chunk.subarray(written));
        }
      },
      // Stdout stays open: console.log on a closed stdout throws.
    }),
    close: closeStdin,
  };
}
