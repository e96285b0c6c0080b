import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError, FrameSizeError } from "../../rpc/errors.ts";
import { delimiter, newline } from "../../rpc/framing/delimiter.ts";
import type { Framing } from "../../rpc/types.ts";
import {
  decodeAll,
  encodeAll,
  firstRead,
  frameBytes,
  rechunk,
  runFramingSuite,
} from "./conformance.ts";

const text = new TextEncoder();
const bytes = (...values: number[]) => new Uint8Array(values);
const lines = async (framing: Framing, ...chunks: string[]) =>
  (await decodeAll(framing, chunks.map((c) => text.encode(c)))).map((f) =>
    new TextDecoder().decode(f)
  );

/** Random payloads the framing can send as they are. */
const sendable = (framing: Framing) =>
  fc.uint8Array({ maxLength: 300 }).filter((payload) => {
    try {
      framing.frame(payload);
      return true;
    } catch {
      return false;
    }
  });

runFramingSuite("delimiter()", (limits) => delimiter(limits), {
  empty: true,
  special: bytes(0x0a, 0x1b, 0x2a, 0x3b),
});

runFramingSuite(
  'delimiter({ delimiter: "\\r\\n" })',
  (limits) => delimiter({ delimiter: "\r\n", ...limits }),
  {
    empty: true,
    special: bytes(0x0d, 0x0a, 0x1b, 0x2d),
  },
);

runFramingSuite(
  "delimiter({ delimiter: [0, 0, 1], escape: 0xff })",
  (limits) => delimiter({ delimiter: bytes(0, 0, 1), escape: 0xff, ...limits }),
  { empty: true, special: bytes(0, 1, 0xff, 0xdf, 0x20) },
);

runFramingSuite(
  'delimiter({ delimiter: "\\r\\n", escape: false })',
  (limits) => delimiter({ delimiter: "\r\n", escape: false, ...limits }),
  { empty: true, payloads: sendable(delimiter({ delimiter: "\r\n", escape: false })) },
);

runFramingSuite(
  'delimiter({ delimiter: "\\0\\0", escape: false })',
  (limits) => delimiter({ delimiter: "\0\0", escape: false, ...limits }),
  { empty: true, payloads: sendable(delimiter({ delimiter: "\0\0", escape: false })) },
);

runFramingSuite("newline()", (limits) => newline(limits), {
  empty: false,
  payloads: fc.uint8Array({ minLength: 1, maxLength: 300 })
    .map((payload) => payload.map((b) => b === 0x0a ? 0x20 : b))
    .filter((payload) => payload[payload.length - 1] !== 0x0d),
});

Deno.test("delimiter() stuffs the delimiter's first byte and the escape byte as escape, byte ^ 0x20", () => {
  const framing = delimiter();
  assert.equal(framing.name, "delimiter");
  assert.deepEqual(frameBytes(framing, text.encode("a\nb\x1bc")), text.encode("a\x1b*b\x1b;c\n"));
  assert.deepEqual(frameBytes(framing, text.encode("plain")), text.encode("plain\n"));
  const crlf = delimiter({ delimiter: "\r\n", escape: "\\" });
  assert.deepEqual(frameBytes(crlf, text.encode("a\r\n\\")), text.encode("a\\-\n\\|\r\n"));
});

Deno.test("delimiter() hands out a frame without escapes as a view of the chunk", async () => {
  const chunk = text.encode("abc\nd\x1b*e\n");
  const [plain, unstuffed] = await decodeAll(delimiter(), [chunk]);
  assert.equal(plain!.buffer, chunk.buffer);
  assert.deepEqual(unstuffed, text.encode("d\ne"));
});

Deno.test("delimiter() rejects an invalid escape sequence with DecodeError", async () => {
  await assert.rejects(decodeAll(delimiter(), [text.encode("ok\na\x1bxb\n")]), (e) => {
    assert.ok(e instanceof DecodeError);
    assert.match(e.message, /invalid escape sequence 0x1b 0x78/);
    return true;
  });
});

Deno.test("delimiter() rejects an escape byte ending a frame with DecodeError", async () => {
  await assert.rejects(
    decodeAll(delimiter(), [text.encode("a\x1b\n")]),
    /escape byte at the end of a frame/,
  );
});

