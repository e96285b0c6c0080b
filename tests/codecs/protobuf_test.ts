import assert from "node:assert/strict";
import fc from "fast-check";
import { loadProto, protobufRpc, protoTypes, ProtoValueError } from "../../codecs/protobuf.ts";
import { DecodeError } from "../../rpc/errors.ts";
import type { Codec, DecodedFrame } from "../../rpc/types.ts";

const schema = loadProto({
  "calculator.proto": Deno.readTextFileSync(
    new URL("../../examples/calculator/calculator.proto", import.meta.url),
  ),
  "kitchen.proto": `
    syntax = "proto3";
    package kitchen;
    import "google/protobuf/timestamp.proto";
    enum Color { COLOR_UNSPECIFIED = 0; RED = 1; GREEN = 2; }
    message Node { string name = 1; repeated Node children = 2; }
    message Everything {
      int32 i32 = 1; uint32 u32 = 2; sint32 s32 = 3; fixed32 f32 = 4; sfixed32 sf32 = 5;
      int64 i64 = 6; uint64 u64 = 7; sint64 s64 = 8; fixed64 f64 = 9; sfixed64 sf64 = 10;
      float fl = 11; double db = 12; bool flag = 13; string text = 14; bytes blob = 15;
      Color color = 16; Node node = 17; repeated int64 longs = 18; map<int64, string> names = 19;
      map<string, Node> nodes = 20; optional int32 maybe = 21; google.protobuf.Timestamp when = 22;
      oneof choice { string left = 23; int64 right = 24; }
      string snake_case_name = 25;
    }
    service Kitchen {
      rpc Cook(Everything) returns (Everything);
      rpc Stream(Everything) returns (stream Everything);
    }`,
});
const everything = schema.message("kitchen.Everything");
const calculator = () => protobufRpc({ schema, errorDetails: "interop.InvalidOperation" });
const pair = (): [Codec, Codec] => [calculator().fork!(), calculator().fork!()];

Deno.test("loadProto: every method by wire name, with its types", () => {
  const add = schema.method("interop.Calculator/Add")!;
  assert.equal(add.service, "interop.Calculator");
  assert.equal(add.method, "Add");
  assert.equal(add.request.name, "interop.AddRequest");
  assert.equal(add.response.name, "interop.AddReply");
  assert.equal(schema.method("interop.Calculator/add"), undefined);
  assert.ok(schema.method("kitchen.Kitchen/Stream")!.serverStreaming);
  assert.equal(
    [...schema.methods.keys()].filter((name) => name.startsWith("interop.")).length,
    11,
  );
});

Deno.test("loadProto: clear errors for syntax errors and missing imports", () => {
  assert.throws(() => loadProto({ "bad.proto": "syntax = 'proto3'; message {" }), /bad\.proto/);
  assert.throws(
    () => loadProto({ "a.proto": 'syntax = "proto3"; import "b.proto";' }),
    /a\.proto: imports "b\.proto", which is not among the sources/,
  );
  assert.throws(() => loadProto('syntax = "proto3"; message A { Missing m = 1; }'), /Missing/);
});

Deno.test("loadProto: a protobufjs JSON descriptor works as well as the .proto text", () => {
  const fromJson = loadProto(schema.root.toJSON());
  const add = fromJson.method("interop.Calculator/Add")!;
  assert.deepEqual(add.request.decode(add.request.encode({ num1: 1, num2: 2 })), {
    num1: 1,
    num2: 2,
  });
});

Deno.test("messages: every scalar type round-trips, 64-bit integers exactly, as bigint", () => {
  const value = {
    i32: -(2 ** 31),
    u32: 2 ** 32 - 1,
    s32: -5,
    f32: 7,
    sf32: -7,
    i64: -(2n ** 63n),
    u64: 2n ** 64n - 1n,
    s64: -(2n ** 62n),
    f64: 2n ** 63n,
    sf64: 2n ** 53n + 1n,
    fl: 1.5,
    db: -0.1,
    flag: true,
    text: "héllo 🌍",
    blob: new Uint8Array([0, 255, 7]),
    color: 2,
    node: { name: "root", children: [{ name: "leaf", children: [] }] },
    longs: [1n, -1n, 2n ** 60n],
    names: { "5": "five", "-9223372036854775808": "min" },
    nodes: { a: { name: "n", children: [] } },
    maybe: 0,
    when: { seconds: 1700000000n, nanos: 5 },
    right: 9n,
    snakeCaseName: "camel",
  };
  const decoded = everything.decode(everything.encode(value));
  assert.deepEqual(decoded, value);
  assert.equal(decoded.blob!.constructor, Uint8Array);
});

