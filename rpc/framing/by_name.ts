// Framings by the names command lines use (the calculator's --framing, the
// CLI's), so that both agree on them.

import type { Codec, Framing } from "../types.ts";
import { contentLength } from "./content_length.ts";
import { newline } from "./delimiter.ts";
import { lengthPrefix } from "./length_prefix.ts";
import { jsonValues, selfDelimiting } from "./self_delimiting.ts";
import { varint } from "./varint.ts";

/**
 * The framing names {@linkcode framingByName} knows, for a command line's
 * help and its checks.
 *
 * @example Every name gives a framing, for a codec that measures itself
 * ```ts
 * import assert from "node:assert/strict";
 * import { FRAMING_NAMES, framingByName } from "./by_name.ts";
 * import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
 *
 * assert.ok(FRAMING_NAMES.includes("newline"));
 * for (const name of FRAMING_NAMES) assert.ok(framingByName(name, msgpackRpc()), name);
 * ```
 */
export const FRAMING_NAMES: readonly string[] = [
  "newline",
  "length-prefix",
  "framed",
  "varint",
  "content-length",
  "self-delimiting",
  "buffered",
];

/**
 * The framing of a name: `newline`, `length-prefix` (Thrift's `framed`),
 * `varint`, `content-length`, `self-delimiting` (Thrift's `buffered`: the
 * codec finds each message's end; concatenated JSON for JSON-RPC).
 *
 * @param name the name
 * @param codec the codec, for self-delimiting streams
 * @returns the framing, or `undefined` for an unknown name or a codec that
 * cannot delimit itself
 *
 * @example A command line's `--framing length-prefix`
 * ```ts
 * import assert from "node:assert/strict";
 * import { framingByName } from "./by_name.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { xmlRpc } from "../../codecs/xml_rpc.ts";
 *
 * const framing = framingByName("length-prefix", jsonRpc());
 * assert.deepEqual(framing?.frame(new Uint8Array([7])), new Uint8Array([0, 0, 0, 1, 7]));
 * assert.equal(framingByName("smoke-signals", jsonRpc()), undefined);
 * // XML-RPC cannot find where a message ends by itself.
 * assert.equal(framingByName("self-delimiting", xmlRpc()), undefined);
 * ```
 */
export function framingByName(name: string, codec: Codec): Framing | undefined {
  switch (name) {
    case "newline":
      return newline();
    case "length-prefix":
    case "framed":
      return lengthPrefix();
    case "varint":
      return varint();
    case "content-length":
      return contentLength();
    case "self-delimiting":
    case "buffered":
      if (codec.measure !== undefined) return selfDelimiting(codec.measure.bind(codec));
      return codec.name === "jsonrpc" ? jsonValues() : undefined;
    default:
      return undefined;
  }
}
