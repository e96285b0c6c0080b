// Brine and the RPyC channel without Python: bytes Python's rpyc 5.3
// wrote (golden), round trips and random bytes (fast-check), the limits, and
// the channel's framing, compression and refusals.

import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError, FrameSizeError } from "../rpc/errors.ts";
import { Float } from "../rpc/float.ts";
import {
  type BrineValue,
  Complex,
  decodeBrine,
  Ellipsis,
  encodeBrine,
  FrozenSet,
  NotImplemented,
  Slice,
} from "../protocols/rpyc/brine.ts";
import { RpycChannel } from "../protocols/rpyc/channel.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));

// brine.dump((None, True, False, 0, -48, 159, 160, -49, 2**63, -2**200, 1.5,
// -0.0, float('inf'), 'héllo', b'', b'abcde', (), ((1,),), frozenset([3]),
// slice(None, 5, None), 1+2j, Ellipsis, NotImplemented)) by Python's rpyc 5.3.
const GOLDEN =
  "14170003045020ef160331363016032d3439161339323233333732303336383534373735383038163e2d31363036393338303434323538393930323735353431393632303932333431313632363032353232323032393933373832373932383335333031333736183ff8000000000000188000000000000000187ff0000000000000080e0668c3a96c6c6f010e056162636465021010511a105319120055001b3ff000000000000040000000000000000605";

Deno.test("brine decodes what Python wrote, with the documented types", () => {
  const value = decodeBrine(unhex(GOLDEN)) as readonly unknown[];
  assert.deepEqual(value.slice(0, 8), [null, true, false, 0, -48, 159, 160, -49]);
  assert.equal(value[8], 2n ** 63n);
  assert.equal(value[9], -(2n ** 200n));
  assert.deepEqual(value[10], new Float(1.5));
  assert.ok(value[11] instanceof Float && Object.is(value[11].value, -0));
  assert.deepEqual(value[12], new Float(Infinity));
  assert.equal(value[13], "héllo");
  assert.deepEqual(value[14], new Uint8Array());
  assert.deepEqual(value[15], new TextEncoder().encode("abcde"));
  assert.deepEqual(value[16], []);
  assert.deepEqual(value[17], [[1]]);
  assert.deepEqual(value[18], new FrozenSet([3]));
  assert.deepEqual(value[19], new Slice(null, 5, null));
  assert.deepEqual(value[20], new Complex(1, 2));
  assert.equal(value[21], Ellipsis);
  assert.equal(value[22], NotImplemented);
  assert.ok(Object.isFrozen(value));
});

Deno.test("brine encodes byte for byte as Python does", () => {
  assert.equal(hex(encodeBrine(decodeBrine(unhex(GOLDEN)))), GOLDEN);
  // A tuple of 300 items takes the 4-byte length (Python: 15 0000012c 50 51 …).
  const long = encodeBrine(Array.from({ length: 300 }, (_, i) => i));
  assert.equal(hex(long.subarray(0, 10)), "150000012c5051525354");
  assert.equal(long.length, 865);
});

Deno.test("brine: numbers with a fraction, -0, NaN and the infinities are floats; whole numbers ints", () => {
  const back = decodeBrine(encodeBrine([2, 2.5, -0, NaN, -Infinity, 2 ** 60])) as unknown[];
  assert.equal(back[0], 2);
  assert.deepEqual(back[1], new Float(2.5));
  assert.ok(Object.is((back[2] as Float).value, -0));
  assert.ok(Number.isNaN((back[3] as Float).value));
  assert.deepEqual(back[4], new Float(-Infinity));
  assert.equal(back[5], 2n ** 60n); // beyond the safe range: a bigint, exact
});

Deno.test("brine refuses what it cannot carry, with a TypeError", () => {
  for (const value of [{}, () => 1, new Map(), "\ud800", Symbol("x")]) {
    assert.throws(() => encodeBrine(value as unknown as BrineValue), TypeError);
  }
});

// Arbitrary brine values, as decoding gives them back.
const brineValue: fc.Arbitrary<BrineValue> = fc.letrec<{ value: BrineValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.bigInt().filter((n) =>
      n < BigInt(Number.MIN_SAFE_INTEGER) || n > BigInt(Number.MAX_SAFE_INTEGER)
    ),
    fc.double().map((d) => new Float(d)),
    fc.string({ unit: "grapheme" }),
    fc.uint8Array({ maxLength: 300 }),
    fc.constantFrom(Ellipsis, NotImplemented),
    fc.tuple(fc.double(), fc.double()).map(([r, i]) => new Complex(r, i)),
    fc.array(tie("value"), { maxLength: 6 }).map((items) => Object.freeze(items)),
    fc.array(tie("value"), { maxLength: 4 }).map((items) => new FrozenSet(items)),
    fc.tuple(tie("value"), tie("value"), tie("value")).map(([a, b, c]) => new Slice(a, b, c)),
  ),
})).value;

Deno.test("brine round-trips generated values exactly", () => {
  fc.assert(
    fc.property(brineValue, (value) => {
      const bytes = encodeBrine(value);
      const back = decodeBrine(bytes);
      assert.deepEqual(back, value);
      assert.deepEqual(encodeBrine(back), bytes);
    }),
    { numRuns: 500 },
  );
});