Deno.test("messages: proto3 defaults are filled in; unset optional, oneof and message fields stay absent", () => {
  const decoded = everything.decode(new Uint8Array(0));
  assert.equal(decoded.i32, 0);
  assert.equal(decoded.i64, 0n);
  assert.equal(decoded.text, "");
  assert.deepEqual(decoded.blob, new Uint8Array(0));
  assert.deepEqual(decoded.longs, []);
  assert.deepEqual(decoded.names, {});
  for (const absent of ["node", "maybe", "when", "left", "right"]) {
    assert.ok(!(absent in decoded), `${absent} should be absent`);
  }
});

Deno.test("messages: numbers are accepted for 64-bit fields when safe; everything else is refused with where and why", () => {
  assert.deepEqual(everything.decode(everything.encode({ i64: 42, u64: 7 })).i64, 42n);
  const refused: [unknown, RegExp][] = [
    [{ i64: 2 ** 53 }, /i64: a safe integer or a bigint expected/],
    [{ i64: 2n ** 63n }, /i64: 9223372036854775808 is outside the int64 range/],
    [{ u64: -1n }, /u64: -1 is outside the uint64 range/],
    [{ i64: "5" }, /i64: an integer \(number or bigint\) expected/],
    [{ i32: "5" }, /i32: integer expected/],
    [{ i32: 1.5 }, /i32: integer expected/],
    // 32-bit fields refuse what would leave as its low 32 bits.
    [{ i32: 2 ** 40 }, /i32: 1099511627776 is outside the range -2147483648\.\.2147483647/],
    [{ i32: -(2 ** 31) - 1 }, /i32: .* outside the range/],
    [{ u32: -1 }, /u32: -1 is outside the range 0\.\.4294967295/],
    [{ u32: 2 ** 32 }, /u32: .* outside the range/],
    [{ s32: 2 ** 31 }, /s32: .* outside the range/],
    [{ f32: 2 ** 32 }, /f32: .* outside the range/],
    [{ sf32: -(2 ** 31) - 1 }, /sf32: .* outside the range/],
    [{ text: 5 }, /text: string expected/],
    [{ blob: "AQI=" }, /blob: Uint8Array expected/],
    [{ flag: 1 }, /flag: boolean expected/],
    [{ color: "RED" }, /color: enum value expected/],
    [{ node: "x" }, /node: an object expected for kitchen\.Node/],
    [
      { node: { name: "a", children: [{ nmae: "typo" }] } },
      /children\[0\]\.nmae: not a field of kitchen\.Node/,
    ],
    [{ longs: 5 }, /longs: an array expected/],
    [{ names: [1] }, /names: .*expected/],
    [{ longs: [1, 2n ** 64n] }, /longs\[1\]: .* outside the int64 range/],
    [{ unknown: 1 }, /unknown: not a field of kitchen\.Everything/],
    [[1, 2], /an object expected/],
    [null, /an object expected/],
  ];
  for (const [value, message] of refused) {
    assert.throws(() => everything.encode(value), (e: unknown) => {
      assert.ok(e instanceof ProtoValueError, `${JSON.stringify(String(value))}: ${e}`);
      assert.match((e as Error).message, message);
      return true;
    });
  }
});

