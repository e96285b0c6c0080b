import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError, FrameSizeError } from "../../rpc/errors.ts";
import { jsonValues, selfDelimiting } from "../../rpc/framing/self_delimiting.ts";
import {
  concat,
  decodeAll,
  encodeAll,
  firstRead,
  rechunk,
  runFramingSuite,
} from "./conformance.ts";

const text = new TextEncoder();
const bytes = (...values: number[]) => new Uint8Array(values);

/** Messages that start with their body's length as a 4-byte big-endian number. */
function measureTlv(buf: Uint8Array): number | undefined {
  if (buf.length < 4) return undefined;
  const size = 4 + new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
  return buf.length >= size ? size : undefined;
}

function tlv(body: Uint8Array): Uint8Array {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, body.length);
  return concat([header, body]);
}

runFramingSuite("selfDelimiting()", (limits) => selfDelimiting(measureTlv, limits), {
  empty: false,
  payloads: fc.uint8Array({ maxLength: 300 }).map(tlv),
  sample: (size) => tlv(new Uint8Array(size - 4).fill(0x61)),
});

const jsonText = fc.oneof(
  fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  fc.array(
    fc.string({ unit: fc.constantFrom('"', "\\", "{", "}", "[", "]", "a", "é", "\n", " ") }),
  ),
).map((value) => text.encode(JSON.stringify(value)));

const jsonSample = (size: number) =>
  size === 2
    ? text.encode("[]")
    : size === 3
    ? text.encode("[0]")
    : text.encode(`["${"a".repeat(size - 4)}"]`);

runFramingSuite("jsonValues()", (limits) => jsonValues(limits), {
  empty: false,
  payloads: jsonText,
  sample: jsonSample,
});

const values = async (...chunks: string[]) =>
  (await decodeAll(jsonValues(), chunks.map((c) => text.encode(c)))).map((f) =>
    new TextDecoder().decode(f)
  );

Deno.test("jsonValues() is not fooled by brackets and escaped quotes inside strings", async () => {
  const tricky = [
    String.raw`{"a":"}\"]{[","b":["\\"]}`,
    String.raw`["\\\\\"]"]`,
    String.raw`{"\"}":{"\\":"\\\""}}`,
  ];
  assert.deepEqual(await values(tricky.join("")), tricky);
  for (const chunking of ["bytes", [2], [3]] as const) {
    const frames = await decodeAll(jsonValues(), rechunk(text.encode(tricky.join(" ")), chunking));
    assert.deepEqual(frames.map((f) => new TextDecoder().decode(f)), tricky);
  }
  for (const value of tricky) JSON.parse(value);
});

Deno.test("jsonValues() splits nested values at the end of the outermost one", async () => {
  assert.deepEqual(await values('[[1,[2,{"a":[3]}]],{}]{"b":{"c":{}}}[]'), [
    '[[1,[2,{"a":[3]}]],{}]',
    '{"b":{"c":{}}}',
    "[]",
  ]);
});

Deno.test("jsonValues() skips whitespace between values and leaves it out of frames", async () => {
  assert.deepEqual(await values(' \t\r\n{ "a" : 1 }\n\n', "  [ 1 ,\n 2 ]\r\n", " \t "), [
    '{ "a" : 1 }',
    "[ 1 ,\n 2 ]",
  ]);
});

Deno.test("jsonValues() rejects a top-level value that is not an object or array with DecodeError", async () => {
  for (const garbage of ["x", "1", '"s"', "}", "]", "null", ",", "\uFEFF{}"]) {
    await assert.rejects(values(garbage), DecodeError, garbage);
  }
  const decoder = jsonValues().decoder();
  const writer = decoder.writable.getWriter();
  const reader = decoder.readable.getReader();
  writer.write(text.encode('{"a":1}  ,{}')).catch(() => {});
  assert.deepEqual(await reader.read(), { done: false, value: text.encode('{"a":1}') });
  await assert.rejects(reader.read(), (e) => {
    assert.ok(e instanceof DecodeError);
    assert.equal(e.offset, 9);
    assert.match(e.message, /must be an object or an array, found ","/);
    return true;
  });
});