Deno.test("brine: random and mutated bytes fail only with DecodeError", () => {
  const check = (bytes: Uint8Array) => {
    try {
      decodeBrine(bytes, { maxDepth: 20 });
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 2000 });
  fc.assert(
    fc.property(brineValue, fc.nat(), fc.nat(255), (value, at, byte) => {
      const bytes = encodeBrine(value);
      if (bytes.length === 0) return;
      bytes[at % bytes.length] = byte;
      check(bytes);
      check(bytes.subarray(0, at % bytes.length));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("brine: absurd depth, huge counts, long ints and bad text are DecodeErrors", () => {
  const deep = new Uint8Array(100_000).fill(0x10); // (((((…: TUP1 all the way down
  assert.throws(
    () => decodeBrine(deep),
    (e) => e instanceof DecodeError && /nested deeper than 100/.test(e.message),
  );
  // A tuple that claims 2^32-1 items in 5 bytes.
  assert.throws(() => decodeBrine(unhex("15ffffffff00")), /a tuple of 4294967295 items/);
  const digits = new TextEncoder().encode("9".repeat(5000));
  const longInt = new Uint8Array([0x17, 0, 0, 0x13, 0x88, ...digits]);
  assert.throws(() => decodeBrine(longInt), /an int of 5000 digits/);
  assert.throws(() => decodeBrine(unhex("16023132ff")), /trailing/);
  assert.throws(() => decodeBrine(unhex("1602317a")), /not decimal/);
  assert.throws(() => decodeBrine(unhex("080aff")), /not UTF-8/);
  assert.throws(() => decodeBrine(unhex("0851")), /not bytes/);
  assert.throws(() => decodeBrine(unhex("07")), /unknown tag 0x7/);
  assert.throws(() => decodeBrine(unhex("191051")), /a slice of 1 parts/);
  assert.throws(() => decodeBrine(unhex("1a51")), /a frozenset without its tuple/);
  assert.throws(() => decodeBrine(unhex("18000000")), /8 bytes needed/);
});

// A channel reading `bytes` (then the end of the stream).
function reading(bytes: Uint8Array, options = {}) {
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return new RpycChannel({ readable, writable: new WritableStream(), close() {} }, options);
}

function packet(body: Uint8Array, flag = 0, length = body.length) {
  const out = new Uint8Array(5 + body.length + 1);
  new DataView(out.buffer).setUint32(0, length);
  out[4] = flag;
  out.set(body, 5);
  out[out.length - 1] = 0x0a;
  return out;
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("channel: header, newline, compression over 3000 bytes as Python does", async () => {
  const pipe = new TransformStream<Uint8Array, Uint8Array>();
  const sent: Uint8Array[] = [];
  const tap = new WritableStream<Uint8Array>({ write: (chunk) => void sent.push(chunk) });
  const channel = new RpycChannel({ readable: pipe.readable, writable: tap, close() {} });
  await channel.send(new Uint8Array([1, 2, 3]));
  assert.equal(hex(sent[0]!), "0000000300" + "010203" + "0a");
  const big = new Uint8Array(10_000).fill(65);
  await channel.send(big);
  assert.equal(sent[1]![4], 1);
  assert.ok(sent[1]!.length < 1000);
  assert.deepEqual(await reading(sent[1]!).recv(), big);
});

Deno.test("channel: packets split across reads and several in one read", async () => {
  const two = new Uint8Array([...packet(new Uint8Array([7])), ...packet(new Uint8Array([8, 9]))]);
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const byte of two) controller.enqueue(Uint8Array.of(byte));
      controller.close();
    },
  });
  const channel = new RpycChannel({ readable, writable: new WritableStream(), close() {} });
  assert.deepEqual(await channel.recv(), new Uint8Array([7]));
  assert.deepEqual(await channel.recv(), new Uint8Array([8, 9]));
  assert.equal(await channel.recv(), null);
  assert.deepEqual(await reading(two).recv(), new Uint8Array([7]));
});

Deno.test("channel: truncated, oversized, unflagged and unterminated packets are refused", async () => {
  const full = packet(new Uint8Array(100));
  await assert.rejects(
    reading(full.subarray(0, 50)).recv(),
    (e) => e instanceof DecodeError && /bytes short/.test(e.message),
  );
  await assert.rejects(reading(full.subarray(0, 3)).recv(), DecodeError);
  await assert.rejects(
    reading(packet(new Uint8Array(0), 0, 0xffffffff)).recv(),
    (e) => e instanceof FrameSizeError && e.size === 0xffffffff,
  );
  await assert.rejects(reading(packet(new Uint8Array(3), 2)).recv(), /compression flag 2/);
  const noNewline = packet(new Uint8Array(3));
  noNewline[noNewline.length - 1] = 0x20;
  await assert.rejects(reading(noNewline).recv(), /not ended by a newline/);
  await assert.rejects(reading(packet(new Uint8Array([1, 2, 3]), 1)).recv(), /corrupt zlib/);
});

Deno.test("channel: a zlib bomb is refused at the inflated limit", async () => {
  const bomb = await deflate(new Uint8Array(32 * 1024 * 1024)); // 32 MiB of zeros, ~32 KiB on the wire
  assert.ok(bomb.length < 64 * 1024);
  await assert.rejects(
    reading(packet(bomb, 1), { maxInflatedBytes: 1024 * 1024 }).recv(),
    (e) => e instanceof FrameSizeError && e.limit === 1024 * 1024,
  );
});
