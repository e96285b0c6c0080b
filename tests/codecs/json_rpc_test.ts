import assert from "node:assert/strict";
import fc from "fast-check";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { DecodeError, ErrorCode, LimitError } from "../../rpc/errors.ts";
import type { DecodedFrame, RpcInvalid, RpcMessage } from "../../rpc/types.ts";
import { runCodecSuite } from "./conformance.ts";

const codec = jsonRpc();

runCodecSuite("jsonRpc()", codec, {
  garbage: [
    "",
    "   ",
    "garbage",
    "{",
    '{"jsonrpc":"2.0",',
    "[1,]",
    "{'a':1}",
    "\u0000",
    new Uint8Array([0xff, 0xfe]),
    new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]),
  ],
});
runCodecSuite(
  'jsonRpc({ bigint: "error", acceptV1: true })',
  jsonRpc({ bigint: "error", acceptV1: true }),
);

/** Compares JSON texts by value, as the specification's examples are formatted freely. */
function assertJson(actual: string, expected: string): void {
  assert.deepStrictEqual(JSON.parse(actual), JSON.parse(expected));
}

function assertInvalid(
  frame: DecodedFrame,
  id: RpcInvalid["id"],
  code: number = ErrorCode.InvalidRequest,
): void {
  assert.equal(frame.kind, "invalid", JSON.stringify(frame));
  if (frame.kind !== "invalid") return;
  assert.equal(frame.id, id);
  assert.equal(frame.error.code, code);
  assert.equal(typeof frame.error.message, "string");
}

// --- The specification's examples (https://www.jsonrpc.org/specification, section 7) ---

Deno.test("jsonRpc() decodes the specification's calls with positional params", () => {
  assert.deepStrictEqual(
    codec.decode('{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}'),
    { kind: "request", id: 1, method: "subtract", params: [42, 23] },
  );
  assert.deepStrictEqual(
    codec.decode('{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}'),
    { kind: "request", id: 2, method: "subtract", params: [23, 42] },
  );
  assertJson(
    codec.encode({ kind: "result", id: 1, result: 19 }),
    '{"jsonrpc": "2.0", "result": 19, "id": 1}',
  );
  assertJson(
    codec.encode({ kind: "result", id: 2, result: -19 }),
    '{"jsonrpc": "2.0", "result": -19, "id": 2}',
  );
});

Deno.test("jsonRpc() decodes the specification's calls with named params", () => {
  assert.deepStrictEqual(
    codec.decode(
      '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',
    ),
    { kind: "request", id: 3, method: "subtract", params: { subtrahend: 23, minuend: 42 } },
  );
  assert.deepStrictEqual(
    codec.decode(
      '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}',
    ),
    { kind: "request", id: 4, method: "subtract", params: { minuend: 42, subtrahend: 23 } },
  );
  assertJson(
    codec.encode({ kind: "result", id: 3, result: 19 }),
    '{"jsonrpc": "2.0", "result": 19, "id": 3}',
  );
  assertJson(
    codec.encode({ kind: "result", id: 4, result: 19 }),
    '{"jsonrpc": "2.0", "result": 19, "id": 4}',
  );
});

Deno.test("jsonRpc() decodes the specification's notifications", () => {
  assert.deepStrictEqual(
    codec.decode('{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}'),
    { kind: "notification", method: "update", params: [1, 2, 3, 4, 5] },
  );
  assert.deepStrictEqual(codec.decode('{"jsonrpc": "2.0", "method": "foobar"}'), {
    kind: "notification",
    method: "foobar",
  });
});

Deno.test("jsonRpc() encodes the specification's reply to a non-existent method", () => {
  assert.deepStrictEqual(codec.decode('{"jsonrpc": "2.0", "method": "foobar", "id": "1"}'), {
    kind: "request",
    id: "1",
    method: "foobar",
  });
  assertJson(
    codec.encode({ kind: "error", id: "1", error: { code: -32601, message: "Method not found" } }),
    '{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}',
  );
});

