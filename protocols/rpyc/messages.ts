/**
 * RPyC's messages (`rpyc/core/protocol.py`, `consts.py`, `vinegar.py`): a
 * packet is the brine tuple `(kind, seq, payload)`; a request's payload is
 * `(handler, boxed args)`, a reply's the boxed result, an exception's the
 * vinegar tuple `((module, name), args, attrs, traceback)`. Boxing labels a
 * value: by value, a tuple of boxes, or a reference `(name, type id, object
 * id)` (an "id pack") into one side's objects.
 *
 * @example A GETROOT request, byte for byte as Python writes it
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMessage, HANDLE, MSG } from "./messages.ts";
 *
 * const bytes = encodeMessage({ kind: MSG.REQUEST, seq: 1, payload: [HANDLE.GETROOT, [1, []]] });
 * assert.deepEqual(bytes, new Uint8Array([0x12, 0x51, 0x51, 0x11, 0x53, 0x11, 0x51, 0x02]));
 * ```
 *
 * @module
 */

import { DecodeError } from "../../rpc/errors.ts";
import { type BrineLimits, type BrineValue, decodeBrine, encodeBrine } from "./brine.ts";

/**
 * Message kinds (`consts.MSG_*`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MSG } from "./messages.ts";
 *
 * assert.deepEqual([MSG.REQUEST, MSG.REPLY, MSG.EXCEPTION], [1, 2, 3]);
 * ```
 */
export const MSG = { REQUEST: 1, REPLY: 2, EXCEPTION: 3 } as const;

/**
 * Boxing labels (`consts.LABEL_*`), as the sender names them: `LOCAL_REF`
 * is an object of the receiver's, `REMOTE_REF` one of the sender's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LABEL } from "./messages.ts";
 *
 * assert.equal(LABEL.REMOTE_REF, 4);
 * ```
 */
export const LABEL = { VALUE: 1, TUPLE: 2, LOCAL_REF: 3, REMOTE_REF: 4 } as const;

/**
 * Request handlers (`consts.HANDLE_*`), the numbers of RPyC 5.3.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HANDLE } from "./messages.ts";
 *
 * assert.deepEqual([HANDLE.GETROOT, HANDLE.CALLATTR, HANDLE.DEL], [3, 8, 15]);
 * ```
 */
export const HANDLE = {
  PING: 1,
  CLOSE: 2,
  GETROOT: 3,
  GETATTR: 4,
  DELATTR: 5,
  SETATTR: 6,
  CALL: 7,
  CALLATTR: 8,
  REPR: 9,
  STR: 10,
  CMP: 11,
  HASH: 12,
  DIR: 13,
  PICKLE: 14,
  DEL: 15,
  INSPECT: 16,
  BUFFITER: 17,
  OLDSLICING: 18,
  CTXEXIT: 19,
  INSTANCECHECK: 20,
} as const;

/**
 * What vinegar sends for `StopIteration` (`consts.EXC_STOP_ITERATION`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeException, EXC_STOP_ITERATION } from "./messages.ts";
 *
 * assert.equal(decodeException(EXC_STOP_ITERATION).name, "StopIteration");
 * ```
 */
export const EXC_STOP_ITERATION = 1;

/** One decoded packet. */
export interface RpycMessage {
  /** One of {@linkcode MSG}. */
  readonly kind: number;
  /** The request's sequence number, echoed by its reply. */
  readonly seq: number;
  /** The request's `(handler, boxed args)`, the boxed result, or the vinegar tuple. */
  readonly payload: BrineValue;
}

/**
 * Encodes a packet's body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMessage, encodeMessage, MSG } from "./messages.ts";
 *
 * const message = { kind: MSG.REPLY, seq: 7, payload: [1, "hi"] };
 * assert.deepEqual(decodeMessage(encodeMessage(message)), message);
 * ```
 *
 * @param message kind, seq, payload
 * @returns the brine bytes
 */
export function encodeMessage(message: RpycMessage): Uint8Array {
  return encodeBrine([message.kind, message.seq, message.payload]);
}

/**
 * Decodes a packet's body and checks its outer shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMessage } from "./messages.ts";
 * import { encodeBrine } from "./brine.ts";
 * import { DecodeError } from "../../rpc/errors.ts";
 *
 * assert.throws(() => decodeMessage(encodeBrine([9, 1, null])), DecodeError);
 * ```
 *
 * @param bytes the packet
 * @param limits brine's limits
 * @returns the message
 * @throws {DecodeError} when it is not a `(kind, seq, payload)` with a known kind
 */
