/**
 * The peer's SETTINGS (RFC 9113 §6.5.2) applied: HPACK's table size to the
 * encoder, the stream limit, the initial window (open streams' windows
 * moved by the difference, none past 2^31 − 1), the frame size; each
 * value checked (a bad one is a connection error); then the ACK, and what
 * waited for a larger window or a free slot goes out.
 *
 * @module
 */

import { u32 } from "./_frames.ts";
import type { Link } from "./_link.ts";
import {
  ENABLE_PUSH,
  HEADER_TABLE_SIZE,
  INITIAL_WINDOW_SIZE,
  MAX_CONCURRENT_STREAMS,
  MAX_FRAME_SIZE,
  MAX_WINDOW,
} from "./_settings.ts";
import { Http2ErrorCode as E } from "./errors.ts";

/**
 * Applies a SETTINGS frame's payload (its length already checked: a
 * multiple of 6) and acknowledges it.
 *
 * @param link the connection
 * @param payload the settings, 6 bytes each
 * @param first whether it is the peer's first SETTINGS
 *
 * @example A server's SETTINGS_MAX_FRAME_SIZE below 16,384 is a connection error
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2Connection } from "./connection.ts";
 *
 * let error: Error | undefined;
 * const client = new Http2Connection("client", { onOutput: () => {}, onClose: (e) => error = e });
 * client.receive(new Uint8Array([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 100]));
 * assert.match(String(error), /SETTINGS_MAX_FRAME_SIZE of 100/);
 * ```
 */
export function applySettings(link: Link, payload: Uint8Array, first: boolean): void {
  let grew = false;
  let limit = false;
  for (let at = 0; at < payload.length; at += 6) {
    const setting = (payload[at]! << 8) | payload[at + 1]!;
    const value = u32(payload, at + 2);
    switch (setting) {
      case HEADER_TABLE_SIZE:
        link.encoder.setPeerLimit(value);
        break;
      case ENABLE_PUSH:
        if (value > 1 || (value === 1 && !link.server)) {
          return link.fail(E.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH of ${value}`);
        }
        break;
      case MAX_CONCURRENT_STREAMS:
        link.peer.maxStreams = value;
        limit = true;
        break;
      case INITIAL_WINDOW_SIZE: {
        if (value > MAX_WINDOW) {
          return link.fail(E.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE of ${value}`);
        }
        const delta = value - link.peer.initialWindow;
        link.peer.initialWindow = value;
        for (const stream of link.streams.values()) {
          stream.sendWindow += delta;
          if (stream.sendWindow > MAX_WINDOW) {
            return link.fail(E.FLOW_CONTROL_ERROR, "A stream's window past 2^31 - 1");
          }
        }
        grew ||= delta > 0;
        break;
      }
      case MAX_FRAME_SIZE:
        if (value < 16_384 || value > 16_777_215) {
          return link.fail(E.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE of ${value}`);
        }
        link.peer.maxFrameSize = value;
        break;
        // SETTINGS_MAX_HEADER_LIST_SIZE is advice; unknown settings are ignored (§6.5.2).
    }
  }
  link.writer.settingsAck();
  link.wake();
  if (first) {
    // A client opens nothing before the server's first SETTINGS (_state.ts):
    // now it knows the limit, which is none unless said.
    if (!limit) link.peer.maxStreams = Infinity;
    limit = true;
  }
  if (grew) link.flushAll(true);
  if (limit) link.openWaiting();
}