Deno.test("jsonRpc() rejects the specification's invalid JSON with DecodeError", () => {
  assert.throws(
    () => codec.decode('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]'),
    DecodeError,
  );
  assert.throws(
    () =>
      codec.decode(`[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method"
      ]`),
    DecodeError,
  );
  assertJson(
    codec.encode({ kind: "error", id: null, error: { code: -32700, message: "Parse error" } }),
    '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}',
  );
});

Deno.test("jsonRpc() answers the specification's invalid request object under id null", () => {
  assertInvalid(codec.decode('{"jsonrpc": "2.0", "method": 1, "params": "bar"}'), null);
  assertJson(
    codec.encode({ kind: "error", id: null, error: { code: -32600, message: "Invalid Request" } }),
    '{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}',
  );
});

Deno.test("jsonRpc() answers the specification's empty array with one invalid request", () => {
  assertInvalid(codec.decode("[]"), null);
});

Deno.test("jsonRpc() answers the specification's invalid batches member by member", () => {
  const invalid = { code: -32600, message: "Invalid Request" };
  for (const [text, n] of [["[1]", 1], ["[1,2,3]", 3]] as const) {
    const frame = codec.decode(text);
    assert.equal(frame.kind, "batch");
    if (frame.kind !== "batch") continue;
    assert.equal(frame.messages.length, n);
    for (const member of frame.messages) assertInvalid(member, null);
    const replies: RpcMessage[] = frame.messages.map(() => ({
      kind: "error",
      id: null,
      error: invalid,
    }));
    assertJson(
      codec.encode(replies),
      JSON.stringify(Array(n).fill({ jsonrpc: "2.0", error: invalid, id: null })),
    );
  }
});

Deno.test("jsonRpc() decodes the specification's mixed batch and encodes its reply", () => {
  const frame = codec.decode(`[
    {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
    {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
    {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
    {"foo": "boo"},
    {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
    {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
  ]`);
  assert.equal(frame.kind, "batch");
  if (frame.kind !== "batch") return;
  const [sum, hello, subtract, foo, get, data] = frame.messages;
  assert.deepStrictEqual(sum, { kind: "request", id: "1", method: "sum", params: [1, 2, 4] });
  assert.deepStrictEqual(hello, { kind: "notification", method: "notify_hello", params: [7] });
  assert.deepStrictEqual(subtract, {
    kind: "request",
    id: "2",
    method: "subtract",
    params: [42, 23],
  });
  assertInvalid(foo!, null);
  assert.deepStrictEqual(get, {
    kind: "request",
    id: "5",
    method: "foo.get",
    params: { name: "myself" },
  });
  assert.deepStrictEqual(data, { kind: "request", id: "9", method: "get_data" });
  assertJson(
    codec.encode([
      { kind: "result", id: "1", result: 7 },
      { kind: "result", id: "2", result: 19 },
      { kind: "error", id: null, error: { code: -32600, message: "Invalid Request" } },
      { kind: "error", id: "5", error: { code: -32601, message: "Method not found" } },
      { kind: "result", id: "9", result: ["hello", 5] },
    ]),
    `[
      {"jsonrpc": "2.0", "result": 7, "id": "1"},
      {"jsonrpc": "2.0", "result": 19, "id": "2"},
      {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
      {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
      {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
    ]`,
  );
});

Deno.test("jsonRpc() decodes the specification's batch of notifications", () => {
  assert.deepStrictEqual(
    codec.decode(`[
      {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
      {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]`),
    {
      kind: "batch",
      messages: [
        { kind: "notification", method: "notify_sum", params: [1, 2, 4] },
        { kind: "notification", method: "notify_hello", params: [7] },
      ],
    },
  );
});

// --- Validation ---

Deno.test("jsonRpc() answers an invalid request under its id when the id is readable", () => {
  assertInvalid(codec.decode('{"jsonrpc":"2.0","method":"f","params":"bar","id":7}'), 7);
  assertInvalid(codec.decode('{"jsonrpc":"2.0","method":"f","params":null,"id":"x"}'), "x");
  assertInvalid(codec.decode('{"jsonrpc":"2.0","method":"f","params":3,"id":7}'), 7);
  assertInvalid(codec.decode('{"jsonrpc":"2.0","method":5,"id":7}'), 7);
  assertInvalid(codec.decode('{"jsonrpc":"2.0","id":7}'), 7);
  assertInvalid(codec.decode('{"jsonrpc":"1.0","method":"f","id":7}'), 7);
  assertInvalid(codec.decode('{"method":"f","id":7}'), 7);
  assertInvalid(codec.decode('{"jsonrpc":2,"method":"f","id":"a"}'), "a");
});