Deno.test("messages: truncated bytes, wrong wire types and hostile lengths are refused", () => {
  const add = schema.message("interop.AddRequest");
  for (
    const bad of [
      [0x08], // a varint field without its value
      [0x0f, 1, 2], // wire type 7
      [0x12, 0x05, 1], // a length beyond the bytes
      [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], // a 4 GiB length
      [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // an endless varint
    ]
  ) {
    assert.throws(() => add.decode(new Uint8Array(bad)), Error, `bytes ${bad}`);
  }
  // Unknown fields of every wire type are skipped, as protobuf requires.
  assert.deepEqual(
    add.decode(
      new Uint8Array([0x08, 1, 0x78, 5, 0x82, 0x01, 1, 9, 0x8d, 0x01, 0, 0, 0, 0, 0x10, 2]),
    ),
    { num1: 1, num2: 2 },
  );
  // Nesting beyond protobufjs's recursion limit is an error, not a stack overflow.
  const node = schema.message("kitchen.Node");
  let nested: Record<string, unknown> = { name: "x" };
  for (let i = 0; i < 150; i++) nested = { name: "x", children: [nested] };
  assert.throws(() => node.decode(node.encode(nested)), /recursion|depth|limit/i);
});

Deno.test("messages: proto3 JSON both ways (names, 64-bit as strings, base64, enum names)", () => {
  const json = everything.toJson({
    i64: -(2n ** 63n),
    u64: 0n,
    db: NaN,
    blob: new Uint8Array([251, 255]),
    color: 1,
    snakeCaseName: "x",
    names: { "5": "five" },
    maybe: 0,
    longs: [1n],
  });
  assert.deepEqual(json, {
    i64: "-9223372036854775808",
    db: "NaN",
    blob: "+/8=",
    color: "RED",
    snakeCaseName: "x",
    names: { "5": "five" },
    maybe: 0,
    longs: ["1"],
  });
  assert.deepEqual(
    everything.fromJson({
      i64: "-9223372036854775808",
      u32: "7",
      color: "GREEN",
      blob: "-_8",
      snake_case_name: "y",
      db: "-Infinity",
      node: null,
    }),
    {
      i64: -(2n ** 63n),
      u32: 7,
      color: 2,
      blob: new Uint8Array([251, 255]),
      snakeCaseName: "y",
      db: -Infinity,
    },
  );
  for (
    const [value, message] of [
      [{ i32: "x" }, /i32: an integer expected/],
      [{ i32: 2 ** 31 }, /outside the int32 range/],
      [{ u64: "-1" }, /outside the uint64 range/],
      [{ color: "PURPLE" }, /"PURPLE" is not a value of Color/],
      [{ blob: "!!" }, /invalid base64/],
      [{ flag: "true" }, /a boolean expected/],
      [{ nope: 1 }, /not a field/],
      [{ longs: {} }, /an array expected/],
      [[], /an object expected/],
    ] as const
  ) {
    assert.throws(() => everything.fromJson(value), message);
  }
});

Deno.test("envelope: a call and its reply, with the contract's bytes", () => {
  const [client, server] = pair();
  const frame = client.encode({
    kind: "request",
    id: 1,
    method: "interop.Calculator/Add",
    params: { num1: 1, num2: 2 },
  }) as Uint8Array;
  // Request{id 1, method, payload AddRequest{1, 2}}
  const method = new TextEncoder().encode("interop.Calculator/Add");
  assert.deepEqual(
    frame,
    new Uint8Array([0x08, 1, 0x12, method.length, ...method, 0x1a, 4, 0x08, 1, 0x10, 2]),
  );
  assert.deepEqual(server.decode(frame), {
    kind: "request",
    id: 1,
    method: "interop.Calculator/Add",
    params: { num1: 1, num2: 2 },
  });
  const reply = server.encode({ kind: "result", id: 1, result: { sum: 3 } }) as Uint8Array;
  assert.deepEqual(reply, new Uint8Array([0x08, 1, 0x12, 2, 0x08, 3]));
  assert.deepEqual(client.decode(reply), { kind: "result", id: 1, result: { sum: 3 } });
});

Deno.test("envelope: positional params hold the one request message; a notification is id 0", () => {
  const [client, server] = pair();
  const frame = client.encode({
    kind: "request",
    id: 7,
    method: "interop.Calculator/Echo",
    params: [{ text: "hi" }],
  });
  assert.deepEqual(server.decode(frame), {
    kind: "request",
    id: 7,
    method: "interop.Calculator/Echo",
    params: { text: "hi" },
  });
  const note = client.encode({ kind: "notification", method: "interop.Calculator/Zip" });
  assert.deepEqual(server.decode(note), {
    kind: "notification",
    method: "interop.Calculator/Zip",
    params: {},
  });
  assert.throws(
    () =>
      client.encode({ kind: "request", id: 8, method: "interop.Calculator/Add", params: [1, 2] }),
    /takes one interop\.AddRequest message, not 2 params/,
  );
});

Deno.test("envelope: errors carry code, message and typed details", () => {
  const [client, server] = pair();
  client.encode({ kind: "request", id: 3, method: "interop.Calculator/Calculate", params: {} });
  const failure = server.encode({
    kind: "error",
    id: 3,
    error: {
      code: 4,
      message: "Cannot divide by 0",
      data: { whatOp: 4, why: "Cannot divide by 0" },
    },
  });
  assert.deepEqual(client.decode(failure), {
    kind: "error",
    id: 3,
    error: {
      code: 4,
      message: "Cannot divide by 0",
      data: { whatOp: 4, why: "Cannot divide by 0" },
    },
  });
  // Data of another shape does not travel; bytes travel as they are.
  const other = server.encode({
    kind: "error",
    id: 4,
    error: { code: -32602, message: "Invalid params", data: [{ path: [0] }] },
  });
  assert.deepEqual(client.decode(other), {
    kind: "error",
    id: 4,
    error: { code: -32602, message: "Invalid params" },
  });
  const plain = protobufRpc({ schema });
  const raw = plain.encode({
    kind: "error",
    id: 5,
    error: { code: 9, message: "m", data: new Uint8Array([1]) },
  });
  assert.deepEqual(plain.decode(raw), {
    kind: "error",
    id: 5,
    error: { code: 9, message: "m", data: new Uint8Array([1]) },
  });
  // An error whose id is unknown goes out under id 0 and reads back as null.
  const unknown = server.encode({
    kind: "error",
    id: null,
    error: { code: -32700, message: "Parse error" },
  });
  assert.deepEqual(client.decode(unknown), {
    kind: "error",
    id: null,
    error: { code: -32700, message: "Parse error" },
  });
});

Deno.test("envelope: ids up to 2^64 - 1 travel exactly (strings beyond 2^53)", () => {
  const [client, server] = pair();
  for (const id of [1, 2 ** 53 - 1, "9007199254740993", "18446744073709551615"]) {
    const frame = client.encode({
      kind: "request",
      id,
      method: "interop.Calculator/Ping",
      params: {},
    });
    const call = server.decode(frame) as { id: unknown };
    assert.equal(call.id, id);
    assert.deepEqual(client.decode(server.encode({ kind: "result", id, result: {} })), {
      kind: "result",
      id,
      result: {},
    });
  }
  for (const id of [0, -1, 1.5, "abc", "18446744073709551616"]) {
    assert.throws(
      () => client.encode({ kind: "request", id, method: "interop.Calculator/Ping" }),
      /positive 64-bit integers/,
    );
  }
});

Deno.test("envelope: unknown methods, streaming methods and undecodable payloads are answered, not thrown", () => {
  const server = calculator().fork!();
  const method = (name: string) => new TextEncoder().encode(name);
  const request = (id: number, name: string, payload: number[] = []) =>
    new Uint8Array([
      0x08,
      id,
      0x12,
      method(name).length,
      ...method(name),
      ...(payload.length > 0 ? [0x1a, payload.length, ...payload] : []),
    ]);
  const cases: [Uint8Array, DecodedFrame][] = [
    [request(1, "interop.Calculator/Nope"), {
      kind: "invalid",
      id: 1,
      error: {
        code: -32601,
        message: "Method not found",
        data: { method: "interop.Calculator/Nope" },
      },
    }],
    [request(2, "kitchen.Kitchen/Stream"), {
      kind: "invalid",
      id: 2,
      error: {
        code: -32601,
        message: "Method not found",
        data: { method: "kitchen.Kitchen/Stream" },
      },
    }],
    [request(0, "interop.Calculator/Nope"), {
      kind: "invalid",
      id: undefined,
      error: {
        code: -32601,
        message: "Method not found",
        data: { method: "interop.Calculator/Nope" },
      },
    }],
  ];
  for (const [frame, expected] of cases) assert.deepEqual(server.decode(frame), expected);
  const bad = server.decode(request(3, "interop.Calculator/Add", [0xff, 0xff, 0xff])) as {
    kind: string;
    id: unknown;
    error: { code: number };
  };
  assert.deepEqual([bad.kind, bad.id, bad.error.code], ["invalid", 3, -32602]);
  // Fields 2 and 3 present with a field 2 that is no name: an invalid request.
  const noName = server.decode(new Uint8Array([0x08, 4, 0x12, 1, 0x00, 0x1a, 0]));
  assert.deepEqual(noName, {
    kind: "invalid",
    id: 4,
    error: {
      code: -32600,
      message: "Invalid request: the method name is not printable ASCII of at most 1024 bytes",
    },
  });
});

Deno.test("envelope: a request without a method name is answered -32600, whatever else it holds", () => {
  const server = calculator().fork!();
  const noName = { code: -32600, message: "Invalid request: no method name" };
  const notName = {
    code: -32600,
    message: "Invalid request: the method name is not printable ASCII of at most 1024 bytes",
  };
  const cases: [number[], unknown, unknown][] = [
    // An id alone (proto3 leaves an empty method and payload out).
    [[0x08, 5], 5, noName],
    // An empty method written out.
    [[0x08, 6, 0x12, 0], 6, noName],
    // An id and a payload, the method left out: AddRequest{1, 2}, Echo{"hi"}.
    [[0x08, 7, 0x1a, 4, 0x08, 1, 0x10, 2], 7, noName],
    [[0x08, 8, 0x1a, 4, 0x0a, 2, 0x68, 0x69], 8, noName],
    // A method that is not a name, with no id: answered under id 0 (null).
    [[0x12, 2, 0x01, 0x02], null, notName],
    [[0x12, 3, 0x61, 0x20, 0x62], null, notName],
    // Nothing at all.
    [[], null, noName],
  ];
  for (const [bytes, id, error] of cases) {
    assert.deepEqual(
      server.decode(new Uint8Array(bytes)),
      { kind: "invalid", id, error },
      `frame ${bytes}`,
    );
  }
});

Deno.test("envelope: an error reply this side does not await is a stray error, never answered", () => {
  const [client, server] = pair();
  // Error{code -32600, message "m"} under id 9, which the server never sent.
  const failure = client.encode({ kind: "error", id: 9, error: { code: -32600, message: "m" } });
  assert.deepEqual(server.decode(failure), {
    kind: "error",
    id: 9,
    error: { code: -32600, message: "m" },
  });
  const aboutNothing = client.encode({
    kind: "error",
    id: null,
    error: { code: -32700, message: "Parse error" },
  });
  assert.deepEqual(server.decode(aboutNothing), {
    kind: "error",
    id: null,
    error: { code: -32700, message: "Parse error" },
  });
});

Deno.test("property: what answers a malformed envelope is never answered in turn", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
      const [client, server] = pair();
      let decoded;
      try {
        decoded = server.decode(bytes);
      } catch {
        return; // not an envelope: answered -32700 under id 0, an error reply
      }
      if (decoded.kind !== "invalid" || decoded.id === undefined) return;
      const answer = server.encode({ kind: "error", id: decoded.id, error: decoded.error });
      assert.equal(client.decode(answer).kind, "error");
    }),
    { numRuns: 2000 },
  );
});

