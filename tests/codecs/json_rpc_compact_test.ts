// The JSON-RPC codec reads compact messages on a short path
// (codecs/json_rpc/_compact.ts); whatever it reads there must decode exactly
// as the general path decodes it. A leading space takes any text the general
// way (the short path reads only texts that start with "{"), so each text is
// decoded both ways and the outcomes compared.

import assert from "node:assert/strict";
import fc from "fast-check";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import type { DecodedFrame } from "../../rpc/types.ts";

type Outcome = { readonly decoded: DecodedFrame } | { readonly threw: string };

function outcome(decode: () => DecodedFrame): Outcome {
  try {
    return { decoded: decode() };
  } catch (error) {
    return { threw: (error as Error).constructor.name };
  }
}

function assertSameBothWays(codec: ReturnType<typeof jsonRpc>, text: string): void {
  const short = outcome(() => codec.decode(text));
  const general = outcome(() => codec.decode(" " + text));
  assert.deepEqual(short, general, text);
  // The same as UTF-8 bytes (a lone surrogate has no UTF-8 form of its own).
  if (!text.isWellFormed()) return;
  const bytes = new TextEncoder().encode(text);
  assert.deepEqual(outcome(() => codec.decode(bytes)), general, text);
}

const codecs = [jsonRpc(), jsonRpc({ bigint: "error" }), jsonRpc({ acceptV1: true })];

Deno.test("jsonRpc() decodes compact messages as the general path does: known shapes", () => {
  const texts = [
    '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}',
    '{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}',
    '{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":[2,{"c":null}]},"id":"x"}',
    '{"jsonrpc":"2.0","method":"add","params":[],"id":-0}',
    '{"jsonrpc":"2.0","method":"add","params":[true,false,null,"s",-7],"id":0}',
    '{"jsonrpc":"2.0","method":"add"}',
    '{"jsonrpc":"2.0","method":"add","params":[1]}',
    '{"jsonrpc":"2.0","result":3,"id":1}',
    '{"jsonrpc":"2.0","result":null,"id":1}',
    '{"jsonrpc":"2.0","result":"a\\"b","id":"q"}',
    '{"jsonrpc":"2.0","result":[1,[2]],"id":1}',
    '{"jsonrpc":"2.0","result":1.5,"id":1}',
    '{"jsonrpc":"2.0","result":1e400,"id":1}',
    '{"jsonrpc":"2.0","result":{"id":5},"id":1}',
    '{"jsonrpc":"2.0","result":[",\\"id\\":5"],"id":1}',
    '{"jsonrpc":"2.0","result":{"a":1,"id":5}}',
    '{"jsonrpc":"2.0","result":[1],"id":1,"x":2}',
    '{"jsonrpc":"2.0","result":[1],"id":1,"id":2}',
    '{"jsonrpc":"2.0","method":"m","result":1,"id":1}',
    '{"jsonrpc":"2.0","method":"m","params":5,"id":1}',
    '{"jsonrpc":"2.0","method":"m","params":"s","id":1}',
    '{"jsonrpc":"2.0","method":"m","params":[1],"id":null}',
    '{"jsonrpc":"2.0","method":"m","params":[1],"id":true}',
    '{"jsonrpc":"2.0","method":"m","params":[1],"id":1.0}',
    '{"jsonrpc":"2.0","method":"m","params":[1],"id":01}',
    '{"jsonrpc":"2.0","method":"m","params":[01],"id":1}',
    '{"jsonrpc":"2.0","method":"m","params":[1,],"id":1}',
    '{"jsonrpc":"2.0","method":"m","params":[-],"id":1}',
    '{"jsonrpc":"2.0","method":"m","params":[truex],"id":1}',
    '{"jsonrpc":"2.0","method":"m","params":[9007199254740993],"id":1}',
    '{"jsonrpc":"2.0","method":"m","params":[123456789012345],"id":123456789012345}',
    '{"jsonrpc":"2.0","method":"m","params":[1234567890123456],"id":1234567890123456}',
    '{"jsonrpc":"2.0","method":"m","params":[1],"id":9007199254740993}',
    '{"jsonrpc":"2.0","method":"m","params":{"__proto__":{"x":1}},"id":1}',
    '{"jsonrpc":"2.0","method":"a\\u0062","params":[1],"id":1}',
    '{"jsonrpc":"2.0","method":"a\tb","params":[1],"id":1}',
    '{"jsonrpc":"2.0","method":"add","params":[1],"id":1}x',
    '{"jsonrpc":"2.0","method":"add","params":[1],"id":1',
    '{"jsonrpc":"2.0","method":add,"params":[1],"id":1}',
    '{"jsonrpc":"2.0" ,"method":"add","id":1}',
    '{"jsonrpc":"1.0","method":"add","id":1}',
    '{"jsonrpc":2.0,"method":"add","id":1}',
    '{"method":"add","params":[1],"id":1}',
    '{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":1}',
    '{"jsonrpc":"2.0","method":"add","meta":{"a":"b"},"id":1}',
    '{"jsonrpc":"2.0","params":[1],"id":1}',
    '{"jsonrpc":"2.0","result":1}',
    '{"jsonrpc":"2.0","result":1,"params":[1],"id":1}',
    '{"jsonrpc":"2.0","jsonrpc":"2.0","result":1,"id":1}',
    '{"jsonrpc":"2.0","method":"add","method":"sub","id":1}',
    '{"jsonrpc":"2.0","methodx":"add","id":1}',
    '{"jsonrpc":"2.0","method":"add","id":"\ud800"}',
    '{"jsonrpc":"2.0","method":"é","params":["ü"],"id":1}',
    "{}",
    "{",
    "}",
  ];
  for (const codec of codecs) {
    for (const text of texts) assertSameBothWays(codec, text);
  }
});

