import assert from "node:assert/strict";
import { DecodeError, FrameSizeError } from "../../rpc/errors.ts";
import { lengthPrefix, type LengthPrefixOptions } from "../../rpc/framing/length_prefix.ts";
import {
  decodeAll,
  encodeAll,
  firstRead,
  frameBytes,
  rechunk,
  runFramingSuite,
} from "./conformance.ts";

const configs: { label: string; options: LengthPrefixOptions; largest: number }[] = [
  { label: "lengthPrefix()", options: {}, largest: Infinity },
  { label: "lengthPrefix({ width: 1 })", options: { width: 1 }, largest: 0xff },
  { label: "lengthPrefix({ width: 2 })", options: { width: 2 }, largest: 0xffff },
  { label: "lengthPrefix({ width: 8 })", options: { width: 8 }, largest: Infinity },
  {
    label: "lengthPrefix({ width: 2, littleEndian: true })",
    options: { width: 2, littleEndian: true },
    largest: 0xffff,
  },
  {
    label: "lengthPrefix({ width: 8, littleEndian: true })",
    options: { width: 8, littleEndian: true },
    largest: Infinity,
  },
];

for (const { label, options, largest } of configs) {
  runFramingSuite(label, (limits) => lengthPrefix({ ...options, ...limits }), {
    empty: true,
    largest,
    headerLength: () => options.width ?? 4,
  });
}

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("lengthPrefix() writes a 4-byte big-endian length by default", () => {
  assert.deepEqual(lengthPrefix().frame(bytes(9, 8)), bytes(0, 0, 0, 2, 9, 8));
  assert.equal(lengthPrefix().name, "length-prefix");
});

Deno.test("lengthPrefix() writes each width in both byte orders", () => {
  const payload = new Uint8Array(0x0102);
  const expected: [LengthPrefixOptions, number[]][] = [
    [{ width: 2 }, [1, 2]],
    [{ width: 2, littleEndian: true }, [2, 1]],
    [{ width: 4 }, [0, 0, 1, 2]],
    [{ width: 4, littleEndian: true }, [2, 1, 0, 0]],
    [{ width: 8 }, [0, 0, 0, 0, 0, 0, 1, 2]],
    [{ width: 8, littleEndian: true }, [2, 1, 0, 0, 0, 0, 0, 0]],
  ];
  for (const [options, header] of expected) {
    const framed = frameBytes(lengthPrefix(options), payload);
    assert.deepEqual(framed.subarray(0, header.length), bytes(...header), JSON.stringify(options));
  }
  assert.deepEqual(lengthPrefix({ width: 1 }).frame(bytes(5)), bytes(1, 5));
});

Deno.test("lengthPrefix() reads lengths above 2^31 and 2^32 in 8-byte prefixes", async () => {
  const limit = 2 ** 40;
  const big = lengthPrefix({ width: 8, maxFrameSize: Number.MAX_SAFE_INTEGER });
  const header = bytes(0, 0, 0x01, 0, 0x80, 0, 0, 0); // 2^40 + 2^31
  await assert.rejects(
    firstRead(lengthPrefix({ width: 8, maxFrameSize: limit }), [header]),
    (e) => {
      assert.ok(e instanceof FrameSizeError);
      assert.equal(e.size, 2 ** 40 + 2 ** 31);
      return true;
    },
  );
  const little = lengthPrefix({ width: 8, littleEndian: true, maxFrameSize: limit });
  await assert.rejects(firstRead(little, [bytes(0, 0, 0, 0x80, 0, 0x01, 0, 0)]), (e) => {
    assert.ok(e instanceof FrameSizeError);
    assert.equal(e.size, 2 ** 40 + 2 ** 31);
    return true;
  });
  // A 4-byte prefix of 0xffffffff is read as unsigned.
  await assert.rejects(
    firstRead(lengthPrefix({ maxFrameSize: 2 ** 31 }), [bytes(0xff, 0xff, 0xff, 0xff)]),
    (e) => {
      assert.ok(e instanceof FrameSizeError);
      assert.equal(e.size, 0xffff_ffff);
      return true;
    },
  );
  assert.deepEqual(frameBytes(big, bytes(1)), bytes(0, 0, 0, 0, 0, 0, 0, 1, 1));
});

Deno.test("lengthPrefix() rejects an 8-byte length beyond Number.MAX_SAFE_INTEGER with FrameSizeError", async () => {
  const framing = lengthPrefix({ width: 8, maxFrameSize: Number.MAX_SAFE_INTEGER });
  for (
    const header of [
      bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      bytes(0, 0x20, 0, 0, 0, 0, 0, 0),
    ]
  ) {
    await assert.rejects(firstRead(framing, rechunk(header, "bytes")), FrameSizeError);
  }
});

Deno.test("lengthPrefix() refuses a payload longer than the prefix can express with RangeError", async () => {
  assert.throws(() => lengthPrefix({ width: 1 }).frame(new Uint8Array(256)), RangeError);
  assert.throws(() => lengthPrefix({ width: 2 }).frame(new Uint8Array(0x10000)), RangeError);
  await assert.rejects(encodeAll(lengthPrefix({ width: 1 }), [new Uint8Array(300)]), RangeError);
  assert.deepEqual(frameBytes(lengthPrefix({ width: 1 }), new Uint8Array(255)).length, 256);
});

Deno.test("lengthPrefix() returns [prefix, payload] without copying a payload over 64 KiB", () => {
  const payload = new Uint8Array(100_000);
  const framed = lengthPrefix().frame(payload);
  assert.ok(Array.isArray(framed));
  assert.deepEqual(framed[0], bytes(0, 1, 0x86, 0xa0));
  assert.equal(framed[1], payload);
});

Deno.test("lengthPrefix() rejects a bad width or maxFrameSize with RangeError", () => {
  assert.throws(() => lengthPrefix({ width: 3 as 4 }), RangeError);
  assert.throws(() => lengthPrefix({ maxFrameSize: 0 }), RangeError);
  assert.throws(() => lengthPrefix({ maxFrameSize: 1.5 }), RangeError);
});

Deno.test("lengthPrefix() reads a prefix split across chunks of any size", async () => {
  const framing = lengthPrefix({ width: 8, littleEndian: true });
  const stream = bytes(3, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0);
  for (const chunking of [[1], [2], [3], [5], [7], [9, 1]]) {
    assert.deepEqual(await decodeAll(framing, rechunk(stream, chunking)), [
      bytes(1, 2, 3),
      bytes(),
    ]);
  }
});

Deno.test("lengthPrefix() errors with DecodeError when the stream ends inside a prefix", async () => {
  await assert.rejects(decodeAll(lengthPrefix(), [bytes(0, 0, 0, 1, 7), bytes(0, 0)]), (e) => {
    assert.ok(e instanceof DecodeError);
    assert.match(e.message, /unexpected end of stream after 2 bytes of a frame header/);
    return true;
  });
});
