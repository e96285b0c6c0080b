import assert from "node:assert/strict";
import fc from "fast-check";
import { lengthPrefix } from "../../rpc/framing/length_prefix.ts";
import { textFrames } from "../../rpc/framing/_text_frames.ts";
import { framedStream } from "../../rpc/framed.ts";

const fatal = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextEncoder();

// Payloads as they come: ASCII JSON mostly, and text with BOMs, replacement
// characters of its own, other scripts, stray bytes and cut sequences.
const payload = fc.oneof(
  fc.json().map((text) => utf8.encode(text)),
  fc.array(
    fc.oneof(
      fc.string({ unit: "grapheme" }).map((s) => [...utf8.encode(s)]),
      fc.constantFrom([0xef, 0xbb, 0xbf], [0xef, 0xbf, 0xbd], [0xc3], [0xe2, 0x82], [0xff], [0x80]),
    ),
    { maxLength: 6 },
  ).map((parts) => new Uint8Array(parts.flat())),
);

function framed(payloads: readonly Uint8Array[]): Uint8Array {
  const frame = lengthPrefix().frame;
  const parts = payloads.map((p) => frame(p) as Uint8Array);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

Deno.test("lengthPrefix()'s text splitter gives each frame's text, or its bytes when they are not plain UTF-8", () => {
  fc.assert(
    fc.property(
      fc.array(payload, { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
      (payloads, cuts) => {
        const bytes = framed(payloads);
        const splitter = textFrames(lengthPrefix().splitter!());
        // One reused read buffer, overwritten after every read, as a socket reader lends it.
        const buffer = new Uint8Array(64);
        const frames = [];
        for (let at = 0, i = 0; at < bytes.length; i++) {
          const n = Math.min(cuts[i % cuts.length]!, bytes.length - at);
          buffer.set(bytes.subarray(at, at + n));
          frames.push(...splitter.push(buffer.subarray(0, n)));
          buffer.fill(0x41);
          at += n;
        }
        splitter.end();
        assert.equal(frames.length, payloads.length);
        frames.forEach((frame, i) => {
          const original = payloads[i]!;
          if (typeof frame === "string") {
            assert.equal(frame, fatal.decode(original));
          } else {
            assert.deepEqual(frame, original);
            // Bytes only when a text would hold U+FFFD: the codec decides.
            assert.ok(new TextDecoder().decode(original).includes("\uFFFD"));
          }
        });
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("framedStream() writes a batch of text frames behind their lengths, ASCII or not", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.array(
          fc.oneof(fc.json(), fc.string({ unit: "grapheme", minLength: 1 }), fc.constant("é")),
          { minLength: 1, maxLength: 8 },
        ),
        { minLength: 1, maxLength: 4 },
      ),
      async (batches) => {
        const pipe = new TransformStream<Uint8Array, Uint8Array>();
        const stream = framedStream(
          { readable: pipe.readable, writable: pipe.writable, close: () => {} },
          lengthPrefix(),
          { text: true },
        );
        const received = Array.fromAsync(stream.readable);
        const writer = stream.writable.getWriter();
        for (const batch of batches) await writer.write(batch);
        await writer.close();
        const frames = (await received).flat().map((frame) =>
          typeof frame === "string" ? frame : new TextDecoder().decode(frame)
        );
        assert.deepEqual(frames, batches.flat().map((text) => text.toWellFormed()));
      },
    ),
    { numRuns: 200 },
  );
});