Deno.test("jsonRpc() answers under id null when the id cannot be read", () => {
  assertInvalid(codec.decode('{"jsonrpc":"2.0","method":"f","id":{}}'), null);
  assertInvalid(codec.decode('{"jsonrpc":"2.0","method":"f","id":true}'), null);
  assertInvalid(codec.decode('{"jsonrpc":"2.0","method":"f","id":[1]}'), null);
  assertInvalid(codec.decode('{"jsonrpc":"2.0","method":"f","id":1e999}'), null);
  assertInvalid(codec.decode('{"jsonrpc":"2.0","method":"f","id":12345678901234567890}'), null);
  for (const text of ["1", '"x"', "null", "true", "{}"]) assertInvalid(codec.decode(text), null);
});

Deno.test("jsonRpc() treats a request with id null as invalid, answered under id null", () => {
  assertInvalid(codec.decode('{"jsonrpc":"2.0","method":"f","id":null}'), null);
});

Deno.test("jsonRpc() accepts fractional and negative number ids", () => {
  assert.deepStrictEqual(codec.decode('{"jsonrpc":"2.0","method":"f","id":1.5}'), {
    kind: "request",
    id: 1.5,
    method: "f",
  });
  assert.deepStrictEqual(codec.decode('{"jsonrpc":"2.0","result":0,"id":-3}'), {
    kind: "result",
    id: -3,
    result: 0,
  });
});

Deno.test("jsonRpc() decodes results and errors", () => {
  assert.deepStrictEqual(codec.decode('{"jsonrpc":"2.0","result":null,"id":1}'), {
    kind: "result",
    id: 1,
    result: null,
  });
  assert.deepStrictEqual(
    codec.decode(
      '{"jsonrpc":"2.0","error":{"code":1,"message":"overflow","data":{"whatOp":1,"why":"overflow"}},"id":"a"}',
    ),
    {
      kind: "error",
      id: "a",
      error: { code: 1, message: "overflow", data: { whatOp: 1, why: "overflow" } },
    },
  );
  assert.deepStrictEqual(
    codec.decode('{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}'),
    {
      kind: "error",
      id: null,
      error: { code: -32700, message: "Parse error" },
    },
  );
});

Deno.test("jsonRpc() never answers an invalid response, and keeps its id in inReplyTo", () => {
  const cases: [string, unknown][] = [
    ['{"jsonrpc":"2.0","result":1}', undefined],
    ['{"jsonrpc":"2.0","result":1,"id":null}', undefined],
    ['{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"m"},"id":4}', 4],
    ['{"jsonrpc":"2.0","error":{"code":1.5,"message":"m"},"id":4}', 4],
    ['{"jsonrpc":"2.0","error":{"code":"1","message":"m"},"id":"b"}', "b"],
    ['{"jsonrpc":"2.0","error":{"code":1},"id":4}', 4],
    ['{"jsonrpc":"2.0","error":"boom","id":4}', 4],
    ['{"jsonrpc":"2.0","error":null,"id":4}', 4],
    ['{"jsonrpc":"2.0","error":{"code":1,"message":"m"}}', undefined],
    ['{"result":1,"id":4}', 4],
  ];
  for (const [text, id] of cases) {
    const frame = codec.decode(text);
    assertInvalid(frame, undefined);
    if (frame.kind === "invalid") {
      assert.deepStrictEqual(frame.inReplyTo, id, text);
      assert.equal(frame.error.data, undefined, text);
    }
  }
});