export function decodeMessage(bytes: Uint8Array, limits?: BrineLimits): RpycMessage {
  const value = decodeBrine(bytes, limits);
  if (!Array.isArray(value) || value.length !== 3) {
    throw new DecodeError("rpyc", "a message is not a (kind, seq, payload) tuple");
  }
  const [kind, seq, payload] = value as [unknown, unknown, BrineValue];
  if (kind !== MSG.REQUEST && kind !== MSG.REPLY && kind !== MSG.EXCEPTION) {
    throw new DecodeError("rpyc", `unknown message kind ${String(kind)}`);
  }
  if (typeof seq !== "number" || !Number.isSafeInteger(seq)) {
    throw new DecodeError("rpyc", `a seq that is not an int: ${String(seq)}`);
  }
  return { kind, seq, payload };
}

/** A reference as an id pack: `(class name, id(type), id(object))`. */
export type IdPack = readonly [string, number | bigint, number | bigint];

/**
 * Checks that a value is an id pack.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isIdPack } from "./messages.ts";
 *
 * assert.ok(isIdPack(["builtins.list", 1, 2]));
 * assert.ok(!isIdPack(["builtins.list", 1]));
 * ```
 *
 * @param value a decoded value
 * @returns whether it is `(str, int, int)`
 */
export function isIdPack(value: unknown): value is IdPack {
  return Array.isArray(value) && value.length === 3 && typeof value[0] === "string" &&
    isInt(value[1]) && isInt(value[2]);
}

function isInt(v: unknown): boolean {
  return typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v));
}

/** A Python exception as vinegar carries it. */
export interface RemoteException {
  /** The exception's module, `builtins` for the built-in ones. */
  readonly module: string;
  /** The exception's class name, `ValueError`. */
  readonly name: string;
  /** Its `args`, each a brine value or its repr. */
  readonly args: readonly BrineValue[];
  /** Its public attributes, as `[name, value]`. */
  readonly attrs: readonly (readonly [string, BrineValue])[];
  /** The remote traceback's text, or `<traceback denied>`. */
  readonly traceback: string;
}

/**
 * Reads vinegar's exception tuple.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeException } from "./messages.ts";
 *
 * const e = decodeException([["builtins", "KeyError"], ["k"], [], "Traceback..."]);
 * assert.equal(e.name, "KeyError");
 * ```
 *
 * @param payload the payload of an exception message
 * @returns the exception; `StopIteration` for vinegar's short form
 * @throws {DecodeError} when the tuple has another shape
 */
export function decodeException(payload: BrineValue): RemoteException {
  if (payload === EXC_STOP_ITERATION) {
    return { module: "builtins", name: "StopIteration", args: [], attrs: [], traceback: "" };
  }
  // Python 2's string exceptions, which vinegar still passes through.
  if (typeof payload === "string") {
    return { module: "builtins", name: payload, args: [], attrs: [], traceback: "" };
  }
  const bad = () => new DecodeError("rpyc", "an exception reply that is not vinegar's tuple");
  if (!Array.isArray(payload) || payload.length !== 4) throw bad();
  const [names, args, attrs, traceback] = payload as readonly unknown[];
  if (
    !Array.isArray(names) || names.length !== 2 || typeof names[0] !== "string" ||
    typeof names[1] !== "string" || !Array.isArray(args) || !Array.isArray(attrs) ||
    typeof traceback !== "string" ||
    !attrs.every((a) => Array.isArray(a) && a.length === 2 && typeof a[0] === "string")
  ) throw bad();
  return {
    module: names[0],
    name: names[1],
    args: args as BrineValue[],
    attrs: attrs as [string, BrineValue][],
    traceback,
  };
}

/**
 * Writes vinegar's exception tuple, which Python rebuilds as the built-in
 * exception `name` when it is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeException } from "./messages.ts";
 *
 * assert.deepEqual(encodeException("ValueError", "no"), [
 *   ["builtins", "ValueError"], ["no"], [["_remote_version", "<version denied>"]], "<traceback denied>",
 * ]);
 * ```
 *
 * @param name a built-in exception's name
 * @param message its message
 * @returns the payload of an exception message
 */
export function encodeException(name: string, message: string): BrineValue {
  return [
    ["builtins", name],
    [message],
    [["_remote_version", "<version denied>"]],
    "<traceback denied>",
  ];
}