Deno.test("jsonValues() errors with DecodeError when the stream ends inside a string or an escape", async () => {
  await assert.rejects(values('["abc'), /unexpected end of stream/);
  await assert.rejects(values('["a\\'), /unexpected end of stream/);
  await assert.rejects(values("["), /unexpected end of stream/);
});

Deno.test("jsonValues() counts a text's bytes from its opening bracket against maxFrameSize", async () => {
  const padded = text.encode('      ["123456"]  ');
  assert.deepEqual(await decodeAll(jsonValues({ maxFrameSize: 10 }), [padded]), [
    text.encode('["123456"]'),
  ]);
  await assert.rejects(decodeAll(jsonValues({ maxFrameSize: 9 }), [padded]), FrameSizeError);
  const unfinished = rechunk(text.encode('  ["1234567'), "bytes");
  await assert.rejects(firstRead(jsonValues({ maxFrameSize: 8 }), unfinished), FrameSizeError);
});

Deno.test("jsonValues() refuses to frame an empty payload or a scalar with TypeError", async () => {
  const framing = jsonValues();
  assert.equal(framing.name, "json-values");
  assert.throws(() => framing.frame(bytes()), TypeError);
  assert.throws(() => framing.frame(text.encode("1")), TypeError);
  assert.throws(() => framing.frame(text.encode(' {"a":1}')), TypeError);
  await assert.rejects(encodeAll(framing, [text.encode('"s"')]), TypeError);
  const payload = text.encode("[1]");
  assert.equal(framing.frame(payload), payload);
});

Deno.test("selfDelimiting() passes payloads through unchanged", async () => {
  const framing = selfDelimiting(measureTlv);
  assert.equal(framing.name, "self-delimiting");
  const payload = tlv(bytes(1, 2));
  assert.equal(framing.frame(payload), payload);
  assert.deepEqual(await encodeAll(framing, [payload, payload]), concat([payload, payload]));
});

Deno.test("selfDelimiting() passes on a DecodeError thrown by measure", async () => {
  const framing = selfDelimiting((buf) => {
    if (buf[0] === 0xc1) throw new DecodeError("msgpack", "0xc1 is never used", 0);
    return 1;
  });
  assert.deepEqual(await decodeAll(framing, [bytes(1, 2)]), [bytes(1), bytes(2)]);
  await assert.rejects(decodeAll(framing, [bytes(1, 0xc1)]), /0xc1 is never used/);
});

Deno.test("selfDelimiting() rejects a measure result that is not a length within the buffer with TypeError", async () => {
  for (const result of [0, -1, 1.5, 3, NaN]) {
    const framing = selfDelimiting(() => result);
    await assert.rejects(decodeAll(framing, [bytes(1, 2)]), TypeError, String(result));
  }
});

Deno.test("selfDelimiting() rejects a measured message over maxFrameSize with FrameSizeError", async () => {
  const framing = selfDelimiting(measureTlv, { maxFrameSize: 16 });
  const message = tlv(new Uint8Array(13));
  await assert.rejects(decodeAll(framing, [message]), (e) => {
    assert.ok(e instanceof FrameSizeError);
    assert.equal(e.size, 17);
    return true;
  });
  // Held back over several chunks, the incomplete message is capped too.
  await assert.rejects(firstRead(framing, rechunk(message.subarray(0, 17), [5])), FrameSizeError);
});

Deno.test("selfDelimiting() measures a message growing over many chunks and copies it out", async () => {
  let calls = 0;
  const framing = selfDelimiting((buf) => {
    calls++;
    return measureTlv(buf);
  });
  const messages = [tlv(new Uint8Array(1000).fill(7)), tlv(bytes(1)), tlv(bytes())];
  const stream = concat(messages);
  const chunks = rechunk(stream, [100]);
  const frames = await decodeAll(framing, chunks);
  assert.deepEqual(frames, messages);
  assert.ok(calls <= chunks.length + messages.length + 1, `${calls} calls`);
  assert.notEqual(frames[0]!.buffer, chunks[0]!.buffer);
});
