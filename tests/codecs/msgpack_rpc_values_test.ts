/**
 * The msgpack-rpc codec's exact values: whole doubles that stay doubles
 * (`Float`, `keepFloats`), strings that are not UTF-8 (`RawString`) and
 * extension types the codec was not told about (`MsgpackExt`), byte for
 * byte both ways.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { MsgpackExt, msgpackExtension, msgpackRpc, RawString } from "../../codecs/msgpack_rpc.ts";
import { Float, float } from "../../rpc/float.ts";
import type { Codec, RpcMessage } from "../../rpc/types.ts";

const codec = msgpackRpc();
const keeping = msgpackRpc({ keepFloats: true });
const bytes = (...b: number[]) => new Uint8Array(b);
const utf8 = (text: string) => [...new TextEncoder().encode(text)];
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The frame of a result: [1, 1, nil, <value bytes>] (arrays of bytes are spread). */
const resultFrame = (...value: (number | readonly number[])[]) =>
  new Uint8Array([0x94, 0x01, 0x01, 0xc0, ...value.flat()]);
/** The bytes after a result's header, as the codec encodes `value`. */
const encoded = (
  value: unknown,
  c: Codec = codec,
) => [...(c.encode({ kind: "result", id: 1, result: value }) as Uint8Array).subarray(4)];
function resultIn(frame: Uint8Array, c: Codec = codec): unknown {
  const decoded = c.decode(frame);
  assert.equal(decoded.kind, "result");
  return (decoded as { result: unknown }).result;
}
/** Decodes the frame and encodes the message back: the same bytes, or the assertion fails. */
function assertRoundTrip(frame: Uint8Array, c: Codec = codec): void {
  // Compared as arrays: msgpackr caches a `dataView` property on what it reads.
  assert.deepEqual([...c.encode(c.decode(frame) as RpcMessage) as Uint8Array], [...frame]);
}
/** A str header for `length` bytes, the smallest form. */
function strHeader(length: number): number[] {
  if (length < 0x20) return [0xa0 | length];
  if (length < 0x100) return [0xd9, length];
  if (length < 0x10000) return [0xda, length >> 8, length & 0xff];
  return [0xdb, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
}

Deno.test("msgpack Float: float 64 whatever its value; plain numbers unchanged", () => {
  const f64 = (...rest: number[]) => [0xcb, ...rest, ...new Array(8 - rest.length).fill(0)];
  assert.deepEqual(encoded(float(2)), f64(0x40));
  assert.deepEqual(encoded(float(0)), f64(0x00));
  assert.deepEqual(encoded(float(-0)), f64(0x80));
  assert.deepEqual(encoded(float(NaN)), f64(0x7f, 0xf8));
  assert.deepEqual(encoded(float(Infinity)), f64(0x7f, 0xf0));
  assert.deepEqual(encoded(float(-Infinity)), f64(0xff, 0xf0));
  assert.deepEqual(encoded(float(1.5)), f64(0x3f, 0xf8));
  assert.deepEqual(encoded(float(2 ** 40)), f64(0x42, 0x70));
  // Plain numbers: whole ones are ints, as before.
  assert.deepEqual(encoded(2), [0x02]);
  assert.deepEqual(encoded(-0), [0x00]);
  assert.deepEqual(encoded(1.5), f64(0x3f, 0xf8));
  // Wherever they stand: params, nested maps, Map keys, error data.
  const request = codec.encode({
    kind: "request",
    id: 1,
    method: "f",
    params: [{ x: float(1) }, new Map([[float(3), "k"]])],
  }) as Uint8Array;
  assert.deepEqual(
    [...request.subarray(5)],
    [0x92, 0x81, 0xa1, 0x78, ...f64(0x3f, 0xf0), 0x81, ...f64(0x40, 0x08), 0xa1, 0x6b],
  );
  const error = codec.encode({
    kind: "error",
    id: 1,
    error: { code: 1, message: "m", data: [float(4)] },
  }) as Uint8Array;
  // [1, 1, {code, message, data: [4.0]}, nil]
  assert.deepEqual([...error.subarray(-11)], [0x91, ...f64(0x40, 0x10), 0xc0]);
});

Deno.test("msgpack keepFloats: float 32 and 64 decode as Float, sign of zero kept; default stays numbers", () => {
  const frame = resultFrame(
    0x95,
    ...encoded(float(2)),
    ...encoded(float(-0)),
    0xca,
    0x3f,
    0xc0,
    0x00,
    0x00, // float 32: 1.5
    0x07,
    ...encoded(float(NaN)),
  );
  const kept = resultIn(frame, keeping) as unknown[];
  assert.deepEqual(kept.slice(0, 4), [new Float(2), new Float(-0), new Float(1.5), 7]);
  assert.ok(Object.is((kept[1] as Float).value, -0));
  assert.ok(kept[4] instanceof Float && Number.isNaN(kept[4].value));
  const plain = resultIn(frame) as unknown[];
  assert.deepEqual(plain.slice(0, 4), [2, -0, 1.5, 7]);
  assert.ok(Object.is(plain[1], -0));
  // Kept floats go back as float 64: float 32 is widened, the rest byte for byte.
  assert.deepEqual(
    encoded(kept, keeping),
    [
      0x95,
      ...encoded(float(2)),
      ...encoded(float(-0)),
      ...encoded(float(1.5)),
      0x07,
      ...encoded(float(NaN)),
    ],
  );
  assertRoundTrip(resultFrame(0x92, ...encoded(float(0)), ...encoded(float(1e300))), keeping);
  // A float as a map key: the map is a Map.
  const keyed = resultIn(resultFrame(0x81, ...encoded(float(2)), 0xa1, 0x76), keeping);
  assert.deepEqual(keyed, new Map([[new Float(2), "v"]]));
});

Deno.test("msgpack RawString: a str that is not UTF-8 keeps its bytes and goes back unchanged", () => {
  const cafe = [0x63, 0x61, 0x66, 0xe9]; // "caf\xe9", Latin-1
  const frame = resultFrame(0xa4, ...cafe);
  const raw = resultIn(frame);
  assert.ok(raw instanceof RawString);
  assert.deepEqual(raw.bytes, new Uint8Array(cafe));
  assert.equal(String(raw), "caf\ufffd");
  assertRoundTrip(frame);
  // str 8, 16 and 32, in the middle of other values (the frame is rewritten around them).
  for (const length of [200, 3000, 70_000]) {
    const body = new Array(length).fill(0x61);
    body[length >> 1] = 0xff;
    const long = resultFrame(0x93, 0x01, strHeader(length), body, 0xa2, 0x6f, 0x6b);
    const [one, middle, ok] = resultIn(long) as [number, RawString, string];
    assert.deepEqual([one, ok], [1, "ok"]);
    assert.deepEqual(middle.bytes, new Uint8Array(body));
    assertRoundTrip(long);
  }
  // Valid UTF-8 stays a string, U+FFFD itself included, short and long.
  const valid = ["café", "\ufffd", "x🎉".repeat(2000) + "\ufffd", "é".repeat(1500)];
  // A leading U+FEFF is text, not a byte order mark to drop.
  for (const text of [...valid, "\ufeffbom", "\ufeff" + "y".repeat(3000)]) {
    assert.equal(resultIn(resultFrame(...strHeader(utf8(text).length), ...utf8(text))), text);
  }
  // A RawString made here, valid UTF-8 or not, encodes as a str of its bytes.
  assert.deepEqual(encoded(new RawString(new Uint8Array([0xff]))), [0xa1, 0xff]);
  assert.equal(resultIn(resultFrame(...encoded(new RawString(new Uint8Array(utf8("é")))))), "é");
  assert.throws(() => new RawString([1] as unknown as Uint8Array), TypeError);
});

Deno.test("msgpack RawString: exactly the strings a fatal UTF-8 decoder refuses", () => {
  const cases: number[][] = [
    [0x80], // a continuation byte alone
    [0xc0, 0xaf], // overlong "/"
    [0xc1, 0xbf], // overlong
    [0xe0, 0x80, 0xaf], // overlong 3-byte
    [0xed, 0xa0, 0x80], // a surrogate
    [0xf0, 0x80, 0x80, 0xaf], // overlong 4-byte
    [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
    [0xf5, 0x80, 0x80, 0x80],
    [0xe2, 0x82], // cut off
    [0x61, 0xf0, 0x9f, 0x8e], // cut off at the end
  ];
  for (const body of cases) {
    const raw = resultIn(resultFrame(...strHeader(body.length), ...body));
    assert.ok(raw instanceof RawString, JSON.stringify(body));
    assert.deepEqual(raw.bytes, new Uint8Array(body));
  }
  // Every alignment and length around the word-at-a-time check, and a bad byte at every place.
  for (let padding = 0; padding < 8; padding++) {
    const at = (body: number[]) =>
      resultIn(
        resultFrame(
          0x92,
          strHeader(padding),
          new Array(padding).fill(0x20),
          strHeader(body.length),
          body,
        ),
      );
    for (const length of [15, 16, 17, 31, 32, 33, 40, 255, 256, 1000]) {
      const ascii = new Array(length).fill(0x61);
      assert.deepEqual(at(ascii), [" ".repeat(padding), "a".repeat(length)]);
      const text = "é".repeat(length >> 1) + "a".repeat(length & 1);
      assert.deepEqual(at(utf8(text)), [" ".repeat(padding), text]);
    }
    for (let place = 0; place < 40; place++) {
      const body = new Array(40).fill(0x61);
      body[place] = 0x80;
      const [, raw] = at(body) as [string, RawString];
      assert.ok(raw instanceof RawString, `padding ${padding}, 0x80 at ${place}`);
    }
  }
  // Any bytes, at any alignment in the frame: a string exactly when TextDecoder accepts them.
  const byte = fc.oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0xff }),
    fc.constantFrom(0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xed, 0xc3, 0xa9),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 7 }),
      fc.array(byte, { maxLength: 80 }),
      fc.array(fc.integer({ min: 0, max: 0x7f }), { maxLength: 40 }),
      (padding, tail, ascii) => {
        const body = [...ascii, ...tail];
        const frame = resultFrame(
          0x92,
          ...strHeader(padding),
          ...new Array(padding).fill(0x20),
          ...strHeader(body.length),
          ...body,
        );
        const [, value] = resultIn(frame) as [string, unknown];
        let text: string | undefined;
        try {
          text = fatal.decode(new Uint8Array(body));
        } catch {
          text = undefined;
        }
        if (text === undefined) {
          assert.ok(value instanceof RawString);
          assert.deepEqual(value.bytes, new Uint8Array(body));
        } else {
          assert.equal(value, text);
        }
        assertRoundTrip(frame);
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("msgpack RawString: as a map key, a method name, an error message", () => {
  // {"caf\xe9": 1, "a": 2}: a Map, since a key is not a string.
  const map = resultIn(resultFrame(0x82, 0xa4, 0x63, 0x61, 0x66, 0xe9, 0x01, 0xa1, 0x61, 0x02));
  assert.ok(map instanceof Map);
  assert.deepEqual([...map.values()], [1, 2]);
  assert.deepEqual((map.keys().next().value as RawString).bytes, bytes(0x63, 0x61, 0x66, 0xe9));
  // [0, 5, "f\xff", []]: the method is not a string.
  const request = codec.decode(bytes(0x94, 0x00, 0x05, 0xa2, 0x66, 0xff, 0x90));
  assert.equal(request.kind, "invalid");
  assert.equal((request as { id: unknown }).id, 5);
  // Neovim's [type, message] with a Latin-1 message: its text.
  const error = codec.decode(bytes(0x94, 0x01, 0x03, 0x92, 0x00, 0xa2, 0x45, 0xe9, 0xc0));
  assert.deepEqual(error, { kind: "error", id: 3, error: { code: 0, message: "E\ufffd" } });
});

Deno.test("msgpack MsgpackExt: every ext form decodes and goes back byte for byte", () => {
  const forms: [number[], number][] = [
    [[0xd4], 1],
    [[0xd5], 2],
    [[0xd6], 4],
    [[0xd7], 8],
    [[0xd8], 16],
    [[0xc7, 0x00], 0],
    [[0xc7, 0x03], 3],
    [[0xc7, 0xff], 255],
    [[0xc8, 0x01, 0x2c], 300],
    [[0xc9, 0x00, 0x01, 0x11, 0x70], 70_000],
  ];
  for (const [header, length] of forms) {
    for (const type of [0, 5, 127, -5, -128]) {
      const data = new Uint8Array(length).map((_, i) => (i * 31) % 256);
      const frame = resultFrame(header, type & 0xff, [...data]);
      const ext = resultIn(frame);
      assert.deepEqual(ext, new MsgpackExt(type, data), `${header[0]} of ${length}, type ${type}`);
      assert.deepEqual(encoded(ext), [...header, type & 0xff].concat([...data]));
    }
  }
  assert.throws(() => new MsgpackExt(128, new Uint8Array()), RangeError);
  assert.throws(() => new MsgpackExt(1.5, new Uint8Array()), RangeError);
  assert.throws(() => new MsgpackExt(1, [1] as unknown as Uint8Array), TypeError);
});

Deno.test("msgpack: every kind of value at once, and the data handed out is a copy", () => {
  const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
  const value = [
    1,
    new MsgpackExt(3, new Uint8Array([9, 8])),
    "text",
    new RawString(new Uint8Array([0xe9])),
    { k: new MsgpackExt(-7, new Uint8Array(20)), bin: new Uint8Array([1, 2, 3]), when },
    float(2),
    "é".repeat(2000),
  ];
  const frame = keeping.encode({ kind: "result", id: 1, result: value }) as Uint8Array;
  const decoded = resultIn(frame, keeping) as unknown[];
  assert.deepEqual(decoded, value);
  assertRoundTrip(frame, keeping);
  // The transport may reuse its buffer: nothing decoded may change with it.
  frame.fill(0);
  assert.deepEqual(decoded, value);
});

Deno.test("msgpack: an extension's decode may decode a frame itself", () => {
  class Box {
    constructor(readonly inner: unknown) {}
  }
  const boxes: Codec = msgpackRpc({
    extensions: [msgpackExtension({
      type: 1,
      Class: Box,
      encode: (box) => boxes.encode({ kind: "result", id: 1, result: box.inner }) as Uint8Array,
      decode: (data) => new Box(resultIn(data, boxes)),
    })],
  });
  const value = [new Box([new MsgpackExt(2, new Uint8Array([7])), "caf\u00e9"]), "after"];
  const frame = boxes.encode({ kind: "result", id: 1, result: value }) as Uint8Array;
  assert.deepEqual(resultIn(frame, boxes), value);
});

Deno.test("msgpack: measure() finds the end of frames with noted values", () => {
  const frames = [
    resultFrame(0xa4, 0x63, 0x61, 0x66, 0xe9),
    resultFrame(0xd4, 0x00, 0x01),
    resultFrame(...encoded(float(2))),
  ];
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const frame of frames) {
    stream.set(frame, at);
    assert.equal(keeping.measure!(stream.subarray(at)), frame.length);
    assert.equal(keeping.measure!(stream.subarray(at, at + frame.length - 1)), undefined);
    at += frame.length;
  }
});

