/**
 * How the command line prints the values that have no JSON type of their
 * own: doubles kept as `Float`s, msgpack's `RawString` and `MsgpackExt`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { toJson } from "../cli/values.ts";
import { MsgpackExt, RawString } from "../codecs/msgpack_rpc.ts";
import { float } from "../rpc/float.ts";

Deno.test("toJson: a Float prints with its point; NaN and the infinities as plain numbers do (null)", () => {
  assert.equal(toJson(float(1), 0), "1.0");
  assert.equal(toJson([float(2), float(-0), float(0.5), 3], 0), "[2.0,-0.0,0.5,3]");
  assert.equal(toJson(float(NaN), 0), "null");
  assert.equal(
    toJson({
      a: [float(Infinity)],
      m: new Map([["x", float(-Infinity)]]),
      s: new Set([float(NaN)]),
    }, 0),
    '{"a":[null],"m":{"x":null},"s":[null]}',
  );
});

Deno.test("toJson: a RawString prints as its text, a MsgpackExt as {type, data} in base64", () => {
  const raw = new RawString(new Uint8Array([0x63, 0x61, 0x66, 0xe9]));
  assert.equal(toJson(raw, 0), '"caf\ufffd"');
  assert.equal(
    toJson([new MsgpackExt(0, new Uint8Array([1])), new MsgpackExt(-5, new Uint8Array())], 0),
    '[{"type":0,"data":"AQ=="},{"type":-5,"data":""}]',
  );
  assert.equal(
    toJson({ buf: new MsgpackExt(1, new Uint8Array([2])) }),
    '{\n  "buf": {\n    "type": 1,\n    "data": "Ag=="\n  }\n}',
  );
});
