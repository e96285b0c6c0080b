// Boxing (protocol.py `_box`): a value brine carries goes by value, a tuple
// holding references as a tuple of boxes, a netref of this connection as
// the id pack Python gave it, any other object or function of this side as
// a reference Python may call back (held by the connection's table).

import { Float } from "../../rpc/float.ts";
import { type BrineValue, Complex, Ellipsis, FrozenSet, NotImplemented, Slice } from "./brine.ts";
import { LABEL } from "./messages.ts";
import { type NetrefHost, netrefOf } from "./netref.ts";
import type { LocalObjects } from "./_local_objects.ts";

/** The box of `value`, for a request of `host`'s connection. */
export function boxValue(value: unknown, host: NetrefHost, locals: LocalObjects): BrineValue {
  if (dumpable(value)) return [LABEL.VALUE, value];
  if (Array.isArray(value)) {
    return [LABEL.TUPLE, value.map((item) => boxValue(item, host, locals))];
  }
  const netref = netrefOf(value);
  if (netref !== undefined) {
    if (netref.host !== host) {
      throw new TypeError("A netref of another connection cannot be passed here");
    }
    if (netref.released) throw new TypeError(`The netref to ${netref.className} was released`);
    return [LABEL.LOCAL_REF, netref.idPack];
  }
  if ((typeof value === "object" && value !== null) || typeof value === "function") {
    return [LABEL.REMOTE_REF, locals.box(value)];
  }
  throw new TypeError(`Cannot pass a ${typeof value} to Python: brine carries no such value`);
}

// brine.dumpable: what brine encodes as it is.
function dumpable(value: unknown, depth = 0): value is BrineValue {
  if (depth > 1000) return false;
  switch (typeof value) {
    case "undefined":
    case "boolean":
    case "number":
    case "bigint":
      return true;
    case "string":
      return value.isWellFormed();
    case "symbol":
      return value === Ellipsis || value === NotImplemented;
    case "object":
      if (
        value === null || value instanceof Float || value instanceof Uint8Array ||
        value instanceof Complex
      ) return true;
      if (Array.isArray(value)) return value.every((item) => dumpable(item, depth + 1));
      if (value instanceof FrozenSet) return value.items.every((item) => dumpable(item, depth + 1));
      if (value instanceof Slice) {
        return [value.start, value.stop, value.step].every((item) => dumpable(item, depth + 1));
      }
      return false;
    default:
      return false;
  }
}