Deno.test("delimiter() rejects a delimiter's first byte that does not start the delimiter with DecodeError", async () => {
  await assert.rejects(
    decodeAll(delimiter({ delimiter: "\r\n" }), [text.encode("a\rb\r\n")]),
    DecodeError,
  );
});

Deno.test("delimiter() with escape: false refuses a payload containing the delimiter with TypeError", async () => {
  const framing = delimiter({ escape: false });
  assert.throws(() => framing.frame(text.encode("a\nb")), TypeError);
  await assert.rejects(encodeAll(framing, [text.encode("\n")]), TypeError);
  assert.deepEqual(frameBytes(framing, text.encode("a\x1b")), text.encode("a\x1b\n"));
});

Deno.test("delimiter() with escape: false refuses a payload whose end forms the delimiter with it", () => {
  const crlf = delimiter({ delimiter: "\r\n", escape: false });
  assert.deepEqual(frameBytes(crlf, text.encode("a\r")), text.encode("a\r\r\n"));
  const zeros = delimiter({ delimiter: "\0\0", escape: false });
  assert.throws(() => zeros.frame(text.encode("a\0")), TypeError);
  assert.throws(() => zeros.frame(text.encode("a\0\0b")), TypeError);
  assert.deepEqual(frameBytes(zeros, text.encode("\0a")), text.encode("\0a\0\0"));
});

Deno.test("delimiter() finds a multi-byte delimiter split across chunks", async () => {
  const framing = delimiter({ delimiter: "<END>", escape: false });
  const stream = text.encode("one<END><EN<END>three<END>");
  for (const chunking of ["bytes", [2], [3], [4], [6, 1]] as const) {
    const frames = await decodeAll(framing, rechunk(stream, chunking));
    assert.deepEqual(frames.map((f) => new TextDecoder().decode(f)), ["one", "<EN", "three"]);
  }
});

Deno.test("delimiter() rejects bad options with TypeError or RangeError", () => {
  assert.throws(() => delimiter({ delimiter: "" }), TypeError);
  assert.throws(() => delimiter({ escape: 0x0a }), TypeError);
  assert.throws(() => delimiter({ escape: 0x2a }), TypeError); // 0x2a ^ 0x20 is "\n"
  assert.throws(() => delimiter({ escape: 256 }), TypeError);
  assert.throws(() => delimiter({ escape: "ab" }), TypeError);
  assert.throws(() => delimiter({ escape: "é" }), TypeError);
  assert.throws(() => delimiter({ maxFrameSize: 0 }), RangeError);
});

Deno.test("delimiter() counts escape sequences towards maxFrameSize", async () => {
  const framing = delimiter({ maxFrameSize: 4 });
  assert.deepEqual(await decodeAll(framing, [frameBytes(framing, text.encode("\n\n"))]), [
    text.encode("\n\n"),
  ]);
  await assert.rejects(firstRead(framing, [text.encode("\x1b*\x1b*\x1b")]), FrameSizeError);
});

Deno.test("newline() strips a trailing \\r from each line", async () => {
  assert.deepEqual(await lines(newline(), '{"a":1}\r\n{"b":2}\n', "[3]\r", "\n"), [
    '{"a":1}',
    '{"b":2}',
    "[3]",
  ]);
});

Deno.test("newline() skips empty lines", async () => {
  assert.deepEqual(await lines(newline(), "\n\r\n[1]\n\n\n", "\r\n[2]\n\r\n"), ["[1]", "[2]"]);
});

Deno.test("newline() writes each payload followed by \\n", () => {
  const framing = newline();
  assert.equal(framing.name, "newline");
  assert.deepEqual(frameBytes(framing, text.encode('{"id":1}')), text.encode('{"id":1}\n'));
});

Deno.test("newline() refuses an empty payload, a newline or a trailing \\r with TypeError", () => {
  const framing = newline();
  assert.throws(() => framing.frame(bytes()), TypeError);
  assert.throws(() => framing.frame(text.encode("a\nb")), TypeError);
  assert.throws(() => framing.frame(text.encode("a\r")), TypeError);
  assert.deepEqual(frameBytes(framing, text.encode("a\rb")), text.encode("a\rb\n"));
});