// Pieces that compact messages and near misses are made of.
const member = fc.oneof(
  fc.constantFrom('"jsonrpc":"2.0"', '"jsonrpc":"1.0"', '"jsonrpc":2'),
  fc.constantFrom('"method":"add"', '"method":"a\\"b"', '"method":1', '"method":"x\u0001"'),
  fc.json().map((value) => `"params":${value}`),
  fc.json().map((value) => `"result":${value}`),
  fc.oneof(
    fc.integer().map(String),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
    fc.double().map((n) => JSON.stringify(n)),
    fc.string().map((s) => JSON.stringify(s)),
    fc.constantFrom("null", "true", "-0", "01", "1e3", "1.0"),
  ).map((value) => `"id":${value}`),
  fc.constantFrom('"error":{"code":1,"message":"m"}', '"meta":{"a":"b"}', '"x":1'),
);

const scalar = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }).map(String),
  fc.string().map((s) => JSON.stringify(s)),
  fc.constantFrom("null", "true", "false", "-0", "1.5", "1e3"),
);
const value = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
  fc.json(),
);
const id = fc.oneof(scalar, fc.integer({ min: -999, max: 999 }).map(String));
// Well-formed messages, members in any order: most take the short path.
const shaped = fc.oneof(
  fc.tuple(fc.string(), value, id).map(([method, params, id]) => [
    '"jsonrpc":"2.0"',
    `"method":${JSON.stringify(method)}`,
    `"params":${params}`,
    `"id":${id}`,
  ]),
  fc.tuple(value, id).map((
    [result, id],
  ) => ['"jsonrpc":"2.0"', `"result":${result}`, `"id":${id}`]),
  fc.string().map((method) => ['"jsonrpc":"2.0"', `"method":${JSON.stringify(method)}`]),
).chain((members) =>
  // In the order parley writes, or with the id first, or in any order.
  fc.oneof(
    fc.constant(members),
    fc.constant(
      members.length === 4 ? [members[0]!, members[3]!, members[1]!, members[2]!] : members,
    ),
    fc.shuffledSubarray(members, { minLength: members.length }),
  )
);

Deno.test("jsonRpc() decodes compact messages as the general path does: well-formed", () => {
  fc.assert(
    fc.property(shaped, (members) => {
      const text = "{" + members.join(",") + "}";
      for (const codec of codecs) assertSameBothWays(codec, text);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("jsonRpc() decodes compact messages as the general path does: generated", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.array(member, { maxLength: 6 }), shaped),
      fc.nat(),
      fc.constantFrom("", ",", "}", " ", "x", '"'),
      (members, cut, extra) => {
        const text = "{" + members.join(",") + "}";
        for (const codec of codecs) {
          assertSameBothWays(codec, text);
          // Near misses: cut short, or with something more.
          assertSameBothWays(codec, text.slice(0, cut % (text.length + 1)) + extra);
        }
      },
    ),
    { numRuns: 2000 },
  );
});