Deno.test("envelope: frames that are not envelopes throw DecodeError (answered -32700 by the session)", () => {
  const server = calculator().fork!();
  for (const bad of [[0xff, 0xff], [0x08], [0x12, 9, 1], [0x0a, 0], [0x00, 0x01], "text"]) {
    assert.throws(
      () => server.decode(typeof bad === "string" ? bad : new Uint8Array(bad)),
      DecodeError,
      `frame ${bad}`,
    );
  }
  assert.ok(calculator().features.replyToParseError);
});

Deno.test("envelope: a reply whose payload is not its method's reply fails that call (inReplyTo)", () => {
  const [client] = pair();
  client.encode({ kind: "request", id: 9, method: "interop.Calculator/Add", params: {} });
  const decoded = client.decode(new Uint8Array([0x08, 9, 0x12, 2, 0x0f, 0x00])) as {
    kind: string;
    inReplyTo: unknown;
  };
  assert.equal(decoded.kind, "invalid");
  assert.equal(decoded.inReplyTo, 9);
  // A "reply" to a call this side never made cannot be told from a request
  // with an empty method name, which is answered.
  assert.deepEqual(client.decode(new Uint8Array([0x08, 42, 0x12, 0])), {
    kind: "invalid",
    id: 42,
    error: { code: -32600, message: "Invalid request: no method name" },
  });
});