Deno.test("jsonRpc() refuses to encode malformed messages", () => {
  const bad = [
    { kind: "request", id: NaN, method: "f" },
    { kind: "request", id: null, method: "f" },
    { kind: "request", id: 1, method: 2 },
    { kind: "request", id: 1, method: "f", params: "x" },
    { kind: "notification", method: "f", params: null },
    { kind: "error", id: 1, error: { code: 1.5, message: "m" } },
    { kind: "error", id: 1, error: { code: 1, message: 2 } },
    { kind: "invalid", id: 1, error: { code: 1, message: "m" } },
  ] as unknown as RpcMessage[];
  for (const message of bad) {
    assert.throws(() => codec.encode(message), TypeError, JSON.stringify(message));
  }
  assert.throws(() => codec.encode([]), TypeError);
});

Deno.test("jsonRpc() encodes result undefined as null and omits absent params and data", () => {
  assert.equal(
    codec.encode({ kind: "result", id: 1, result: undefined }),
    '{"jsonrpc":"2.0","result":null,"id":1}',
  );
  assert.equal(
    codec.encode({ kind: "notification", method: "zip" }),
    '{"jsonrpc":"2.0","method":"zip"}',
  );
  assert.equal(
    codec.encode({ kind: "error", id: 1, error: { code: 1, message: "m", data: undefined } }),
    '{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":1}',
  );
});

// --- Values ---

Deno.test("jsonRpc() encodes safe bigints as numbers and refuses the others", () => {
  assert.equal(
    codec.encode({ kind: "result", id: 1, result: [2n ** 53n - 1n, -(2n ** 53n - 1n), 0n] }),
    '{"jsonrpc":"2.0","result":[9007199254740991,-9007199254740991,0],"id":1}',
  );
  for (const big of [2n ** 53n, -(2n ** 53n), 2n ** 64n]) {
    assert.throws(
      () =>
        codec.encode({ kind: "request", id: 1, method: "sum", params: { values: [1, { big }] } }),
      (error: unknown) =>
        error instanceof TypeError && /cannot be represented exactly in JSON/.test(error.message),
    );
  }
});

Deno.test("jsonRpc() decodes integers beyond 2^53 as exact bigints", () => {
  const frame = codec.decode(
    '{"jsonrpc":"2.0","method":"sum","params":[9007199254740991,9007199254740992,-9223372036854775808,18446744073709551615,1e300,0.12345678901234567,"12345678901234567890"],"id":1}',
  );
  assert.deepStrictEqual(frame, {
    kind: "request",
    id: 1,
    method: "sum",
    params: [
      9007199254740991,
      9007199254740992n,
      -9223372036854775808n,
      18446744073709551615n,
      1e300,
      0.12345678901234567,
      "12345678901234567890",
    ],
  });
  // Digits are read exactly as written, even where they are a rounded double's shortest form.
  assert.deepStrictEqual(codec.decode('{"jsonrpc":"2.0","result":1152921504606847000,"id":1}'), {
    kind: "result",
    id: 1,
    result: 1152921504606847000n,
  });
});

Deno.test('jsonRpc({ bigint: "error" }) rejects integers beyond 2^53 with DecodeError', () => {
  const strict = jsonRpc({ bigint: "error" });
  assert.throws(
    () => strict.decode('{"jsonrpc":"2.0","result":[9007199254740992],"id":1}'),
    DecodeError,
  );
  assert.throws(
    () => strict.decode('{"jsonrpc":"2.0","result":-12345678901234567890,"id":1}'),
    DecodeError,
  );
  assert.deepStrictEqual(
    strict.decode(
      '{"jsonrpc":"2.0","result":[9007199254740991,1e300,"12345678901234567890"],"id":1}',
    ),
    {
      kind: "result",
      id: 1,
      result: [9007199254740991, 1e300, "12345678901234567890"],
    },
  );
});

