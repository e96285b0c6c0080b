// Framings by the names command lines use (the calculator's --framing, the
// CLI's), so that both agree on them.

import type { Codec, Framing } from "../types.ts";
import { contentLength } from "./content_length.ts";
import { newline } from "./delimiter.ts";
import { lengthPrefix } from "./length_prefix.ts";
import { jsonValues, selfDelimiting } from "./self_delimiting.ts";
import { varint } from "./varint.ts";

/** The framing names {@linkcode framingByName} knows. */
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
