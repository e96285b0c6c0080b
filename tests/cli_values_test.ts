/**
 * How the command line prints msgpack's values that JSON has no type for:
 * `RawString` (a str that is not UTF-8) and `MsgpackExt` (an unknown
 * extension type).
 *
 * @module
 */

import assert from "node:assert/strict";
import { toJson } from "../cli/values.ts";
import { MsgpackExt, RawString } from "../codecs/msgpack_rpc.ts";

Deno.test("toJson: a RawString prints as its text, with U+FFFD for the bytes that are not UTF-8", () => {
  const raw = new RawString(new Uint8Array([0x63, 0x61, 0x66, 0xe9]));
  assert.equal(toJson(raw, 0), '"caf\ufffd"');
  assert.equal(
    toJson({ line: raw, ok: new RawString(new Uint8Array([0x61])) }, 0),
    '{"line":"caf\ufffd","ok":"a"}',
  );
});

Deno.test("toJson: a MsgpackExt prints as {type, data}, data in base64", () => {
  assert.equal(
    toJson([new MsgpackExt(0, new Uint8Array([1])), new MsgpackExt(-5, new Uint8Array())], 0),
    '[{"type":0,"data":"AQ=="},{"type":-5,"data":""}]',
  );
  assert.equal(
    toJson(new Map([["buf", new MsgpackExt(1, new Uint8Array([2]))]])),
    '{\n  "buf": {\n    "type": 1,\n    "data": "Ag=="\n  }\n}',
  );
});