Deno.test("jsonRpc() encodes doubles beyond 2^53 with an exponent, so they read back as themselves", () => {
  const doubles = [2 ** 53, -(2 ** 60), 123456789012345680000, 1e21, 1e300, -Number.MAX_VALUE];
  const text = codec.encode({ kind: "result", id: 1, result: { doubles } });
  assert.equal(
    text,
    '{"jsonrpc":"2.0","result":{"doubles":[9.007199254740992e+15,-1.152921504606847e+18,1.2345678901234568e+20,1e+21,1e+300,-1.7976931348623157e+308]},"id":1}',
  );
  assert.deepStrictEqual(codec.decode(text), { kind: "result", id: 1, result: { doubles } });
  assert.deepStrictEqual(codec.decode(codec.encode({ kind: "result", id: 1, result: 2 ** 60 })), {
    kind: "result",
    id: 1,
    result: 2 ** 60,
  });
  // The replacer path (a Uint8Array forces it) writes them the same way.
  assert.equal(
    codec.encode({ kind: "result", id: 1, result: [new Uint8Array(1), 2 ** 60] }),
    '{"jsonrpc":"2.0","result":["AA==",1.152921504606847e+18],"id":1}',
  );
  assert.throws(() => codec.encode({ kind: "request", id: 2 ** 60, method: "f" }), TypeError);
});

Deno.test("jsonRpc() finds big integers in long frames too", () => {
  const padding = "x".repeat(500);
  const frame = codec.decode(
    `{"jsonrpc":"2.0","result":["${padding}",[[12345678901234567890]]],"id":1}`,
  );
  assert.deepStrictEqual(frame, {
    kind: "result",
    id: 1,
    result: [padding, [[12345678901234567890n]]],
  });
});

Deno.test("jsonRpc() encodes Uint8Array as standard padded base64", () => {
  const cases: [number[], string][] = [[[], ""], [[0xfb], "+w=="], [[0xfb, 0xff], "+/8="], [[
    0,
    1,
    2,
  ], "AAEC"]];
  for (const [bytes, base64] of cases) {
    assert.equal(
      codec.encode({ kind: "result", id: 1, result: { blob: new Uint8Array(bytes) } }),
      `{"jsonrpc":"2.0","result":{"blob":"${base64}"},"id":1}`,
    );
  }
  const big = new Uint8Array(100_000).map((_, i) => i * 7);
  const text = codec.encode({ kind: "request", id: 1, method: "echoBinary", params: [big] });
  assert.equal(
    text,
    `{"jsonrpc":"2.0","method":"echoBinary","params":["${
      btoa(String.fromCharCode(...big))
    }"],"id":1}`,
  );
});

Deno.test("jsonRpc() encodes dates, maps and sets, and refuses what JSON cannot carry", () => {
  const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
  assert.equal(
    codec.encode({
      kind: "result",
      id: 1,
      result: [date, new Map([["a", 1], ["__proto__", 2]]), new Set([1, 2])],
    }),
    '{"jsonrpc":"2.0","result":["2024-01-02T03:04:05.006Z",{"a":1,"__proto__":2},[1,2]],"id":1}',
  );
  for (
    const value of [
      new Map([[1, 1]]),
      new Uint16Array(2),
      new ArrayBuffer(2),
      new DataView(new ArrayBuffer(1)),
    ]
  ) {
    assert.throws(() => codec.encode({ kind: "result", id: 1, result: { value } }), TypeError);
  }
});

Deno.test("jsonRpc() keeps the JSON defaults for NaN, Infinity and undefined members", () => {
  assert.equal(
    codec.encode({
      kind: "result",
      id: 1,
      result: { a: NaN, b: Infinity, c: undefined, d: [undefined] },
    }),
    '{"jsonrpc":"2.0","result":{"a":null,"b":null,"d":[null]},"id":1}',
  );
});

// --- Bytes ---

Deno.test("jsonRpc() decodes UTF-8 bytes and rejects invalid UTF-8", () => {
  const text = '{"jsonrpc":"2.0","method":"echo","params":["héllo ✓ 𝄞"],"id":1}';
  assert.deepStrictEqual(codec.decode(new TextEncoder().encode(text)), codec.decode(text));
  for (const bytes of [[0x7b, 0x80, 0x7d], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98]]) {
    assert.throws(
      () => codec.decode(new Uint8Array(bytes)),
      (error: unknown) => error instanceof DecodeError && /UTF-8/.test(error.message),
    );
  }
});