Deno.test("msgpack RawString: frames read into one reused buffer, at every offset, are checked afresh", () => {
  // A transport reads into one buffer: the frames are views of it, each decoded before the next read.
  const buffer = new Uint8Array(256);
  const valid = [...strHeader(40), ...new Array(40).fill(0x61)];
  const invalid = [...strHeader(40), ...new Array(39).fill(0x61), 0xe9];
  for (let offset = 0; offset < 8; offset++) {
    for (const [body, isValid] of [[valid, true], [invalid, false], [valid, true]] as const) {
      const frame = resultFrame(body);
      buffer.fill(0);
      buffer.set(frame, offset);
      const value = resultIn(buffer.subarray(offset, offset + frame.length));
      assert.equal(typeof value === "string", isValid, `offset ${offset}`);
    }
  }
  // A resizable buffer, read from small, then grown: its words are taken again.
  const growing = new ArrayBuffer(32, { maxByteLength: 1024 });
  const view = new Uint8Array(growing);
  const short = resultFrame(strHeader(20), new Array(20).fill(0x62));
  view.set(short);
  assert.equal(resultIn(view.subarray(0, short.length)), "b".repeat(20));
  const long = resultFrame(
    strHeader(200),
    new Array(100).fill(0x62),
    0xff,
    new Array(99).fill(0x62),
  );
  growing.resize(long.length);
  view.set(long);
  assert.ok(resultIn(view.subarray(0, long.length)) instanceof RawString);
});
