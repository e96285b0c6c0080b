import assert from "node:assert/strict";
import fc from "fast-check";
import { loadThrift, ThriftException, thriftRpc, ThriftValueError } from "../../codecs/thrift.ts";
import { DecodeError, RpcError } from "../../rpc/errors.ts";
import type { Codec } from "../../rpc/types.ts";
import { type Protocol, reader, writer } from "../../codecs/thrift/_protocol.ts";
import { field, struct } from "./_thrift_wire.ts";

const SHARED = `
namespace py shared
typedef i64 Id
const i32 ANSWER = 42
enum Color { RED = 1, GREEN, BLUE = 10 }
struct Owner { 1: required string name, 2: optional Id id }
`;

const MAIN = `
include "shared.thrift"
typedef list<string> Names
const list<i32> PRIMES = [2, 3, 5]
const map<string, i32> AGES = {"ada": 36}
struct Everything {
  1: bool flag,
  2: byte tiny,
  3: i16 small,
  4: i32 medium = shared.ANSWER,
  5: i64 large,
  6: double real,
  7: string text,
  8: binary blob,
  9: shared.Color color = shared.Color.GREEN,
  10: Names names,
  11: set<i32> unique,
  12: map<string, shared.Id> byName,
  13: map<i32, string> byNumber,
  14: optional shared.Owner owner,
  15: list<Everything> children,
}
union Choice { 1: string left, 2: i64 right }
exception Refused { 1: i32 code, 2: string reason }
exception Other { 1: string what }
service Base { string hello(1: string name) }
service Kitchen extends Base {
  Everything cook(1: Everything e) throws (1: Refused refused, 2: Other other),
  void nothing(),
  oneway void fire(1: i32 n),
  Choice choose(1: Choice c),
  shared.Id identify(1: shared.Owner owner),
}
service Second { i32 twice(1: i32 n) }
`;

const schema = loadThrift({ "main.thrift": MAIN, "shared.thrift": SHARED });

// An Everything as a call reads it when it holds only `text`: the IDL's
// defaults (medium, color), zero values for the rest, the optional owner absent.
const ZERO_EVERYTHING = (text: string) => ({
  flag: false,
  tiny: 0,
  small: 0,
  medium: 42,
  large: 0n,
  real: 0,
  text,
  blob: new Uint8Array(0),
  color: 2,
  names: [],
  unique: new Set(),
  byName: {},
  byNumber: new Map(),
  children: [],
});

