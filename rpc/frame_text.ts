/**
 * Text frames for text codecs: a frame arrives as a string (a WebSocket text
 * message, the newline text path) or as UTF-8 bytes (any other framing).
 *
 * @module
 */

import { DecodeError } from "./errors.ts";
import type { Frame } from "./types.ts";

// Fatal: invalid UTF-8 is a bad frame, never silently replaced characters.
const utf8 = new TextDecoder("utf-8", { fatal: true });
// A replacing decoder costs far less per call than a fatal one (a third, for
// a small frame in Deno), and a text it gives without U+FFFD came from valid
// UTF-8 (each invalid sequence becomes one): the fatal one decides only
// texts that hold the replacement character. Both drop a leading BOM.
const lenient = new TextDecoder("utf-8");

/**
 * The text of a frame.
 *
 * @param frame a string, or UTF-8 bytes
 * @param format the codec's name, for the error
 * @returns the text
 * @throws {DecodeError} when the bytes are not valid UTF-8
 *
 * @example
 * ```ts
 * import { frameText } from "./frame_text.ts";
 * console.assert(frameText(new TextEncoder().encode("{}"), "jsonrpc") === "{}");
 * ```
 */
export function frameText(frame: Frame, format: string): string {
  if (typeof frame === "string") return frame;
  const text = lenient.decode(frame);
  if (text.indexOf("\uFFFD") < 0) return text;
  try {
    return utf8.decode(frame);
  } catch (cause) {
    throw new DecodeError(format, "invalid UTF-8", undefined, { cause });
  }
}
