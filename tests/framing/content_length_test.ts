import assert from "node:assert/strict";
import { DecodeError, FrameSizeError } from "../../rpc/errors.ts";
import { contentLength } from "../../rpc/framing/content_length.ts";
import { decodeAll, firstRead, frameBytes, rechunk, runFramingSuite } from "./conformance.ts";

const text = new TextEncoder();
const HEADER_END = text.encode("\r\n\r\n");

const headerLength = (framed: Uint8Array): number => {
  for (let i = 0; i + 4 <= framed.length; i++) {
    if (HEADER_END.every((b, j) => framed[i + j] === b)) return i + 4;
  }
  throw new Error("no header end");
};

runFramingSuite("contentLength()", (limits) => contentLength(limits), {
  empty: true,
  headerLength,
});

runFramingSuite(
  'contentLength({ contentType: "application/vscode-jsonrpc; charset=utf-8" })',
  (limits) =>
    contentLength({ contentType: "application/vscode-jsonrpc; charset=utf-8", ...limits }),
  { empty: true, headerLength },
);

const decodeText = async (...chunks: string[]) =>
  (await decodeAll(contentLength(), chunks.map((c) => text.encode(c)))).map((f) =>
    new TextDecoder().decode(f)
  );

const rejectsWith = (pattern: RegExp, ...chunks: string[]) =>
  assert.rejects(decodeText(...chunks), (e) => {
    assert.ok(e instanceof DecodeError, String(e));
    assert.match(e.message, pattern);
    return true;
  });

Deno.test("contentLength() writes the LSP base protocol header", () => {
  const framing = contentLength();
  assert.equal(framing.name, "content-length");
  assert.deepEqual(
    frameBytes(framing, text.encode('{"a":"é"}')),
    text.encode('Content-Length: 10\r\n\r\n{"a":"é"}'),
  );
  const typed = contentLength({ contentType: "application/vscode-jsonrpc; charset=utf-8" });
  assert.deepEqual(
    frameBytes(typed, text.encode("{}")),
    text.encode(
      "Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}",
    ),
  );
  const large = new Uint8Array(100_000);
  const framed = framing.frame(large);
  assert.ok(Array.isArray(framed));
  assert.deepEqual(framed[0], text.encode("Content-Length: 100000\r\n\r\n"));
  assert.equal(framed[1], large);
});

Deno.test("contentLength() matches header names without regard to case", async () => {
  assert.deepEqual(await decodeText("content-length: 2\r\n\r\nab", "CONTENT-LENGTH:3\r\n\r\nxyz"), [
    "ab",
    "xyz",
  ]);
  assert.deepEqual(await decodeText("Content-length:   4  \r\n\r\nabcd"), ["abcd"]);
});

Deno.test("contentLength() ignores other headers before and after Content-Length", async () => {
  assert.deepEqual(
    await decodeText(
      "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 2\r\nX-Other: a:b\r\n\r\n{}",
      "Content-Length: 2\r\nContent-Type: text/plain\r\n\r\n[]",
    ),
    ["{}", "[]"],
  );
});

Deno.test("contentLength() accepts a repeated Content-Length with the same value", async () => {
  assert.deepEqual(await decodeText("Content-Length: 2\r\ncontent-length: 02\r\n\r\nok"), ["ok"]);
});

Deno.test("contentLength() rejects a missing Content-Length with DecodeError", async () => {
  await rejectsWith(/missing Content-Length header/, "Content-Type: text/plain\r\n\r\n{}");
});

Deno.test("contentLength() rejects conflicting Content-Length headers with DecodeError", async () => {
  await rejectsWith(
    /conflicting Content-Length headers 2 and 3/,
    "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
  );
});

Deno.test("contentLength() rejects a Content-Length that is not a decimal number with DecodeError", async () => {
  for (const value of ["abc", "-1", "1.5", "", "0x10", "1e3", "+2", "2 3"]) {
    await rejectsWith(/invalid Content-Length/, `Content-Length: ${value}\r\n\r\n{}`);
  }
});

Deno.test("contentLength() rejects a header line without a colon with DecodeError", async () => {
  await rejectsWith(/malformed header line "garbage"/, "Content-Length: 2\r\ngarbage\r\n\r\n{}");
  await rejectsWith(/malformed header line/, ": 2\r\n\r\n{}");
});

Deno.test("contentLength() rejects a header block over maxHeaderSize with DecodeError before it ends", async () => {
  const framing = contentLength({ maxHeaderSize: 64 });
  const header = text.encode(`Content-Length: 2\r\nX-Padding: ${"x".repeat(60)}\r\n`);
  for (const chunking of ["whole", "bytes"] as const) {
    await assert.rejects(firstRead(framing, rechunk(header, chunking)), (e) => {
      assert.ok(e instanceof DecodeError, String(e));
      assert.match(e.message, /header block of \d+ bytes or more exceeds the limit of 64 bytes/);
      return true;
    });
  }
  const defaults = contentLength();
  await assert.rejects(
    firstRead(defaults, [text.encode("X: " + "y".repeat(9000))]),
    /exceeds the limit of 8192/,
  );
});

Deno.test("contentLength() rejects a Content-Length over maxFrameSize before the body arrives", async () => {
  await assert.rejects(
    firstRead(contentLength(), [text.encode("Content-Length: 16777217\r\n\r\n")]),
    (e) => {
      assert.ok(e instanceof FrameSizeError);
      assert.equal(e.size, 16777217);
      return true;
    },
  );
  const huge = `Content-Length: ${"9".repeat(30)}\r\n\r\n`;
  await assert.rejects(firstRead(contentLength(), [text.encode(huge)]), FrameSizeError);
});

Deno.test("contentLength() finds the header end split across chunks", async () => {
  const stream = text.encode(
    "Content-Length: 3\r\n\r\nabcContent-Length: 0\r\n\r\nContent-Length: 1\r\n\r\n\r",
  );
  for (const chunking of ["bytes", [2], [3], [5], [19, 1, 1, 1]] as const) {
    const frames = await decodeAll(contentLength(), rechunk(stream, chunking));
    assert.deepEqual(frames.map((f) => new TextDecoder().decode(f)), ["abc", "", "\r"]);
  }
});

Deno.test("contentLength() rejects bad options", () => {
  assert.throws(() => contentLength({ maxHeaderSize: 0 }), RangeError);
  assert.throws(() => contentLength({ maxFrameSize: NaN }), RangeError);
  assert.throws(() => contentLength({ contentType: "a\r\nX-Injected: 1" }), TypeError);
});