for (const protocol of ["binary", "compact"] as const) {
  const pair = (): [Codec, Codec] => {
    const codec = thriftRpc({ schema, service: "Kitchen", protocol });
    return [codec.fork!(), codec.fork!()];
  };
  const roundTrip = (method: string, params: unknown[], result: unknown) => {
    const [client, server] = pair();
    const call = server.decode(
      client.encode({ kind: "request", id: 7, method, params }),
    ) as unknown as {
      id: number;
      params: unknown[];
    };
    const reply = client.decode(server.encode({ kind: "result", id: call.id, result }));
    return { call, reply };
  };

  Deno.test(`thrift (${protocol}): every type round-trips, i64 exactly as bigint`, () => {
    const value = {
      flag: true,
      tiny: -128,
      small: 32767,
      medium: -(2 ** 31),
      large: -(2n ** 63n),
      real: -0,
      text: "héllo 🌍",
      blob: new Uint8Array([0, 255]),
      color: 10,
      names: ["a", ""],
      unique: new Set([1, 2]),
      byName: { ada: 2n ** 62n },
      byNumber: new Map([[1, "one"], [-5, "minus five"]]),
      owner: { name: "o", id: 9n },
      children: [{
        flag: false,
        tiny: 0,
        small: 0,
        medium: 42,
        large: 0n,
        real: 1e-310,
        text: "",
        blob: new Uint8Array(0),
        color: 2,
        names: [],
        unique: new Set<number>(),
        byName: {},
        byNumber: new Map(),
        children: [],
      }],
    };
    const { call, reply } = roundTrip("cook", [value], value);
    assert.deepEqual(call.params, [value]);
    assert.ok(Object.is((call.params[0] as { real: number }).real, -0));
    assert.deepEqual(reply, { kind: "result", id: 7, result: value });
  });

  Deno.test(`thrift (${protocol}): a call's absent fields read as their defaults, else their zero values; a reply's stay absent; optional ones stay absent; required ones are required`, () => {
    const { call, reply } = roundTrip("cook", [{ text: "x" }], {});
    // As Apache Thrift's C++ reader leaves them: the IDL's defaults (medium,
    // color), else false, 0, empty; `owner` is optional.
    assert.deepEqual(call.params, [ZERO_EVERYTHING("x")]);
    assert.deepEqual(reply, { kind: "result", id: 7, result: { medium: 42, color: 2 } });
    const [client] = pair();
    assert.throws(
      () => client.encode({ kind: "request", id: 1, method: "identify", params: [{ id: 1 }] }),
      /identify\.owner\.name: is required/,
    );
    assert.equal(roundTrip("identify", [{ name: "n" }], 5).reply.kind, "result");
    // An argument that is absent altogether: a struct of zeros; a union stays absent.
    assert.deepEqual(roundTrip("cook", [], {}).call.params, [ZERO_EVERYTHING("")]);
    assert.deepEqual(roundTrip("choose", [], { left: "l" }).call.params, []);
  });

  Deno.test(`thrift (${protocol}): values that do not fit are refused with where and why`, () => {
    const [client] = pair();
    const cases: [unknown, RegExp][] = [
      [{ tiny: 128 }, /cook\.e\.tiny: an integer from -128 to 127 expected/],
      [{ medium: 2 ** 31 }, /medium: an integer from/],
      [{ large: 2n ** 63n }, /large: 9223372036854775808 is outside the i64 range/],
      [{ large: 2 ** 60 }, /large: a safe integer or a bigint expected/],
      [{ text: 5 }, /text: a string expected/],
      [{ blob: "AQ==" }, /blob: a Uint8Array expected/],
      [{ names: "a" }, /names: an array expected/],
      [{ byNumber: 5 }, /byNumber: a Map or an object expected/],
      [{ typo: 1 }, /cook\.e\.typo: not a field of Everything/],
      [{ owner: { name: "n", extra: 1 } }, /owner\.extra: not a field of shared\.Owner/],
    ];
    for (const [value, message] of cases) {
      assert.throws(
        () => client.encode({ kind: "request", id: 1, method: "cook", params: [value] }),
        (e: unknown) => e instanceof ThriftValueError && message.test(e.message),
        JSON.stringify(String(message)),
      );
    }
    assert.throws(
      () =>
        client.encode({
          kind: "request",
          id: 1,
          method: "choose",
          params: [{ left: "a", right: 1n }],
        }),
      /a union holds exactly one field, not 2/,
    );
    assert.throws(
      () => client.encode({ kind: "request", id: 1, method: "nope" }),
      /not a function/,
    );
    assert.throws(
      () => client.encode({ kind: "request", id: 1, method: "fire", params: [1] }),
      /oneway/,
    );
  });

  Deno.test(`thrift (${protocol}): inherited functions, void, oneway and named params`, () => {
    assert.deepEqual(roundTrip("hello", ["ada"], "hi ada").reply, {
      kind: "result",
      id: 7,
      result: "hi ada",
    });
    assert.deepEqual(roundTrip("nothing", [], null).reply, { kind: "result", id: 7, result: null });
    const [client, server] = pair();
    assert.deepEqual(
      server.decode(client.encode({ kind: "notification", method: "fire", params: { n: 3 } })),
      {
        kind: "notification",
        method: "fire",
        params: [3],
      },
    );
  });

  Deno.test(`thrift (${protocol}): declared exceptions both ways; other errors as TApplicationException`, () => {
    const codec = thriftRpc({
      schema,
      service: "Kitchen",
      protocol,
      exceptionError: (type, fields) => ({
        code: Number(fields.code ?? 0),
        message: `${type}: ${fields.reason}`,
      }),
    });
    const [client, server] = [codec.fork!(), codec.fork!()];
    const ask = (id: number) =>
      server.decode(
        client.encode({ kind: "request", id, method: "cook", params: [{}] }),
      ) as unknown as {
        id: number;
      };
    let call = ask(1);
    const refused = client.decode(server.encode({
      kind: "error",
      id: call.id,
      error: { code: 3, message: "no", data: { code: 3, reason: "busy" } },
    })) as unknown as { kind: string; id: number; error: ThriftException };
    assert.deepEqual([refused.kind, refused.id], ["error", 1]);
    assert.ok(refused.error instanceof ThriftException);
    assert.deepEqual(
      [refused.error.exception, refused.error.code, refused.error.message, refused.error.data],
      ["Refused", 3, "Refused: busy", { code: 3, reason: "busy" }],
    );
    assert.equal(RpcError.from(refused.error), refused.error); // peers reject with it as it is
    call = ask(2);
    const other = client.decode(server.encode({
      kind: "error",
      id: call.id,
      error: { code: 9, message: "m", data: { what: "x" } },
    })) as unknown as { error: ThriftException };
    assert.deepEqual(
      [other.error.exception, other.error.code, other.error.message, other.error.fields],
      ["Other", 0, "Other: undefined", { what: "x" }],
    );
    for (
      const [code, type] of [[-32601, 1], [-32600, 2], [-32602, 7], [-32603, 6], [5, 6]] as const
    ) {
      call = ask(10 + code);
      const decoded = client.decode(
        server.encode({ kind: "error", id: call.id, error: { code, message: "why" } }),
      ) as unknown as {
        error: { code: number; message: string; data: { type: number } };
      };
      assert.equal(decoded.error.data.type, type, `code ${code}`);
      assert.equal(decoded.error.message, "why");
      assert.equal(decoded.error.code, code === 5 ? -32603 : code);
    }
  });

  // A CALL of `name` whose args struct `fill` writes, by hand.
  const call = (name: string, seqid: number, fill: (p: Protocol) => void, type = 1) => {
    const out = writer(protocol);
    out.protocol.writeMessageBegin(name, type, seqid);
    out.protocol.writeStructBegin("args");
    fill(out.protocol);
    out.protocol.writeFieldStop();
    out.protocol.writeStructEnd();
    out.protocol.writeMessageEnd();
    return out.bytes();
  };

  Deno.test(`thrift (${protocol}): unknown fields and fields of the wrong type are skipped, as Thrift requires, at any depth`, () => {
    // cook(e) with e = {1: "a string where a bool is declared", 99: i64 list,
    // 7: "kept", 10 names: list<i32> where list<string> is declared, 12
    // byName: map<string, string> where map<string, i64> is, 11 unique: an
    // empty set<string> (an empty container's element types are not checked),
    // 15 children: [Everything {7: "child", 3 small: a double}]}
    const bytes = call("cook", 5, (p) => {
      field(p, 12, 1, () =>
        struct(p, () => {
          field(p, 11, 1, () => p.writeString("wrong type"));
          field(p, 15, 99, () => {
            p.writeListBegin(10, 2);
            p.writeI64(1n);
            p.writeI64(2n);
            p.writeListEnd();
          });
          field(p, 11, 7, () => p.writeString("kept"));
          field(p, 15, 10, () => {
            p.writeListBegin(8, 1);
            p.writeI32(1);
            p.writeListEnd();
          });
          field(p, 13, 12, () => {
            p.writeMapBegin(11, 11, 1);
            p.writeString("k");
            p.writeString("v");
            p.writeMapEnd();
          });
          field(p, 14, 11, () => {
            p.writeSetBegin(11, 0);
            p.writeSetEnd();
          });
          field(p, 15, 15, () => {
            p.writeListBegin(12, 1);
            struct(p, () => {
              field(p, 11, 7, () => p.writeString("child"));
              field(p, 4, 3, () => p.writeDouble(1.5));
            });
            p.writeListEnd();
          });
        }));
    });
    const [, server] = pair();
    assert.deepEqual(server.decode(bytes), {
      kind: "request",
      id: 5,
      method: "cook",
      params: [{ ...ZERO_EVERYTHING("kept"), children: [ZERO_EVERYTHING("child")] }],
    });
  });

  Deno.test(`thrift (${protocol}): a container whose element types differ, at any depth, is a value of the wrong type: its field is skipped`, () => {
    const [, server] = pair();
    // byNumber: map<i32, string> sent as map<i32, map<...>>, children: a list
    // of Everything holding such a map: both fields skipped, not emptied.
    const bytes = call("cook", 6, (p) => {
      field(p, 12, 1, () =>
        struct(p, () => {
          field(p, 13, 13, () => {
            p.writeMapBegin(8, 13, 1);
            p.writeI32(1);
            p.writeMapBegin(11, 11, 0);
            p.writeMapEnd();
            p.writeMapEnd();
          });
          field(p, 11, 7, () => p.writeString("after"));
        }));
    });
    const decoded = server.decode(bytes) as unknown as { params: [Record<string, unknown>] };
    assert.deepEqual(decoded.params[0], ZERO_EVERYTHING("after"));
    // Replies read the same way, but keep skipped fields absent: a success of
    // the wrong type is no success.
    const [client] = pair();
    client.encode({ kind: "request", id: 1, method: "hello", params: ["x"] });
    const reply = writer(protocol);
    reply.protocol.writeMessageBegin("hello", 2, 1);
    struct(reply.protocol, () => field(reply.protocol, 8, 0, () => reply.protocol.writeI32(1)));
    reply.protocol.writeMessageEnd();
    const failed = client.decode(reply.bytes()) as unknown as {
      kind: string;
      error: { message: string };
    };
    assert.equal(failed.kind, "error");
    assert.match(failed.error.message, /unknown result/);
  });

  Deno.test(`thrift (${protocol}): a required field left missing (absent, or skipped for its type) is invalid params, answered`, () => {
    const [, server] = pair();
    for (
      const [what, bytes] of [
        ["absent", call("identify", 3, (p) => field(p, 12, 1, () => struct(p, () => {})))],
        [
          "of the wrong type",
          call(
            "identify",
            3,
            (p) => field(p, 12, 1, () => struct(p, () => field(p, 8, 1, () => p.writeI32(1)))),
          ),
        ],
      ] as const
    ) {
      assert.deepEqual(server.decode(bytes), {
        kind: "invalid",
        id: 3,
        error: { code: -32602, message: "Invalid params: shared.Owner.name is required" },
      }, what);
      // Its answer: an EXCEPTION under the call's name and seqid, a
      // TApplicationException {1: message, 2: type PROTOCOL_ERROR (7)}.
      const answer = reader(
        protocol,
        server.encode({
          kind: "error",
          id: 3,
          error: { code: -32602, message: "Invalid params: shared.Owner.name is required" },
        }) as Uint8Array,
      ).protocol;
      const { fname, mtype, rseqid } = answer.readMessageBegin();
      assert.deepEqual([fname, mtype, rseqid], ["identify", 3, 3]);
      answer.readStructBegin();
      assert.deepEqual(answer.readFieldBegin().fid, 1);
      assert.equal(answer.readString(), "Invalid params: shared.Owner.name is required");
      answer.readFieldEnd();
      assert.deepEqual(answer.readFieldBegin().fid, 2);
      assert.equal(answer.readI32(), 7);
    }
    // A oneway call: nothing to answer.
    const oneway = call("fire", 0, (p) => field(p, 11, 1, () => p.writeString("x")), 4);
    assert.deepEqual(server.decode(oneway), { kind: "notification", method: "fire", params: [0] });
  });

  Deno.test(`thrift (${protocol}): unknown functions, other message types and hostile bytes`, () => {
    const [, server] = pair();
    const message = (
      name: string,
      type: number,
      seqid: number,
      fill?: (p: ReturnType<typeof writer>["protocol"]) => void,
    ) => {
      const out = writer(protocol);
      out.protocol.writeMessageBegin(name, type, seqid);
      out.protocol.writeStructBegin("args");
      fill?.(out.protocol);
      out.protocol.writeFieldStop();
      out.protocol.writeStructEnd();
      out.protocol.writeMessageEnd();
      return out.bytes();
    };
    const unknown = server.decode(message("nope", 1, 3)) as unknown as {
      kind: string;
      id: number;
      error: { code: number };
    };
    assert.deepEqual([unknown.kind, unknown.id, unknown.error.code], [
      "invalid",
      3,
      -32601,
    ]);
    const reply = server.decode(message("cook", 2, 4)) as unknown as {
      kind: string;
      id: number;
      error: { code: number };
    };
    assert.deepEqual([reply.kind, reply.id, reply.error.code], ["invalid", 4, -32600]);
    assert.throws(() => server.decode(message("cook", 3, 4)), DecodeError); // a stray EXCEPTION
    const strange = server.decode(message("cook", 6, 6)) as unknown as {
      kind: string;
      error: { code: number };
    };
    assert.deepEqual([strange.kind, strange.error.code], ["invalid", -32600]);
    // A list header that claims more elements than the frame holds.
    const hostile = message("cook", 1, 8, (p) => {
      p.writeFieldBegin("e", 12, 1);
      p.writeStructBegin("Everything");
      p.writeFieldBegin("names", 15, 10);
      p.writeListBegin(11, 0x7fffffff);
    });
    assert.throws(() => server.decode(hostile), /does not fit/);
    // Truncated anywhere: a DecodeError, never anything else.
    const whole = message("hello", 1, 9, (p) => {
      p.writeFieldBegin("name", 11, 1);
      p.writeString("ada");
      p.writeFieldEnd();
    });
    for (let cut = 0; cut < whole.length; cut++) {
      assert.throws(() => server.decode(whole.subarray(0, cut)), DecodeError, `cut at ${cut}`);
    }
    assert.throws(() => server.decode("text"), DecodeError);
  });

  Deno.test(`thrift (${protocol}): measure() finds message ends in a buffered stream and refuses hostile sizes at once`, () => {
    const [client] = pair();
    const a = client.encode({
      kind: "request",
      id: 1,
      method: "hello",
      params: ["x"],
    }) as Uint8Array;
    const b = client.encode({
      kind: "request",
      id: 2,
      method: "nothing",
      params: [],
    }) as Uint8Array;
    const stream = new Uint8Array([...a, ...b]);
    assert.equal(client.measure!(stream), a.length);
    assert.equal(client.measure!(stream.subarray(0, a.length - 1)), undefined);
    const out = writer(protocol);
    out.protocol.writeMessageBegin("cook", 1, 1);
    out.protocol.writeStructBegin("args");
    out.protocol.writeFieldBegin("e", 15, 1);
    out.protocol.writeListBegin(10, 0x7fffffff);
    assert.throws(() => client.measure!(out.bytes()), /does not fit/);
  });

  Deno.test(`thrift (${protocol}): random bytes never crash the decoder: a message or a DecodeError`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const [, server] = pair();
        try {
          server.decode(bytes);
        } catch (error) {
          assert.ok(error instanceof DecodeError, String(error));
        }
      }),
      { numRuns: 1000 },
    );
  });
}