Deno.test("envelope: a codec forgets the oldest calls beyond maxInFlight", () => {
  const client = protobufRpc({ schema, maxInFlight: 2 }).fork!();
  for (const id of [1, 2, 3]) {
    client.encode({ kind: "request", id, method: "interop.Calculator/Ping" });
  }
  assert.deepEqual(client.decode(new Uint8Array([0x08, 3, 0x12, 0])), {
    kind: "result",
    id: 3,
    result: {},
  });
  // Call 1 was forgotten: its reply reads as a request without a method name.
  assert.deepEqual(client.decode(new Uint8Array([0x08, 1, 0x12, 0])), {
    kind: "invalid",
    id: 1,
    error: { code: -32600, message: "Invalid request: no method name" },
  });
});

Deno.test("envelope: results that do not fit the reply type and unknown methods fail to encode", () => {
  const [client, server] = pair();
  assert.throws(
    () => client.encode({ kind: "request", id: 1, method: "nope.Nope/X" }),
    /not a method of the schema/,
  );
  assert.throws(
    () => client.encode({ kind: "request", id: 1, method: "kitchen.Kitchen/Stream" }),
    /streaming/,
  );
  assert.throws(() => server.encode({ kind: "result", id: 1, result: {} }), /No call with id 1/);
  server.decode(
    client.encode({ kind: "request", id: 2, method: "interop.Calculator/Add", params: {} }),
  );
  assert.throws(
    () => server.encode({ kind: "result", id: 2, result: { sum: "3" } }),
    /sum: integer expected/,
  );
  assert.throws(() => server.encode([]), /no batches/);
});

