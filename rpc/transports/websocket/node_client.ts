/**
 * A client `WebSocket` class for Deno and Node that writes a turn's
 * messages in one socket write: the `ws` package's client, whose writes
 * parley holds while it sends the frames of one chunk (`cork()`,
 * `uncork()`). The standard `WebSocket` writes each message with a system
 * call of its own; with 64 calls in flight that is half of a small call's
 * cost on the client, and it leaves the server a message or two per read.
 * Pass the class as `connectWebSocket`'s `WebSocket` option. Not for
 * browsers.
 *
 * The `ws` package reads `WS_NO_BUFFER_UTIL` and `WS_NO_UTF_8_VALIDATE` as
 * it loads: run with `--allow-env` (or those two names).
 *
 * @module
 */

import { Buffer } from "node:buffer";
// @ts-types="@types/ws"
import type { ClientOptions, WebSocket as WsSocket } from "ws";
import { DEFAULT_LIMITS } from "../../limits.ts";

/** Options of {@linkcode nodeWebSocket}. */
export interface NodeWebSocketOptions {
  /**
   * Largest message accepted, in bytes; 16 MiB by default. The `ws` package
   * counts a message's fragments as they arrive, and closes the socket
   * with 1009 once they pass it.
   */
  readonly maxMessageSize?: number;
}

/**
 * The `ws` package's client as a standard `WebSocket` class (no
 * compression) whose writes parley's WebSocket streams hold while they send
 * a chunk of frames, so that the frames leave in one socket write.
 *
 * @param options the largest message accepted
 * @returns the class, for `connectWebSocket`'s `WebSocket` option
 *
 * @example A client whose calls of one turn leave in one write
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeWebSocket } from "./node_client.ts";
 * import { connectWebSocket } from "../websocket.ts";
 * import { serveHttp } from "../http.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * await using server = serveHttp({
 *   routes: {
 *     "/rpc": { codec: jsonRpc(), service: { add: (a: number, b: number) => a + b }, websocket: true },
 *   },
 * });
 * const peer = await connectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
 *   codec: jsonRpc(),
 *   WebSocket: await nodeWebSocket(),
 * });
 * assert.deepEqual(await Promise.all([peer.call("add", [1, 2]), peer.call("add", [3, 4])]), [3, 7]);
 * await peer.close();
 * ```
 */
export async function nodeWebSocket(
  options: NodeWebSocketOptions = {},
): Promise<typeof globalThis.WebSocket> {
  const { WebSocket } = await import("ws");
  const settings: ClientOptions = {
    perMessageDeflate: false,
    maxPayload: options.maxMessageSize ?? DEFAULT_LIMITS.maxFrameSize,
  };
  const max = settings.maxPayload!;
  // The reason of a close `ws` sends for a message it refuses (a reason it
  // leaves out), by code.
  const reasons: Readonly<Record<number, string>> = {
    1002: "a frame that breaks the protocol",
    1007: "a text message that is not UTF-8",
    1009: `a message over ${max} bytes`,
  };
  class Corkable extends WebSocket {
    // The close code and reason this end closed with for what it read (a
    // message too big: 1009), for its own close event.
    #refusal: { code: number; reason: string } | undefined;

    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols ?? [], settings);
      // An 'error' no one listens to would be an uncaught exception: the
      // process dies. The close that follows says why (1009 for a message
      // too big), and parley's stream turns it into the calls' error.
      this.on("error", () => {});
    }
    // A message `ws` refuses (too big, malformed) makes it close with the
    // code that says why but no reason: the reason is added here.
    override close(code?: number, data?: string | Buffer): void {
      const reason = code === undefined || data !== undefined ? undefined : reasons[code];
      if (reason !== undefined) this.#refusal ??= { code: code!, reason };
      super.close(code, data ?? reason);
    }
    // After such a close `ws` reads no more, so the other end's close frame
    // is never read and its own close event would say 1006 (no close
    // frame): it says the code and reason it closed with.
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      const refusal = this.#refusal;
      if (event === "close" && refusal !== undefined && args[0] === 1006) {
        return super.emit(event, refusal.code, Buffer.from(refusal.reason));
      }
      return super.emit(event, ...args);
    }
    cork(): void {
      socketOf(this)?.cork();
    }
    uncork(): void {
      socketOf(this)?.uncork();
    }
  }
  // Its instances are standard WebSockets to parley, with cork() and uncork().
  return Corkable as unknown as typeof globalThis.WebSocket;
}

// The net.Socket under an open `ws` socket (`_socket`, set once it opened).
function socketOf(ws: WsSocket): { cork(): void; uncork(): void } | undefined {
  return (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
}