Deno.test("thrift: multiplexed names reach every service; replies carry the bare name", () => {
  const codec = thriftRpc({ schema, multiplexed: true });
  const [client, server] = [codec.fork!(), codec.fork!()];
  const call = server.decode(
    client.encode({ kind: "request", id: 1, method: "Second:twice", params: [4] }),
  ) as unknown as {
    id: number;
    method: string;
  };
  assert.equal(call.method, "Second:twice");
  const reply = server.encode({ kind: "result", id: call.id, result: 8 }) as Uint8Array;
  assert.ok(
    new TextDecoder().decode(reply).includes("twice") &&
      !new TextDecoder().decode(reply).includes("Second:"),
  );
  assert.deepEqual(client.decode(reply), { kind: "result", id: 1, result: 8 });
  assert.throws(() => thriftRpc({ schema }), /name the one to speak/);
});

Deno.test("loadThrift: clear errors for syntax errors, missing includes and undefined types", () => {
  assert.throws(() => loadThrift("struct {"), /main\.thrift:\d+:\d+/);
  assert.throws(
    () => loadThrift({ "a.thrift": 'include "b.thrift"' }),
    /include "b\.thrift" is not among the sources/,
  );
  assert.throws(() => loadThrift("struct A { 1: Missing m }"), /Missing is not defined/);
  assert.throws(() => loadThrift("struct A { 1: i32 a, 1: i32 b }"), /two fields with id 1/);
  assert.deepEqual(schema.constants.get("PRIMES"), [2, 3, 5]);
  assert.deepEqual(schema.constants.get("AGES"), { ada: 36 });
  assert.equal(schema.constants.get("shared.ANSWER"), 42);
});

Deno.test("thrift: messages far larger than the writer's first buffer, in both protocols", () => {
  for (const protocol of ["binary", "compact"] as const) {
    const codec = thriftRpc({ schema, service: "Kitchen", protocol });
    const [client, server] = [codec.fork!(), codec.fork!()];
    const value = {
      blob: new Uint8Array(300_000).map((_, i) => i % 251),
      text: "é".repeat(100_000),
      names: Array.from({ length: 5000 }, (_, i) => `name ${i}`),
      large: 1n,
      real: 0.5,
      small: 1,
      tiny: 1,
      flag: true,
    };
    const call = server.decode(
      client.encode({ kind: "request", id: 1, method: "cook", params: [value] }),
    ) as unknown as {
      params: [typeof value];
    };
    assert.deepEqual(call.params[0].blob, value.blob);
    assert.equal(call.params[0].text, value.text);
    assert.deepEqual(call.params[0].names, value.names);
  }
});
