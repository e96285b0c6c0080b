import assert from "node:assert/strict";
import fc from "fast-check";
import { frameText } from "../rpc/frame_text.ts";
import { DecodeError } from "../rpc/errors.ts";

const fatal = new TextDecoder("utf-8", { fatal: true });

function outcome(decode: () => string): string | { threw: string } {
  try {
    return decode();
  } catch (error) {
    return { threw: error instanceof DecodeError ? "DecodeError" : String(error) };
  }
}

// Bytes as they come: text with BOMs and replacement characters of its own,
// mixed with stray bytes and cut sequences.
const bytes = fc.array(
  fc.oneof(
    fc.string({ unit: "grapheme" }).map((s) => [...new TextEncoder().encode(s)]),
    fc.constantFrom([0xef, 0xbb, 0xbf], [0xef, 0xbf, 0xbd], [0xc3], [0xe2, 0x82], [0xff], [0x80]),
    fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }),
  ),
  { maxLength: 8 },
).map((parts) => new Uint8Array(parts.flat()));

Deno.test("frameText() decodes bytes exactly as a fatal decoder does, and refuses what it refuses", () => {
  fc.assert(
    fc.property(bytes, (frame) => {
      const expected = outcome(() => fatal.decode(frame));
      const actual = outcome(() => frameText(frame, "jsonrpc"));
      assert.deepEqual(
        actual,
        typeof expected === "string" ? expected : { threw: "DecodeError" },
      );
    }),
    { numRuns: 3000 },
  );
});