Deno.test("jsonRpc() reports where invalid JSON fails, as a byte offset for bytes", () => {
  assert.throws(() => codec.decode('{"a":1}x'), DecodeError);
  try {
    codec.decode(new TextEncoder().encode('{"é":1}x'));
    assert.fail("decoded");
  } catch (error) {
    assert.ok(error instanceof DecodeError);
    assert.equal(error.format, "jsonrpc");
    assert.equal(error.offset, 8);
    assert.ok(error.cause instanceof SyntaxError);
  }
});

// --- Limits ---

function nested(depth: number): string {
  return `{"jsonrpc":"2.0","method":"f","params":${"[".repeat(depth - 1)}${
    "]".repeat(depth - 1)
  },"id":1}`;
}

Deno.test("jsonRpc() rejects a frame nested deeper than maxDepth with DecodeError", () => {
  assert.equal(codec.decode(nested(64)).kind, "request");
  for (
    const frame of [
      nested(65),
      new TextEncoder().encode(nested(65)),
      "[".repeat(100_000) + "]".repeat(100_000),
    ]
  ) {
    assert.throws(
      () => codec.decode(frame),
      (error: unknown) => error instanceof DecodeError && /maxDepth of 64/.test(error.message),
    );
  }
  // Brackets inside strings do not count.
  const quoted = `{"jsonrpc":"2.0","method":"f","params":["${"[".repeat(200)}\\"[["],"id":1}`;
  assert.equal(codec.decode(quoted).kind, "request");
  const shallow = jsonRpc({ maxDepth: 3 });
  assert.equal(
    shallow.decode('{"jsonrpc":"2.0","method":"f","params":[[1]],"id":1}').kind,
    "request",
  );
  assert.throws(
    () => shallow.decode('{"jsonrpc":"2.0","method":"f","params":[[[1]]],"id":1}      '),
    DecodeError,
  );
});

Deno.test("jsonRpc() refuses to encode a frame nested deeper than maxDepth", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 63; i++) deep = [deep];
  assert.doesNotThrow(() =>
    codec.encode({ kind: "request", id: 1, method: "f", params: deep as unknown[] })
  );
  assert.throws(
    () => codec.encode({ kind: "request", id: 1, method: "f", params: [deep] }),
    LimitError,
  );
  assert.throws(
    () => codec.encode([{ kind: "request", id: 1, method: "f", params: deep as unknown[] }]),
    LimitError,
  );
  assert.throws(
    () => codec.encode({ kind: "result", id: 1, result: [new Map([["a", deep]])] }),
    LimitError,
  );
  const cycle: unknown[] = [];
  cycle.push(cycle);
  assert.throws(() => codec.encode({ kind: "result", id: 1, result: cycle }), LimitError);
});

Deno.test("jsonRpc() answers a batch over maxBatchSize with one invalid request", () => {
  const member = '{"jsonrpc":"2.0","method":"f"}';
  const frame = codec.decode(`[${Array(1001).fill(member).join(",")}]`);
  assertInvalid(frame, null);
  if (frame.kind === "invalid") assert.match(frame.error.message, /maxBatchSize of 1000/);
  assert.equal(codec.decode(`[${Array(1000).fill(member).join(",")}]`).kind, "batch");
  const small = jsonRpc({ maxBatchSize: 2 });
  assertInvalid(small.decode(`[${member},${member},${member}]`), null);
  const zip: RpcMessage = { kind: "notification", method: "zip" };
  assert.throws(() => small.encode([zip, zip, zip]), LimitError);
});

Deno.test("jsonRpc() checks its options", () => {
  for (const options of [{ maxDepth: 0 }, { maxBatchSize: 1.5 }, { maxDepth: -1 }]) {
    assert.throws(() => jsonRpc(options), RangeError);
  }
  assert.throws(() => jsonRpc({ bigint: "number" as "error" }), TypeError);
  assert.throws(() => jsonRpc({ version: "3.0" as "2.0" }), TypeError);
});

// --- Hostile input ---