Deno.test("property: any AddRequest and Shape round-trip through the envelope", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.string(),
      fc.array(fc.double({ noNaN: true })),
      fc.dictionary(fc.string(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      fc.uint8Array(),
      fc.boolean(),
      (num1, num2, name, coords, tags, blob, flag) => {
        const [client, server] = pair();
        const add = server.decode(
          client.encode({
            kind: "request",
            id: 1,
            method: "interop.Calculator/Add",
            params: { num1, num2 },
          }),
        );
        assert.deepEqual(add, {
          kind: "request",
          id: 1,
          method: "interop.Calculator/Add",
          params: { num1, num2 },
        });
        const shape = { name, coords, tags: { ...tags }, blob, flag };
        const echo = server.decode(
          client.encode({
            kind: "request",
            id: 2,
            method: "interop.Calculator/EchoShape",
            params: shape,
          }),
        ) as { params: unknown };
        assert.deepEqual(echo.params, {
          ...shape,
          coords: coords.map((c) => Object.is(c, -0) ? -0 : c),
        });
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("property: random bytes never crash the envelope decoder: a message, or a DecodeError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const server = calculator().fork!();
      try {
        server.decode(bytes);
      } catch (error) {
        assert.ok(error instanceof DecodeError, String(error));
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("protoTypes: the committed calculator_types.ts is what `deno task proto:types` writes today", async () => {
  const schema = loadProto({
    "calculator.proto": Deno.readTextFileSync(
      new URL("../../examples/calculator/calculator.proto", import.meta.url),
    ),
  });
  const fmt = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "ts", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = fmt.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(protoTypes(schema, "examples/calculator/calculator.proto") + "\n"),
  );
  await writer.close();
  const formatted = await fmt.output();
  assert.equal(
    new TextDecoder().decode(formatted.stdout),
    Deno.readTextFileSync(
      new URL("../../examples/calculator/calculator_types.ts", import.meta.url),
    ),
    "regenerate with: deno task proto:types examples/calculator/calculator.proto --out examples/calculator/calculator_types.ts && deno fmt",
  );
});

Deno.test("protoTypes: every kind of field, nested and clashing names", () => {
  const text = protoTypes(
    loadProto({
      "a.proto": `syntax = "proto3"; package a; message Thing { int32 x = 1; }
        message Outer { message Inner { bytes b = 1; } Inner inner = 1; map<string, int64> m = 2;
          repeated b.Thing things = 3; oneof o { string s = 4; } }`,
      "b.proto": `syntax = "proto3"; package b; message Thing { uint64 y = 1; }`,
    }),
    "a.proto",
  );
  assert.match(text, /export interface a_Thing \{\n {2}x: number;/);
  assert.match(text, /export interface b_Thing \{\n {2}y: bigint;/);
  assert.match(text, /inner\?: Inner;/);
  assert.match(text, /m: Record<string, bigint>;/);
  assert.match(text, /things: b_Thing\[\];/);
  assert.match(text, /s\?: string;/);
  assert.match(text, /export interface Inner \{\n {2}b: Uint8Array;/);
});
