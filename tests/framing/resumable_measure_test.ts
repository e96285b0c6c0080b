/**
 * Self-delimiting streams in linear work: the framing hands `measure` one
 * state per message, and the codecs' own `measure` resume where they
 * stopped instead of reading the message from its start at every read
 * (7.6 MiB dripped in 8 KiB reads once cost 4.9 s of CPU against 0.3 s
 * for a length prefix).
 *
 * The proof that a codec does not read again what it has read: after a
 * call that stopped, the bytes it had read are overwritten with bytes that
 * would change its answer (or make it throw), and the next call still
 * answers for the original bytes.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { thriftRpc } from "../../codecs/thrift.ts";
import { calculatorThrift } from "../../examples/calculator/thrift.ts";
import { selfDelimiting } from "../../rpc/framing/self_delimiting.ts";
import type { Codec, MeasureState } from "../../rpc/types.ts";
import { concat, decodeAll, rechunk } from "./conformance.ts";

const text = new TextEncoder();

/** Calls `measure` on ever longer prefixes with one state, as the framing does. */
function measureGrowing(codec: Codec, bytes: Uint8Array, cuts: readonly number[]) {
  const state: MeasureState = { resume: undefined };
  for (const cut of cuts) {
    const length = codec.measure!(bytes.subarray(0, cut), state);
    if (length !== undefined) return length;
  }
  return codec.measure!(bytes, state);
}

const request = (params: unknown[]) => ({ kind: "request", id: 7, method: "sum", params }) as const;

Deno.test("jsonRpc().measure() with a state finds the same end as without, however the bytes grow", () => {
  const codec = jsonRpc();
  const messages = fc.jsonValue({ maxDepth: 6 }).map((value) =>
    // Whitespace before (skipped); none after, which a prefix may end early.
    text.encode(` \n ${JSON.stringify({ jsonrpc: "2.0", method: 'm\\"]', params: [value] })}`)
  );
  fc.assert(
    fc.property(messages, fc.array(fc.nat(), { maxLength: 8 }), (bytes, raw) => {
      const cuts = raw.map((n) => n % (bytes.length + 1)).sort((a, b) => a - b);
      assert.equal(measureGrowing(codec, bytes, cuts), codec.measure(bytes));
    }),
    { numRuns: 300 },
  );
});

Deno.test("msgpackRpc().measure() with a state finds the same end as without, however the bytes grow", () => {
  const codec = msgpackRpc();
  const values = fc.array(
    fc.oneof(
      fc.integer(),
      fc.string(),
      fc.double(),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(fc.oneof(fc.boolean(), fc.dictionary(fc.string(), fc.nat())), { maxLength: 5 }),
    ),
    { maxLength: 20 },
  );
  fc.assert(
    fc.property(values, fc.array(fc.nat(), { maxLength: 8 }), (params, raw) => {
      const bytes = codec.encode(request(params)) as Uint8Array;
      const cuts = raw.map((n) => n % (bytes.length + 1)).sort((a, b) => a - b);
      assert.equal(measureGrowing(codec, bytes, cuts), bytes.length);
    }),
    { numRuns: 300 },
  );
});

Deno.test("jsonRpc().measure() resumes: bytes it has read are not read again", () => {
  const codec = jsonRpc();
  const bytes = text.encode(JSON.stringify({ params: ["x]]", [1, [2]], "y"], id: 1 }));
  // Stop inside the string "y" (past "x]]" and the nested arrays).
  const stop = bytes.indexOf(0x79) + 1;
  const state: MeasureState = { resume: undefined };
  assert.equal(codec.measure(bytes.subarray(0, stop), state), undefined);
  assert.notEqual(state.resume, undefined);
  // Read again, these brackets would close the value at once.
  const corrupt = bytes.slice();
  corrupt.fill(0x5d, 1, stop - 2);
  assert.equal(codec.measure(corrupt.subarray(0, 3)), 2);
  assert.equal(codec.measure(corrupt, state), bytes.length);
});

Deno.test("msgpackRpc().measure() resumes: bytes it has read are not read again", () => {
  const codec = msgpackRpc();
  const bytes = codec.encode(request([Array.from({ length: 1000 }, (_, i) => i % 100)]));
  assert.ok(bytes instanceof Uint8Array);
  const state: MeasureState = { resume: undefined };
  const stop = bytes.length - 10;
  assert.equal(codec.measure!(bytes.subarray(0, stop), state), undefined);
  // 0xc1 is never used in MessagePack: read again, it throws.
  const corrupt = bytes.slice();
  corrupt.fill(0xc1, 20, stop);
  assert.throws(() => codec.measure!(corrupt), /0xc1/);
  assert.equal(codec.measure!(corrupt, state), bytes.length);
});