Deno.test("jsonRpc() does not pollute prototypes", () => {
  const frames = [
    '{"__proto__":{"polluted":1}}',
    '{"jsonrpc":"2.0","method":"f","params":{"__proto__":{"polluted":1}},"id":1}',
    '{"jsonrpc":"2.0","method":"f","params":[{"constructor":{"prototype":{"polluted":1}}}],"id":1}',
    '{"jsonrpc":"2.0","method":"f","params":{"__proto__":{"polluted":1},"n":12345678901234567890},"id":1}',
    '[{"__proto__":{"polluted":1}},{"jsonrpc":"2.0","__proto__":{"method":"x"}}]',
  ];
  for (const text of frames) codec.decode(text);
  assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  const frame = codec.decode(frames[1]!);
  assert.equal(frame.kind, "request");
  if (frame.kind === "request") {
    assert.equal(Object.getPrototypeOf(frame.params), Object.prototype);
    assert.ok(Object.hasOwn(frame.params!, "__proto__"));
  }
  // An inherited member is never read as the message's own.
  assertInvalid(codec.decode('{"jsonrpc":"2.0","__proto__":{"method":"x"},"id":3}'), 3);
});

Deno.test("jsonRpc() decodes arbitrary JSON without throwing anything but DecodeError", () => {
  fc.assert(
    fc.property(fc.json(), (text) => {
      const frame = codec.decode(text);
      assert.ok(
        ["request", "notification", "result", "error", "invalid", "batch"].includes(frame.kind),
      );
    }),
    { numRuns: 100 },
  );
});

// --- JSON-RPC 1.0 ---

Deno.test("jsonRpc() refuses JSON-RPC 1.0 messages by default", () => {
  assertInvalid(codec.decode('{"method":"add","params":[1,2],"id":1}'), 1);
  assertInvalid(codec.decode('{"method":"log","params":["x"],"id":null}'), null);
  assertInvalid(codec.decode('{"result":3,"error":null,"id":1}'), undefined);
});

Deno.test("jsonRpc({ acceptV1: true }) decodes JSON-RPC 1.0 messages", () => {
  const v1 = jsonRpc({ acceptV1: true });
  assert.deepStrictEqual(v1.decode('{"method":"add","params":[1,2],"id":1}'), {
    kind: "request",
    id: 1,
    method: "add",
    params: [1, 2],
  });
  assert.deepStrictEqual(v1.decode('{"method":"log","params":["x"],"id":null}'), {
    kind: "notification",
    method: "log",
    params: ["x"],
  });
  assert.deepStrictEqual(v1.decode('{"method":"ping","params":null,"id":"p"}'), {
    kind: "request",
    id: "p",
    method: "ping",
  });
  assert.deepStrictEqual(v1.decode('{"result":3,"error":null,"id":1}'), {
    kind: "result",
    id: 1,
    result: 3,
  });
  assert.deepStrictEqual(v1.decode('{"result":null,"error":null,"id":1}'), {
    kind: "result",
    id: 1,
    result: null,
  });
  assert.deepStrictEqual(v1.decode('{"result":null,"error":{"code":4,"message":"no"},"id":2}'), {
    kind: "error",
    id: 2,
    error: { code: 4, message: "no" },
  });
  assert.deepStrictEqual(v1.decode('{"result":null,"error":"boom","id":2}'), {
    kind: "error",
    id: 2,
    error: { code: ErrorCode.InternalError, message: "boom", data: "boom" },
  });
  assert.deepStrictEqual(
    v1.decode('{"result":null,"error":{"name":"E","message":"m"},"id":null}'),
    {
      kind: "error",
      id: null,
      error: { code: ErrorCode.InternalError, message: "m", data: { name: "E", message: "m" } },
    },
  );
  assertInvalid(v1.decode('{"result":1,"error":"boom","id":2}'), undefined);
  assertInvalid(v1.decode('{"result":1,"error":null}'), undefined);
  assertInvalid(v1.decode('{"method":"f","params":"x","id":2}'), 2);
  assertInvalid(v1.decode('{"jsonrpc":"3.0","method":"f","id":2}'), 2);
  // 2.0 messages still decode as 2.0.
  assertInvalid(v1.decode('{"jsonrpc":"2.0","method":"f","id":null}'), null);
  assert.deepStrictEqual(v1.decode('[{"jsonrpc":"2.0","method":"f"},{"method":"g","id":null}]'), {
    kind: "batch",
    messages: [{ kind: "notification", method: "f" }, { kind: "notification", method: "g" }],
  });
});

