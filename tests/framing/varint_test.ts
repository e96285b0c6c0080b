import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError, FrameSizeError } from "../../rpc/errors.ts";
import { decodeVarint, encodeVarint, varint } from "../../rpc/framing/varint.ts";
import { decodeAll, firstRead, frameBytes, rechunk, runFramingSuite } from "./conformance.ts";

runFramingSuite("varint()", (limits) => varint(limits), {
  empty: true,
  headerLength: (framed) => decodeVarint(framed, 0)![1],
});

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("encodeVarint() writes protobuf's LEB128 bytes", () => {
  const vectors: [number, number[]][] = [
    [0, [0]],
    [1, [1]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [16_383, [0xff, 0x7f]],
    [16_384, [0x80, 0x80, 0x01]],
    [2 ** 31, [0x80, 0x80, 0x80, 0x80, 0x08]],
    [2 ** 32 - 1, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    [Number.MAX_SAFE_INTEGER, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];
  for (const [n, expected] of vectors) {
    assert.deepEqual(encodeVarint(n), bytes(...expected), String(n));
    assert.deepEqual(decodeVarint(bytes(...expected), 0), [n, expected.length], String(n));
  }
});

Deno.test("encodeVarint() rejects negative, fractional and unsafe numbers with RangeError", () => {
  for (const n of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(() => encodeVarint(n), RangeError, String(n));
  }
});

Deno.test("decodeVarint() reverses encodeVarint() at any offset", () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), fc.uint8Array({ maxLength: 4 }), (n, before) => {
      const encoded = encodeVarint(n);
      const buf = new Uint8Array([...before, ...encoded, 0xff]);
      assert.deepEqual(decodeVarint(buf, before.length), [n, encoded.length]);
    }),
    { numRuns: 100 },
  );
});

Deno.test("decodeVarint() returns undefined for an incomplete varint", () => {
  assert.equal(decodeVarint(bytes(0x80, 0x80), 0), undefined);
  assert.equal(decodeVarint(bytes(), 0), undefined);
  assert.equal(decodeVarint(bytes(1), 1), undefined);
});

Deno.test("decodeVarint() accepts non-minimal encodings, as protobuf does", () => {
  assert.deepEqual(decodeVarint(bytes(0x80, 0x00), 0), [0, 2]);
  assert.deepEqual(decodeVarint(bytes(0x81, 0x80, 0x00), 0), [1, 3]);
});

Deno.test("decodeVarint() rejects a varint over 10 bytes or 64 bits with DecodeError", () => {
  const eleven = bytes(...Array(10).fill(0x80), 0x01);
  assert.throws(() => decodeVarint(eleven, 0), DecodeError);
  const overflow = bytes(...Array(9).fill(0xff), 0x02);
  assert.throws(() => decodeVarint(overflow, 0), /does not fit in 64 bits/);
  // 2^64 - 1: valid, but beyond what a number holds exactly.
  assert.throws(() => decodeVarint(bytes(...Array(9).fill(0xff), 0x01), 0), RangeError);
});

Deno.test("varint() writes the length as a varint before the payload", () => {
  const framing = varint();
  assert.equal(framing.name, "varint");
  const payload = new Uint8Array(300);
  assert.deepEqual(frameBytes(framing, payload).subarray(0, 3), bytes(0xac, 0x02, 0));
  const large = new Uint8Array(100_000);
  const framed = framing.frame(large);
  assert.ok(Array.isArray(framed));
  assert.deepEqual(framed[0], encodeVarint(100_000));
  assert.equal(framed[1], large);
});

Deno.test("varint() rejects a varint over 10 bytes with DecodeError, in any chunks", async () => {
  const overlong = bytes(...Array(11).fill(0x80), 0x01);
  for (const chunking of ["whole", "bytes"] as const) {
    await assert.rejects(firstRead(varint(), rechunk(overlong, chunking)), (e) => {
      assert.ok(e instanceof DecodeError);
      assert.match(e.message, /varint longer than 10 bytes/);
      return true;
    });
  }
  const overflow = bytes(...Array(9).fill(0x80), 0x7f);
  await assert.rejects(firstRead(varint(), [overflow]), /does not fit in 64 bits/);
});

Deno.test("varint() rejects a huge declared length with FrameSizeError before the payload", async () => {
  const framing = varint({ maxFrameSize: Number.MAX_SAFE_INTEGER });
  await assert.rejects(firstRead(framing, [bytes(...Array(9).fill(0xff), 0x01)]), FrameSizeError);
  await assert.rejects(firstRead(varint(), [encodeVarint(2 ** 24 + 1)]), (e) => {
    assert.ok(e instanceof FrameSizeError);
    assert.equal(e.limit, 2 ** 24);
    return true;
  });
});

Deno.test("varint() decodes a non-minimal length", async () => {
  assert.deepEqual(await decodeAll(varint(), [bytes(0x82, 0x00, 7, 8)]), [bytes(7, 8)]);
});

Deno.test("varint() rejects a bad maxFrameSize with RangeError", () => {
  assert.throws(() => varint({ maxFrameSize: -1 }), RangeError);
});
