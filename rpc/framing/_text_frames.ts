/**
 * A byte framing's frames as text, for text codecs (JSON-RPC, XML-RPC): the
 * bytes of a read are decoded from UTF-8 once, rather than each frame on
 * its own (a decoder call costs a few hundred nanoseconds in Deno whatever
 * its size: most of a small call's reading).
 *
 * @module
 */

import type { Frame, FrameSplitter } from "../types.ts";
import { markCopiesChunks } from "./_batch.ts";

// Replacing, not fatal: a text without U+FFFD came from valid UTF-8 (each
// invalid sequence becomes one); a frame whose text holds one is handed out
// as its bytes, for the codec to decode (and refuse, when it is invalid).
const lenient = new TextDecoder("utf-8");

/**
 * Wraps a byte splitter so that its frames come out as strings. When every
 * byte of a read decodes to one character (ASCII, the usual case, or a stray
 * byte), a frame's characters stand at its bytes' offsets in the read's
 * text; otherwise each frame is decoded alone. What it keeps between reads
 * the byte splitter keeps (copied), so the splitter is marked as copying:
 * it may be lent a reused read buffer.
 *
 * @param bytes the framing's byte splitter
 * @returns the text splitter
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textFrames } from "./_text_frames.ts";
 * import { lengthPrefix } from "./length_prefix.ts";
 *
 * const splitter = textFrames(lengthPrefix().splitter!());
 * const chunk = new Uint8Array([0, 0, 0, 2, 0x7b, 0x7d, 0, 0, 0, 2, 0x5b, 0x5d]);
 * assert.deepEqual(splitter.push(chunk), ["{}", "[]"]);
 * ```
 */
export function textFrames(bytes: FrameSplitter): FrameSplitter {
  return markCopiesChunks({
    push(chunk) {
      const frames = bytes.push(chunk);
      const n = frames.length;
      if (n === 0) return frames;
      let all: string | undefined;
      if (n > 1) {
        const text = lenient.decode(chunk);
        if (text.length === chunk.length) all = text;
      }
      const texts = new Array<Frame>(n);
      for (let i = 0; i < n; i++) {
        const frame = frames[i] as Uint8Array;
        const at = frame.byteOffset - chunk.byteOffset;
        const text = all !== undefined && frame.buffer === chunk.buffer && at >= 0 &&
            at + frame.length <= chunk.length
          ? all.slice(at, at + frame.length)
          : lenient.decode(frame);
        // A copy: the chunk may be a reader's buffer, reused.
        texts[i] = text.indexOf("\uFFFD") < 0 ? text : frame.slice();
      }
      return texts;
    },
    end: () => bytes.end(),
  });
}