Deno.test('jsonRpc({ version: "1.0" }) encodes JSON-RPC 1.0 and decodes it back', () => {
  const v1 = jsonRpc({ version: "1.0" });
  assert.deepStrictEqual(v1.features, {
    batch: false,
    notifications: true,
    replyToParseError: true,
  });
  const cases: [RpcMessage, string][] = [
    [
      { kind: "request", id: 1, method: "add", params: [1, 2] },
      '{"method":"add","params":[1,2],"id":1}',
    ],
    [{ kind: "request", id: 2, method: "ping" }, '{"method":"ping","params":[],"id":2}'],
    [{ kind: "notification", method: "zip" }, '{"method":"zip","params":[],"id":null}'],
    [{ kind: "result", id: 1, result: 3 }, '{"result":3,"error":null,"id":1}'],
    [
      { kind: "error", id: 1, error: { code: 1, message: "overflow" } },
      '{"result":null,"error":{"code":1,"message":"overflow"},"id":1}',
    ],
  ];
  for (const [message, text] of cases) {
    assert.equal(v1.encode(message), text);
    const decoded = v1.decode(text);
    if (message.kind !== "result" && message.kind !== "error" && message.params === undefined) {
      assert.deepStrictEqual(decoded, { ...message, params: [] });
    } else {
      assert.deepStrictEqual(decoded, message);
    }
  }
  assert.throws(() => v1.encode([{ kind: "notification", method: "zip" }]), TypeError);
});

// --- Codec surface ---

Deno.test("jsonRpc() describes itself", () => {
  assert.equal(codec.name, "jsonrpc");
  assert.equal(codec.mediaType, "application/json");
  assert.deepStrictEqual(codec.features, {
    batch: true,
    notifications: true,
    replyToParseError: true,
  });
});

Deno.test("jsonRpc() builds and reads $/cancelRequest notifications", () => {
  assert.deepStrictEqual(codec.cancelNotification(5), {
    kind: "notification",
    method: "$/cancelRequest",
    params: { id: 5 },
  });
  assert.equal(
    codec.encode(codec.cancelNotification("a")),
    '{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"a"}}',
  );
  const read = (text: string) => {
    const frame = codec.decode(text);
    return frame.kind === "notification" ? codec.readCancellation(frame) : "not a notification";
  };
  assert.equal(read('{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":5}}'), 5);
  assert.equal(read('{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"x"}}'), "x");
  assert.equal(read('{"jsonrpc":"2.0","method":"$/cancelRequest","params":[5]}'), undefined);
  assert.equal(
    read('{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":null}}'),
    undefined,
  );
  assert.equal(read('{"jsonrpc":"2.0","method":"$/cancelRequest"}'), undefined);
  assert.equal(read('{"jsonrpc":"2.0","method":"cancel","params":{"id":5}}'), undefined);
});

Deno.test("jsonRpc().measure() finds JSON values in a byte stream", () => {
  const enc = new TextEncoder();
  const text = ' \n{"jsonrpc":"2.0","method":"echo","params":["}]\\"{["],"id":1}\r\n';
  assert.equal(codec.measure(enc.encode(text)), enc.encode(text).length);
  assert.equal(codec.measure(enc.encode(text + "[")), enc.encode(text).length);
  assert.equal(codec.measure(enc.encode("  \n")), undefined);
  assert.equal(codec.measure(enc.encode('[{"a":"é"}]')), 12);
  for (const bad of ["x{}", "1", '"a"', "null"]) {
    assert.throws(() => codec.measure(enc.encode(bad)), DecodeError);
  }
  assert.throws(() => codec.measure(enc.encode("[".repeat(65))), DecodeError);
  assert.equal(codec.measure(enc.encode("[".repeat(64))), undefined);
});
