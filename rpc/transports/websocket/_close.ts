/**
 * WebSocket close codes: the ones parley closes with, what the other end's
 * mean, and a reason cut to what a close frame has room for. Portable.
 *
 * @module
 */

import { ConnectionClosedError } from "../../errors.ts";

/**
 * WebSocket close codes parley uses (RFC 6455, section 7.4.1): the code a
 * parley end closes a socket with says why, for peers that are not parley.
 *
 * @example A text message to a binary codec's route is refused with UnsupportedData
 * ```ts
 * import assert from "node:assert/strict";
 * import { CloseCode } from "./stream.ts";
 * import { serveHttp } from "../http.ts";
 * import { msgpackRpc } from "../../../codecs/msgpack_rpc.ts";
 *
 * await using server = serveHttp({
 *   routes: { "/rpc": { codec: msgpackRpc(), service: {}, websocket: true } },
 * });
 * const socket = new WebSocket(`${server.url.replace("http", "ws")}/rpc`);
 * const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
 * socket.onopen = () => socket.send("not msgpack");
 * assert.equal((await closed).code, CloseCode.UnsupportedData);
 * ```
 */
export const CloseCode = {
  /** The session ended normally. */
  Normal: 1000,
  /** The server is shutting down, or the connection was idle too long. */
  GoingAway: 1001,
  /** A text message for a binary codec. */
  UnsupportedData: 1003,
  /** A message the codec cannot read. */
  InvalidPayload: 1007,
  /** A message over `maxMessageSize`. */
  MessageTooBig: 1009,
  /** Something failed on this side. */
  InternalError: 1011,
} as const;

// What the other end's close codes mean, for the error that says why.
const CLOSE_MEANINGS: Readonly<Record<number, string>> = {
  1001: "going away: shutting down, or the connection was idle",
  1002: "a protocol error",
  1003: "data it cannot accept",
  1006: "the connection dropped without a close frame",
  1007: "a message it cannot read",
  1008: "a policy violation",
  1009: "a message too big",
  1011: "an error on its side",
};

// The error of a close that was not a normal one; undefined for a normal one.
export function closedBy(event: CloseEvent): ConnectionClosedError | undefined {
  if (event.code === CloseCode.Normal || event.code === 1005) return undefined;
  const meaning = CLOSE_MEANINGS[event.code] ?? "no reason known to parley";
  return new ConnectionClosedError(
    `The WebSocket was closed with code ${event.code} (${meaning})${
      event.reason ? `: ${event.reason}` : ""
    }`,
  );
}

// Limits whose breach closes a socket as idle rather than as too big.
export const TIMEOUT_LIMITS = new Set(["idleTimeout", "firstFrameTimeout"]);
const utf8 = new TextEncoder();

/**
 * A close reason within the 123 bytes a close frame has room for, cut at a
 * character: a longer one makes `close()` throw, and the socket stays open.
 *
 * @param reason why, in words
 * @returns at most 123 bytes of it
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeReason } from "./_close.ts";
 *
 * assert.equal(new TextEncoder().encode(closeReason("é".repeat(100))).length, 122);
 * ```
 */
export function closeReason(reason: string): string {
  // 41 UTF-16 units are at most 123 bytes.
  if (reason.length <= 41) return reason;
  let cut = reason.slice(0, 123);
  while (utf8.encode(cut).length > 123) cut = cut.slice(0, -1);
  return cut;
}
