import assert from "node:assert/strict";
import { MsgpackExt, msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import type { RpcMessage } from "../../rpc/types.ts";
import { runCodecSuite } from "./conformance.ts";

const codec = msgpackRpc();

// msgpack-rpc always carries a params array, and a result slot.
function normalize(message: RpcMessage): RpcMessage {
  if ((message.kind === "request" || message.kind === "notification") && !message.params) {
    return { ...message, params: [] };
  }
  return message;
}

runCodecSuite("msgpackRpc()", codec, {
  uint32Ids: true,
  wellFormedStrings: true,
  normalize,
  garbage: [
    new Uint8Array([0xc1]),
    new Uint8Array([0x94, 0, 1, 0xa3, 0x61, 0x64, 0x64, 0x92, 1, 2, 0xff]),
  ],
});

const bytes = (...b: number[]) => new Uint8Array(b);
const wireOf = (message: RpcMessage) => codec.encode(message) as Uint8Array;
const resultIn = (frame: Uint8Array) => {
  const decoded = codec.decode(frame);
  assert.equal(decoded.kind, "result");
  return (decoded as { result: unknown }).result;
};
const resultOf = (value: unknown) => {
  const decoded = codec.decode(wireOf({ kind: "result", id: 1, result: value }));
  assert.equal(decoded.kind, "result");
  return (decoded as { result: unknown }).result;
};

Deno.test("msgpackRpc: the specification's message shapes", () => {
  // [0, 1, "add", [1, 2]]
  assert.deepEqual(
    wireOf({ kind: "request", id: 1, method: "add", params: [1, 2] }),
    bytes(0x94, 0x00, 0x01, 0xa3, 0x61, 0x64, 0x64, 0x92, 0x01, 0x02),
  );
  // [1, 1, nil, 3]
  assert.deepEqual(
    wireOf({ kind: "result", id: 1, result: 3 }),
    bytes(0x94, 0x01, 0x01, 0xc0, 0x03),
  );
  // [2, "zip", []]
  assert.deepEqual(
    wireOf({ kind: "notification", method: "zip" }),
    bytes(0x93, 0x02, 0xa3, 0x7a, 0x69, 0x70, 0x90),
  );
  // [1, 7, {code: 1, message: "overflow"}, nil]
  const error = codec.decode(
    wireOf({ kind: "error", id: 7, error: { code: 1, message: "overflow" } }),
  );
  assert.deepEqual(error, { kind: "error", id: 7, error: { code: 1, message: "overflow" } });
  assert.throws(() => codec.encode([{ kind: "notification", method: "a" }]), TypeError);
  assert.throws(() => wireOf({ kind: "request", id: "x", method: "a" }), TypeError);
  assert.throws(() => wireOf({ kind: "request", id: 2 ** 32, method: "a" }), TypeError);
});

Deno.test("msgpackRpc: errors in other servers' shapes", () => {
  // Neovim: [1, 3, [0, "Vim:E121: Undefined variable: x"], nil]
  const text = "Vim:E121";
  const nvim = new Uint8Array([
    0x94,
    1,
    3,
    0x92,
    0,
    0xa0 | text.length,
    ...new TextEncoder().encode(text),
    0xc0,
  ]);
  assert.deepEqual(codec.decode(nvim), { kind: "error", id: 3, error: { code: 0, message: text } });
  const plain = new Uint8Array([0x94, 1, 4, 0xa4, 0x6f, 0x6f, 0x70, 0x73, 0xc0]);
  assert.deepEqual(codec.decode(plain), {
    kind: "error",
    id: 4,
    error: { code: -32603, message: "oops" },
  });
});

Deno.test("msgpackRpc: values both ways", () => {
  assert.equal(resultOf(2 ** 31), 2 ** 31);
  assert.equal(resultOf(-(2 ** 40)), -(2 ** 40));
  assert.equal(resultOf(2n ** 63n - 1n), 2n ** 63n - 1n);
  assert.equal(resultOf(-(2n ** 63n)), -(2n ** 63n));
  assert.equal(resultOf(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.throws(() => wireOf({ kind: "result", id: 1, result: 2n ** 64n }), RangeError);
  // Safe integers beyond 32 bits travel as integers, not doubles.
  const wide = wireOf({ kind: "result", id: 1, result: 2 ** 40 });
  assert.equal(wide[4], 0xd3);
  assert.equal(resultOf(1.5), 1.5);
  assert.ok(Number.isNaN(resultOf(NaN)));
  assert.equal(resultOf(-Infinity), -Infinity);
  assert.equal(resultOf("héllo ✓ 𝄞"), "héllo ✓ 𝄞");
  assert.deepEqual(resultOf(new Uint8Array([0, 255])), new Uint8Array([0, 255]));
  assert.equal(resultOf(undefined), null);
  const when = new Date(Date.UTC(2026, 10, 26, 12, 0, 0, 123));
  assert.deepEqual(resultOf(when), when);
  assert.deepEqual(resultOf(new Date(0)), new Date(0));
  assert.deepEqual(resultOf(new Set([1, 2])), [1, 2]);
  assert.deepEqual(resultOf({ a: [1, { b: null }] }), { a: [1, { b: null }] });
  assert.deepEqual(resultOf(new Map([["a", 1]])), { a: 1 });
  const mixed = new Map<unknown, unknown>([[1, "one"], ["two", new Map([[true, 2 ** 40]])]]);
  assert.deepEqual(resultOf(mixed), mixed);
  assert.deepEqual(resultOf([{ n: 2 ** 35 }, [2 ** 36]]), [{ n: 2 ** 35 }, [2 ** 36]]);
});

Deno.test("msgpackRpc: a __proto__ key is a plain key and pollutes nothing", () => {
  const hostile = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
  const decoded = resultOf(hostile) as Record<string, unknown>;
  assert.ok(Object.hasOwn(decoded, "__proto__"));
  assert.deepEqual(decoded["a"], 1);
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
});

Deno.test("msgpackRpc: frames from msgpackr are not overwritten by later encodes", () => {
  const first = wireOf({ kind: "result", id: 1, result: "first" });
  const copy = first.slice();
  for (let i = 0; i < 1000; i++) wireOf({ kind: "result", id: 2, result: "x".repeat(100) });
  assert.deepEqual(first, copy);
});

Deno.test("msgpackRpc: hostile lengths are refused before anything is allocated", () => {
  const measure = codec.measure!.bind(codec);
  // str32 that declares 4 GiB - 1 bytes, inside a result.
  const str = bytes(0x94, 0x01, 0x01, 0xc0, 0xdb, 0xff, 0xff, 0xff, 0xff, 0x61);
  assert.throws(() => measure(str), /declares 4294967295 bytes/);
  assert.throws(() => codec.decode(str), /declares 4294967295 bytes/);
  // array32 and map32 with 4 billion entries, bin32 with 1 GiB.
  for (const header of [[0xdd], [0xdf], [0xc6]]) {
    const frame = bytes(0x94, 0x01, 0x01, 0xc0, ...header, 0x40, 0x00, 0x00, 0x00);
    assert.throws(() => measure(frame), /over the limit/);
  }
  // An ext32 that declares 4 GiB.
  assert.throws(() => measure(bytes(0xc9, 0xff, 0xff, 0xff, 0xff, 0x05)), /not accepted|over/);
  const small = msgpackRpc({ maxSize: 16 });
  assert.throws(
    () => small.decode(wireOf({ kind: "result", id: 1, result: "x".repeat(20) })),
    /limit of 16/,
  );
});

Deno.test("msgpackRpc: nesting beyond maxDepth is refused", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 70; i++) deep = [deep];
  assert.throws(() => codec.decode(wireOf({ kind: "result", id: 1, result: deep })), /nesting/);
  const shallow = msgpackRpc({ maxDepth: 3 });
  assert.deepEqual(resultOf([[[1]]]), [[[1]]]);
  assert.throws(
    () => shallow.decode(wireOf({ kind: "result", id: 1, result: [[[[1]]]] })),
    /nesting/,
  );
});

Deno.test("msgpackRpc: msgpackr's own extension types are never interpreted: they arrive as MsgpackExt", () => {
  // 0x65 Error, 0x78 RegExp, 0x69 / 0x70 references, 0x00 undefined, 0x42 big
  // integers, 0x73 Set, 0x74 typed arrays, 0x62 string bundles, 0x72 records.
  for (const type of [0x65, 0x78, 0x69, 0x70, 0x00, 0x42, 0x73, 0x74, 0x62, 0x72]) {
    for (const data of [[0x00], [0x01, 0x02], [0xc1, 0xc1, 0xc1, 0xc1]]) {
      const header = data.length === 1 ? 0xd4 : data.length === 2 ? 0xd5 : 0xd6;
      const frame = bytes(0x94, 0x01, 0x01, 0xc0, header, type, ...data);
      assert.deepEqual(resultIn(frame), new MsgpackExt(type, new Uint8Array(data)));
      assert.deepEqual(codec.encode(codec.decode(frame) as RpcMessage), frame);
    }
  }
  // A timestamp of a length the specification does not have.
  assert.throws(() => codec.decode(bytes(0x94, 0x01, 0x01, 0xc0, 0xd4, 0xff, 0x00)), /timestamp/);
});

Deno.test("msgpackRpc: registered extension types, per codec", async () => {
  const { msgpackExtension } = await import("../../codecs/msgpack_rpc.ts");
  class Point {
    constructor(readonly x: number, readonly y: number) {}
  }
  const points = msgpackRpc({
    extensions: [msgpackExtension({
      type: 9,
      Class: Point,
      encode: (p) => new Uint8Array([p.x, p.y]),
      decode: (data) => new Point(data[0]!, data[1]!),
    })],
  });
  const frame = points.encode({ kind: "result", id: 1, result: [new Point(1, 2)] }) as Uint8Array;
  assert.deepEqual(points.decode(frame), { kind: "result", id: 1, result: [new Point(1, 2)] });
  // A codec without the extension decodes it as a MsgpackExt that goes back
  // as the same bytes, but cannot encode the class.
  const generic = codec.decode(frame);
  assert.deepEqual(generic, {
    kind: "result",
    id: 1,
    result: [new MsgpackExt(9, new Uint8Array([1, 2]))],
  });
  assert.deepEqual(codec.encode(generic as RpcMessage), frame);
  assert.throws(() => wireOf({ kind: "result", id: 1, result: new Point(1, 2) }), TypeError);
  assert.throws(
    () => msgpackRpc({ extensions: [{ ...points, type: 128, Class: Point } as never] }),
    RangeError,
  );
});

Deno.test("msgpackRpc: wrong shapes decode to invalid messages with what id can be read", () => {
  const encode = (value: unknown[]) => {
    // Built with the codec's own packer through a result, then unwrapped.
    const frame = wireOf({ kind: "result", id: 1, result: value });
    return frame.subarray(4);
  };
  const cases: [unknown[], unknown][] = [
    [[0, 5, "add"], 5],
    [[0, 5, 7, []], 5],
    [[0, 5, "add", 3], 5],
    [[0, -1, "add", []], null],
    [[2, "zip"], undefined],
    [[2, 7, []], undefined],
    [[3, 1, 2, 3], null],
  ];
  for (const [value, id] of cases) {
    const decoded = codec.decode(encode(value));
    assert.equal(decoded.kind, "invalid", JSON.stringify(value));
    assert.equal((decoded as { id: unknown }).id, id, JSON.stringify(value));
  }
  const notArray = codec.decode(bytes(0x05));
  assert.equal(notArray.kind, "invalid");
  // A response of the wrong length fails the call it names.
  const response = codec.decode(encode([1, 9, null]));
  assert.deepEqual((response as { inReplyTo?: unknown }).inReplyTo, 9);
});

Deno.test("msgpackRpc: extension type 0 (Neovim's Buffer) works like any other", async () => {
  const { msgpackExtension } = await import("../../codecs/msgpack_rpc.ts");
  class Handle {
    constructor(readonly id: number) {}
  }
  const handles = msgpackRpc({
    extensions: [msgpackExtension({
      type: 0,
      Class: Handle,
      encode: (h) => new Uint8Array([h.id]),
      decode: (data) => new Handle(data[0]!),
    })],
  });
  const frame = handles.encode({ kind: "result", id: 1, result: new Handle(5) }) as Uint8Array;
  // fixext 1 (0xd4), type 0, data 5
  assert.deepEqual([...frame.subarray(4)], [0xd4, 0x00, 0x05]);
  assert.deepEqual(handles.decode(frame), { kind: "result", id: 1, result: new Handle(5) });
});

Deno.test("msgpackRpc: maps get the smallest header", () => {
  const frame = wireOf({ kind: "result", id: 1, result: { a: 1, b: 2, c: 3 } });
  assert.equal(frame[4], 0x83); // fixmap of 3
  const error = wireOf({ kind: "error", id: 1, error: { code: 1, message: "x" } });
  assert.equal(error[3], 0x82); // fixmap of 2
});
