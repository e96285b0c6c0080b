/**
 * The WebSocket client on the standard `WebSocket` only (browsers and Deno):
 * {@linkcode connectWebSocket} without Deno's certificate diagnosis, which
 * `rpc/transports/websocket.ts` adds (browsers give no reason for a failed
 * socket, so their bundles leave it out).
 *
 * @module
 */

import { ConnectionClosedError } from "../../errors.ts";
import { Peer, type PeerOptions } from "../../peer.ts";
import type { Codec } from "../../types.ts";
import { webSocketStream, type WebSocketStreamOptions } from "./stream.ts";

/** Options of {@linkcode connectWebSocket}. */
export interface ConnectWebSocketOptions extends PeerOptions, Omit<WebSocketStreamOptions, "text"> {
  /** Subprotocols to ask for. */
  readonly protocols?: string | string[];
  /** The `WebSocket` class to use; the global one by default. */
  readonly WebSocket?: typeof WebSocket;
}

/**
 * Says why a socket failed to open, from the message of its error event (an
 * error to be the failure's `cause`), or `undefined`.
 */
export type FailureDiagnosis = (message: string, host: string) => Error | undefined;

/**
 * Connects to a WebSocket endpoint, such as a `serveHttp` route with
 * `websocket` set, and returns a {@linkcode Peer} once the socket is open:
 * calls go both ways, so the server can call what this side serves.
 *
 * @param url `ws://` or `wss://`
 * @param options the codec, what this side serves, limits
 * @returns the peer
 * @throws {ConnectionClosedError} when the socket closes before it opens
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectWebSocket } from "./client.ts";
 * import { serveHttp } from "../http.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * await using server = serveHttp({
 *   routes: { "/rpc": { codec: jsonRpc(), service: { add: (a: number, b: number) => a + b }, websocket: true } },
 * });
 * await using client = await connectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
 *   codec: jsonRpc(),
 * });
 * assert.equal(await client.call("add", [1, 2]), 3);
 * ```
 */
export function connectWebSocket(
  url: string | URL,
  options: ConnectWebSocketOptions,
): Promise<Peer> {
  return connectDiagnosed(url, options, undefined);
}

/**
 * {@linkcode connectWebSocket}, with a diagnosis of why a socket failed to
 * open added to the error.
 *
 * @param url `ws://` or `wss://`
 * @param options the codec, what this side serves, limits
 * @param diagnose says why from the error event's message
 * @returns the peer
 *
 * @example A refusal explained
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectDiagnosed } from "./client.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * listener.accept().then((conn) => conn.close());
 * await assert.rejects(
 *   connectDiagnosed(`ws://127.0.0.1:${listener.addr.port}/`, { codec: jsonRpc() }, () => new Error("why")),
 *   /closed before it opened/,
 * );
 * ```
 */
export async function connectDiagnosed(
  url: string | URL,
  options: ConnectWebSocketOptions,
  diagnose: FailureDiagnosis | undefined,
): Promise<Peer> {
  const Socket = options.WebSocket ?? globalThis.WebSocket;
  const socket = new Socket(url, options.protocols);
  await opened(socket, String(url), diagnose);
  const stream = webSocketStream(socket, { ...options, text: isText(options.codec) });
  return new Peer(stream, options);
}

function isText(codec: Codec): boolean {
  return codec.text === true;
}

function opened(socket: WebSocket, url: string, diagnose?: FailureDiagnosis): Promise<void> {
  return new Promise((resolve, reject) => {
    // Deno says why a socket failed in its error event; browsers do not.
    let failure: string | undefined;
    const onError = (event: Event) => {
      const message = (event as ErrorEvent).message;
      if (typeof message === "string" && message !== "") failure = message;
    };
    const onOpen = () => {
      socket.removeEventListener("close", onClose);
      socket.removeEventListener("error", onError);
      resolve();
    };
    const onClose = (event: CloseEvent) => {
      socket.removeEventListener("open", onOpen);
      socket.removeEventListener("error", onError);
      let host = url;
      try {
        host = new URL(url).host;
      } catch {
        // Not a URL: name it as given.
      }
      const certificate = failure === undefined ? undefined : diagnose?.(failure, host);
      reject(
        new ConnectionClosedError(
          `The WebSocket to ${url} closed before it opened (code ${event.code}${
            event.reason ? `: ${event.reason}` : ""
          })${
            certificate !== undefined
              ? `: ${certificate.message}`
              : failure !== undefined
              ? `: ${failure}`
              : ""
          }`,
          certificate === undefined ? undefined : { cause: certificate },
        ),
      );
    };
    socket.addEventListener("open", onOpen, { once: true });
    socket.addEventListener("close", onClose, { once: true });
    socket.addEventListener("error", onError);
  });
}
