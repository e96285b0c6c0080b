// The values of fields that are absent when a call's arguments are read.

import type { ThriftStruct, ThriftType } from "./schema.ts";

/**
 * The value a default-constructed field of `type` has in Apache Thrift's C++
 * (the reference implementation): false, 0, empty; a struct with its own
 * defaults and zeros, unless it is a union (no field set is not a union) or
 * one of `outer`, the structs being built further out (a struct that holds
 * itself): then `undefined`, the field stays absent.
 */
export function zeroOf(type: ThriftType, outer: readonly ThriftStruct[]): unknown {
  switch (type.kind) {
    case "bool":
      return false;
    case "i64":
      return 0n;
    case "string":
      return "";
    case "binary":
      return new Uint8Array(0);
    case "list":
      return [];
    case "set":
      return new Set();
    case "map":
      return type.key.kind === "string" ? {} : new Map();
    case "struct": {
      const struct = type.resolve();
      if (struct.kind === "union" || outer.includes(struct)) return undefined;
      const out: Record<string, unknown> = {};
      for (const field of struct.fields) {
        if (field.requiredness === "optional") continue;
        const value = field.defaultValue ?? zeroOf(field.type, [...outer, struct]);
        if (value !== undefined) out[field.name] = value;
      }
      return out;
    }
    default: // byte, i16, i32, double, enum
      return 0;
  }
}
