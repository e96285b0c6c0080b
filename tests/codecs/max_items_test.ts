/**
 * `maxItems`: a message holding more items than the budget is refused
 * before it is decoded, as an invalid message the session can answer: a
 * request under its id, a reply as a failure of the call it answers, a
 * notification or batch with no id to answer under.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { xmlRpc } from "../../codecs/xml_rpc.ts";
import type { Codec, RpcMessage } from "../../rpc/types.ts";

const eleven = Array.from({ length: 11 }, (_, i) => i);
const ten = eleven.slice(1);

// What `to` makes of what `from` encodes.
function roundTrip(from: Codec, to: Codec, message: RpcMessage) {
  return to.decode(from.encode(message));
}

Deno.test("jsonRpc({ maxItems }) refuses a frame with more items before parsing it, under the request's id", () => {
  const codec = jsonRpc({ maxItems: 10 });
  const why = "the message holds more than 10 items (limit maxItems)";
  const error = { code: -32600, message: why };
  assert.deepEqual(
    codec.decode(`{"id":"a\\"b","method":"sum","params":[${eleven}],"jsonrpc":"2.0"}`),
    {
      kind: "invalid",
      id: 'a"b',
      error,
    },
  );
  assert.deepEqual(codec.decode(`{"jsonrpc":"2.0","method":"sum","params":[${eleven}],"id":7}`), {
    kind: "invalid",
    id: 7,
    error,
  });
  // A notification has no id to answer under; a reply fails its call.
  assert.deepEqual(codec.decode(`{"jsonrpc":"2.0","method":"sum","params":[${eleven}]}`), {
    kind: "invalid",
    id: undefined,
    error,
  });
  assert.deepEqual(codec.decode(`{"jsonrpc":"2.0","result":[${eleven}],"id":3}`), {
    kind: "invalid",
    id: undefined,
    error: { code: -32600, message: `invalid response: ${why}` },
    inReplyTo: 3,
  });
  assert.deepEqual(codec.decode(`[{"jsonrpc":"2.0","method":"ping","params":[${eleven}]}]`), {
    kind: "invalid",
    id: null,
    error,
  });
  // Members count too: the message object's four and the params' six fit,
  // seven do not; commas and brackets inside strings do not count.
  assert.equal(
    codec.decode(`{"jsonrpc":"2.0","method":"sum","params":[1,2,3,4,5,6],"id":7}`).kind,
    "request",
  );
  assert.equal(
    codec.decode(`{"jsonrpc":"2.0","method":"sum","params":[1,2,3,4,5,6,7],"id":7}`).kind,
    "invalid",
  );
  assert.equal(
    codec.decode(`{"jsonrpc":"2.0","method":"echo","params":["${",[{".repeat(100)}"],"id":7}`).kind,
    "request",
  );
  assert.throws(() => jsonRpc({ maxItems: 0 }), RangeError);
});

Deno.test("msgpackRpc({ maxItems }) refuses a message with more elements and entries before decoding it, under its msgid", () => {
  const codec = msgpackRpc({ maxItems: 10 });
  const plain = msgpackRpc();
  const why = "Invalid request: the message holds more than 10 items (limit maxItems)";
  const error = { code: -32600, message: why };
  for (const id of [7, 200, 70_000, 2 ** 32 - 1]) {
    assert.deepEqual(
      roundTrip(plain, codec, { kind: "request", id, method: "sum", params: [eleven] }),
      { kind: "invalid", id, error },
    );
  }
  assert.deepEqual(roundTrip(plain, codec, { kind: "result", id: 300, result: eleven }), {
    kind: "invalid",
    id: undefined,
    error,
    inReplyTo: 300,
  });
  assert.deepEqual(
    roundTrip(plain, codec, { kind: "notification", method: "n", params: [eleven] }),
    {
      kind: "invalid",
      id: undefined,
      error,
    },
  );
  // A map's entries count once each: 4 + 1 + 5 = 10 fit, 11 do not.
  const map = { a: 1, b: 2, c: 3, d: 4, e: 5 };
  assert.equal(
    roundTrip(plain, codec, { kind: "request", id: 1, method: "m", params: [map] }).kind,
    "request",
  );
  assert.equal(
    roundTrip(plain, codec, { kind: "request", id: 1, method: "m", params: [{ ...map, f: 6 }] })
      .kind,
    "invalid",
  );
  // Measuring a stream is not refused: the message's end is still found.
  const frame = plain.encode({
    kind: "request",
    id: 1,
    method: "sum",
    params: [eleven],
  }) as Uint8Array;
  assert.equal(codec.measure!(frame), frame.length);
  assert.throws(() => msgpackRpc({ maxItems: 1.5 }), RangeError);
});

Deno.test("xmlRpc({ maxItems }) refuses a document with more elements as it parses it", () => {
  const why = "the document holds more than 10 elements (limit maxItems)";
  const server = xmlRpc({ maxItems: 10 });
  const call = xmlRpc().encode({ kind: "request", id: 1, method: "sum", params: [eleven] });
  assert.deepEqual(server.decode(call), {
    kind: "invalid",
    id: 1,
    error: { code: -32600, message: why },
  });
  // A small call still decodes, with the next id.
  assert.deepEqual(
    server.decode(xmlRpc().encode({ kind: "request", id: 1, method: "ping", params: [] })),
    { kind: "request", id: 2, method: "ping", params: [] },
  );
  // A response with more fails the call it answers.
  const client = xmlRpc({ maxItems: 10 });
  client.encode({ kind: "request", id: "call-1", method: "sum", params: [] });
  const reply = xmlRpc().encode({ kind: "result", id: 1, result: ten });
  assert.deepEqual(client.decode(reply), {
    kind: "invalid",
    id: undefined,
    error: { code: -32600, message: why },
    inReplyTo: "call-1",
  });
  assert.throws(() => xmlRpc({ maxItems: -1 }), RangeError);
});