Deno.test("selfDelimiting() gives measure one state per message, cleared when the next starts", async () => {
  const codec = jsonRpc();
  const seen: { state: MeasureState | undefined; resumed: boolean }[] = [];
  const framing = selfDelimiting((buf, state) => {
    seen.push({ state, resumed: state?.resume !== undefined });
    return codec.measure(buf, state);
  });
  const messages = ['{"a":"}}}}}}"}', "[1,2,3,[4]]", '{"b":[]}'].map((m) => text.encode(m));
  const frames = await decodeAll(framing, rechunk(concat(messages), [3]));
  assert.deepEqual(frames, messages);
  const states = new Set(seen.map((s) => s.state));
  assert.equal(states.size, 1, "one state object for the connection");
  assert.ok(!states.has(undefined));
  // Every message starts unresumed; the calls that follow within it resume.
  assert.equal(seen.filter((s) => !s.resumed).length, messages.length);
  assert.ok(seen.filter((s) => s.resumed).length > messages.length);
});

Deno.test("selfDelimiting() splits large dripped messages of the codecs' own measure", async () => {
  const values = Array.from({ length: 200_000 }, (_, i) => i % 1000);
  for (const codec of [jsonRpc(), msgpackRpc()]) {
    const frame = codec.encode(request(values));
    const bytes = typeof frame === "string" ? text.encode(frame) : frame;
    const stream = concat([bytes, bytes]);
    const frames = await decodeAll(
      selfDelimiting(codec.measure!.bind(codec)),
      rechunk(stream, [4096, 7]),
    );
    assert.equal(frames.length, 2, codec.name);
    for (const f of frames) assert.deepEqual(codec.decode(f), request(values));
  }
});

// Structs, lists of doubles, maps, binaries and booleans: every shape of value.
const shapes = fc.record({
  name: fc.string(),
  coords: fc.array(fc.double({ noNaN: true }), { maxLength: 5 }),
  tags: fc.dictionary(fc.string(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), {
    maxKeys: 4,
  }),
  blob: fc.uint8Array({ maxLength: 20 }),
  flag: fc.boolean(),
});

const thrift = (protocol: "binary" | "compact") =>
  thriftRpc({ schema: calculatorThrift(), service: "Calculator", protocol });

Deno.test("thriftRpc().measure() with a state finds the same end as without, however the bytes grow", () => {
  for (const protocol of ["binary", "compact"] as const) {
    const codec = thrift(protocol);
    const calls = fc.oneof(
      fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 30 }).map(
        (values) => request([values]),
      ),
      fc.string().map((text) =>
        ({ kind: "request", id: 3, method: "echo", params: [text] }) as const
      ),
      shapes.map((shape) =>
        ({ kind: "request", id: 4, method: "echoShape", params: [shape] }) as const
      ),
      fc.record({ num1: fc.integer(), num2: fc.integer(), op: fc.integer({ min: 1, max: 4 }) }).map(
        (w) => ({ kind: "request", id: 5, method: "calculate", params: [1, w] }) as const,
      ),
    );
    fc.assert(
      fc.property(calls, fc.array(fc.nat(), { maxLength: 8 }), (call, raw) => {
        const bytes = codec.encode(call) as Uint8Array;
        const cuts = raw.map((n) => n % (bytes.length + 1)).sort((a, b) => a - b);
        assert.equal(measureGrowing(codec, bytes, cuts), bytes.length);
      }),
      { numRuns: 200 },
    );
  }
});

Deno.test("thriftRpc().measure() resumes: bytes it has read are not read again", () => {
  for (const protocol of ["binary", "compact"] as const) {
    const codec = thrift(protocol);
    const values = Array.from({ length: 2000 }, (_, i) => BigInt(i) * 1_000_003n);
    const bytes = codec.encode(request([values])) as Uint8Array;
    const state: MeasureState = { resume: undefined };
    const stop = bytes.length - 100;
    assert.equal(codec.measure!(bytes.subarray(0, stop), state), undefined);
    // Read again, these bytes are no Thrift message; the walk stopped at
    // most one value (10 bytes) before `stop`.
    const corrupt = bytes.slice();
    corrupt.fill(0xff, 0, stop - 20);
    assert.throws(() => codec.measure!(corrupt), /Not a Thrift message/);
    assert.equal(codec.measure!(corrupt, state), bytes.length, protocol);
  }
});