Deno.test("newline() carries JSON texts from JSON.stringify unchanged", async () => {
  const framing = newline();
  await fc.assert(
    fc.asyncProperty(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 5 }), async (values) => {
      const encoded = values.map((v) => text.encode(JSON.stringify(v)));
      const stream = await encodeAll(framing, encoded);
      const frames = await decodeAll(framing, rechunk(stream, [7]));
      assert.deepEqual(
        frames.map((f) => JSON.parse(new TextDecoder().decode(f))),
        values.map((v) => JSON.parse(JSON.stringify(v))),
      );
    }),
    { numRuns: 50 },
  );
});

// The text path of newline(): what text codecs use on byte streams.
const textLines = (chunks: readonly Uint8Array[]) =>
  Array.fromAsync(ReadableStream.from(chunks).pipeThrough(newline().textDecoder!()));
const asText = (frame: string | Uint8Array) =>
  typeof frame === "string" ? frame : new TextDecoder().decode(frame);

Deno.test("newline().textDecoder() yields the same lines as decoder(), as strings, however the bytes are split", async () => {
  const line = fc.string({ unit: fc.constantFrom("a", "é", "✓", "😀", "\r", " ", "{", '"') });
  await fc.assert(
    fc.asyncProperty(
      fc.array(line, { maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }),
      async (list, chunking) => {
        const bytes = text.encode(list.map((l) => `${l}\n`).join(""));
        const expected = (await decodeAll(newline(), rechunk(bytes, chunking))).map((f) =>
          new TextDecoder().decode(f)
        );
        const got = await textLines(rechunk(bytes, chunking));
        assert.ok(got.every((f) => typeof f === "string"));
        assert.deepEqual(got, expected);
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("newline().textDecoder() hands a line of invalid UTF-8 on as bytes and keeps the others", async () => {
  const got = await textLines([
    text.encode("good\n"),
    bytes(0xff, 0xfe, 0x0a),
    text.encode("fine\n"),
  ]);
  assert.deepEqual(got.map(asText), ["good", "\ufffd\ufffd", "fine"]);
  assert.ok(got[1] instanceof Uint8Array, "the bad line stays bytes, for the codec to reject");
  assert.equal(got[2], "fine");
});

Deno.test("newline().textDecoder() enforces maxFrameSize on bytes, within a chunk and across chunks", async () => {
  const small = newline({ maxFrameSize: 8 });
  const decode = (chunks: Uint8Array[]) =>
    Array.fromAsync(ReadableStream.from(chunks).pipeThrough(small.textDecoder!()));
  assert.deepEqual(await decode([text.encode("12345678\r\n")]), ["12345678"]);
  await assert.rejects(decode([text.encode("123456789\n")]), FrameSizeError);
  await assert.rejects(decode(rechunk(text.encode("123456789\n"), "bytes")), FrameSizeError);
  // "é" is two bytes: five of them are 10 bytes though only 5 characters.
  await assert.rejects(decode([text.encode("ééééé\n")]), FrameSizeError);
  await assert.rejects(decode([text.encode("1234")]), DecodeError);
});

Deno.test("newline().frameText() agrees with frame() and refuses what frame() refuses", () => {
  const framing = newline();
  assert.equal(framing.frameText!('{"a":"✓"}'), '{"a":"✓"}\n');
  assert.deepEqual(
    text.encode(framing.frameText!('{"a":"✓"}')),
    framing.frame(text.encode('{"a":"✓"}')),
  );
  for (const bad of ["", "a\nb", "a\r"]) assert.throws(() => framing.frameText!(bad), TypeError);
});

Deno.test("newline() does not count a line's trailing \\r against maxFrameSize, in either decoder", async () => {
  const framing = newline({ maxFrameSize: 4 });
  const ok = [text.encode("abcd\r\n")];
  assert.deepEqual(await decodeAll(framing, ok), [text.encode("abcd")]);
  assert.deepEqual(
    await Array.fromAsync(ReadableStream.from(ok).pipeThrough(framing.textDecoder!())),
    ["abcd"],
  );
  for (const over of ["abcde\n", "abcde\r\n"]) {
    await assert.rejects(decodeAll(framing, [text.encode(over)]), FrameSizeError);
    await assert.rejects(
      Array.fromAsync(ReadableStream.from([text.encode(over)]).pipeThrough(framing.textDecoder!())),
      FrameSizeError,
    );
  }
  await assert.rejects(firstRead(framing, rechunk(text.encode("abcdef"), "bytes")), FrameSizeError);
});
