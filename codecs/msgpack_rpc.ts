/**
 * The msgpack-rpc codec, on msgpackr: what Neovim and many tools speak.
 *
 * Messages are MessagePack arrays, as the specification has them: a request
 * `[0, msgid, method, params]`, a response `[1, msgid, error, result]`, a
 * notification `[2, method, params]`. `msgid` is an unsigned 32-bit integer.
 * An error travels as the map `{code, message, data?}`; errors that other
 * servers send in other shapes are read too (Neovim's `[type, message]`
 * becomes `{code: type, message}`, a string becomes `{code: -32603,
 * message}`). There are no batches. Named params (an object) travel as a
 * map in the params slot, which peers other than parley may refuse.
 *
 * | value | on the wire | decoded as |
 * |---|---|---|
 * | integer `number` within 32 bits | int | `number` |
 * | safe integer `number` beyond 32 bits, `bigint` within 64 bits | int 64 | `number` within ±2^53, else `bigint` |
 * | `bigint` beyond 64 bits | `RangeError` | — |
 * | other `number` (`NaN`, `±Infinity` included) | float 64 | `number` (float 32 too); with `keepFloats`, a `Float` |
 * | `Float` (`float(2)`, `float(-0)`, any value; from `mod.ts`) | float 64, never an int | as above |
 * | `string` | str | `string` |
 * | {@linkcode RawString} | str of exactly its bytes | a str whose bytes are not UTF-8 decodes as a `RawString` |
 * | `Uint8Array` (and other byte views) | bin | `Uint8Array` (a copy) |
 * | `null`, `undefined` | nil | `null` |
 * | `boolean` | bool | `boolean` |
 * | array, `Set` | array | array |
 * | plain object, `Map` | map | object when every key is a string, else `Map` |
 * | `Date` | the timestamp extension (-1) | `Date` |
 * | an instance of an `extensions` class | ext of its type | what its `decode` returns |
 * | {@linkcode MsgpackExt} | ext of its type and bytes | any other ext type decodes as a `MsgpackExt` (data a copy) |
 *
 * So a value read from a peer goes back to it unchanged: a whole double
 * stays a double (with `keepFloats`; zod services mark theirs by schema),
 * a Latin-1 string keeps its bytes, an unknown extension its type and bytes.
 *
 * Before msgpackr decodes a message, parley walks its headers: declared
 * lengths over `maxSize` (a string that says it has 4 GiB), nesting over
 * `maxDepth`, the byte 0xc1 and timestamps of a length the specification
 * does not have are refused with a `DecodeError`, and nothing is allocated
 * for them. The walk also finds what msgpackr must not decode: extension
 * values (msgpackr's own types would build errors, regular expressions and
 * references; parley decodes every one itself), strings that are not UTF-8
 * and, with `keepFloats`, floats. On a byte stream the codec is its own
 * framing (`measure`, for {@linkcode selfDelimiting}): a msgpack stream
 * cannot be resynchronised, so a bad message closes the connection.
 *
 * @example A call and its reply
 * ```ts
 * import assert from "node:assert/strict";
 * import { msgpackRpc } from "./msgpack_rpc.ts";
 *
 * const codec = msgpackRpc();
 * const frame = codec.encode({ kind: "request", id: 1, method: "add", params: [1, 2] });
 * assert.deepEqual(frame, new Uint8Array([0x94, 0, 1, 0xa3, 0x61, 0x64, 0x64, 0x92, 1, 2]));
 * assert.deepEqual(codec.decode(frame), { kind: "request", id: 1, method: "add", params: [1, 2] });
 * assert.equal(codec.measure!(frame.subarray(0, 5)), undefined); // incomplete
 * ```
 *
 * @module
 */

import { DecodeError, ErrorCode } from "../rpc/errors.ts";
import { DEFAULT_LIMITS } from "../rpc/limits.ts";
import type {
  Codec,
  DecodedFrame,
  Frame,
  MeasureState,
  RpcErrorObject,
  RpcId,
  RpcMessage,
  RpcParams,
} from "../rpc/types.ts";
import { type Scan, scanValue, TooManyItems } from "./msgpack_rpc/_scan.ts";
import { unpackWithSlots } from "./msgpack_rpc/_slots.ts";
import { RawString } from "./msgpack_rpc/_wrappers.ts";
import {
  extensionDecoder,
  mapUnpackr,
  type MsgpackExtension,
  objectsFromMaps,
  objectUnpackr,
  packr,
  registerExtensions,
  widenIntegers,
  withExtensions,
} from "./msgpack_rpc/_values.ts";

export { type MsgpackExtension, msgpackExtension } from "./msgpack_rpc/_values.ts";
export { MsgpackExt, RawString } from "./msgpack_rpc/_wrappers.ts";

/**
 * Options of {@linkcode msgpackRpc}.
 *
 * @example An extension type
 * ```ts
 * import assert from "node:assert/strict";
 * import { msgpackExtension, msgpackRpc } from "./msgpack_rpc.ts";
 *
 * class Point {
 *   constructor(readonly x: number, readonly y: number) {}
 * }
 * const codec = msgpackRpc({
 *   extensions: [msgpackExtension({
 *     type: 7,
 *     Class: Point,
 *     encode: (p) => new Uint8Array([p.x, p.y]),
 *     decode: (data) => new Point(data[0]!, data[1]!),
 *   })],
 * });
 * const frame = codec.encode({ kind: "result", id: 1, result: new Point(3, 4) });
 * assert.deepEqual(codec.decode(frame), { kind: "result", id: 1, result: new Point(3, 4) });
 * ```
 *
 * @example Whole doubles that stay doubles
 * ```ts
 * import assert from "node:assert/strict";
 * import { float, Float } from "../mod.ts";
 * import { msgpackRpc } from "./msgpack_rpc.ts";
 *
 * const codec = msgpackRpc({ keepFloats: true });
 * // float(2) is float 64 (0xcb), where 2 would be the int 0x02.
 * const frame = codec.encode({ kind: "result", id: 1, result: float(2) }) as Uint8Array;
 * assert.deepEqual([...frame.subarray(4)], [0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0]);
 * assert.deepEqual(codec.decode(frame), { kind: "result", id: 1, result: new Float(2) });
 * ```
 */
export interface MsgpackRpcOptions {
  /**
   * Extension types of your own, decoded by their class; a peer's other
   * extension types decode as {@linkcode MsgpackExt}s.
   */
  readonly extensions?: readonly MsgpackExtension[];
  /**
   * Decode float 32 and float 64 as `Float`s (`mod.ts`), so that a whole
   * double (`2.0`, `-0.0`) stays a double when it is sent back. Default
   * `false`: plain numbers.
   */
  readonly keepFloats?: boolean;
  /**
   * Largest message in bytes, and largest length a string, binary, array or
   * map may declare. Default `DEFAULT_LIMITS.maxFrameSize` (16 MiB).
   */
  readonly maxSize?: number;
  /** Deepest nesting of arrays and maps in params (the params array counts) and results. Default 64. */
  readonly maxDepth?: number;
  /**
   * Most array elements and map entries in one message, at every depth, as
   * their headers declare them (checked before decoding allocates any). A
   * message with more is answered with -32600 under its msgid (a reply with
   * more fails the call it answers); the stream goes on. Default
   * `DEFAULT_LIMITS.maxItems` (1,000,000).
   */
  readonly maxItems?: number;
}

const NAME = "msgpack-rpc";
const REQUEST = 0;
const RESPONSE = 1;
const NOTIFICATION = 2;
const UINT32_MAX = 2 ** 32 - 1;

/**
 * Creates a msgpack-rpc codec.
 *
 * @param options extension types and limits
 * @returns a codec named `"msgpack-rpc"`, media type `application/vnd.msgpack`
 * @throws {RangeError} for a limit that is not a positive integer or an extension type outside 0..127
 *
 * @example Two peers speaking msgpack-rpc
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../rpc/peer.ts";
 * import { memoryPair } from "../rpc/testing.ts";
 * import { msgpackRpc } from "./msgpack_rpc.ts";
 *
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec: msgpackRpc(),
 *   service: { echo: (bytes: Uint8Array) => bytes, add: (x: bigint, y: number) => x + BigInt(y) },
 * });
 * const client = new Peer(b, { codec: msgpackRpc() });
 * // Bytes travel as bin, integers beyond 2^53 as int 64 (decoded as bigint).
 * assert.deepEqual(await client.call("echo", [new Uint8Array([1, 2])]), new Uint8Array([1, 2]));
 * assert.equal(await client.call("add", [2n ** 60n, 1]), 2n ** 60n + 1n);
 * await client.close();
 * await server.closed;
 * ```
 */
export function msgpackRpc(options: MsgpackRpcOptions = {}): Codec {
  const maxSize = options.maxSize ?? DEFAULT_LIMITS.maxFrameSize;
  const maxDepth = options.maxDepth ?? DEFAULT_LIMITS.maxDepth;
  const maxItems = options.maxItems ?? DEFAULT_LIMITS.maxItems;
  const checked = [["maxSize", maxSize], ["maxDepth", maxDepth], ["maxItems", maxItems]] as const;
  for (const [name, value] of checked) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }
  const extensions = options.extensions ?? [];
  registerExtensions(extensions);
  const decodeExtension = extensionDecoder(extensions);
  // The message's own array is not counted; its params array is.
  const limits = {
    maxSize,
    maxDepth: maxDepth + 1,
    maxItems,
    keepFloats: options.keepFloats ?? false,
    scratch: new Uint32Array(maxDepth + 1),
    scratchMaps: new Uint8Array(maxDepth + 1),
  };
  // Where the walk before a decode notes the values msgpackr must not decode.
  const found: number[] = [];

  const scan = (frame: Uint8Array): Scan => {
    const scanned = scanValue(frame, 0, limits, found);
    if (scanned === undefined) throw new DecodeError(NAME, "the message is truncated");
    if (scanned.end !== frame.length) {
      throw new DecodeError(NAME, `${frame.length - scanned.end} bytes after the message`);
    }
    return scanned;
  };

  return {
    name: NAME,
    mediaType: "application/vnd.msgpack",
    features: { batch: false, notifications: true, replyToParseError: false },
    encode(message: RpcMessage | readonly RpcMessage[]): Frame {
      if (Array.isArray(message)) throw new TypeError("msgpack-rpc has no batches");
      const wire = toWire(message as RpcMessage);
      const packed = withExtensions(extensions, () => packr.pack(wire));
      // msgpackr hands out Node's Buffer where there is one: a plain view of it.
      return new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength);
    },
    decode(frame: Frame): DecodedFrame {
      if (typeof frame === "string") throw new DecodeError(NAME, "a text frame; expected bytes");
      let unusualKeys: boolean;
      try {
        ({ unusualKeys } = scan(frame));
      } catch (error) {
        if (error instanceof TooManyItems) return refused(frame, error.message);
        throw error;
      }
      let value: unknown;
      try {
        if (found.length === 0) {
          value = unusualKeys
            ? objectsFromMaps(mapUnpackr.unpack(frame))
            : objectUnpackr.unpack(frame);
        } else {
          value = unpackWithSlots(
            frame,
            found,
            decodeExtension,
            unusualKeys ? unpackMaps : unpackObjects,
          );
        }
      } catch (error) {
        throw new DecodeError(NAME, (error as Error).message, undefined, { cause: error });
      }
      return fromWire(value);
    },
    // With a state, the walk resumes where the last one over this message stopped.
    measure(buffer: Uint8Array, state?: MeasureState): number | undefined {
      return scanValue(buffer, 0, limits, undefined, state)?.end;
    },
  };
}

// msgpackr reading the first `end` bytes of a (reused) buffer.
const unpackObjects = (bytes: Uint8Array, end: number) => objectUnpackr.unpack(bytes, { end });
const unpackMaps = (bytes: Uint8Array, end: number) =>
  objectsFromMaps(mapUnpackr.unpack(bytes, { end }));

function toWire(message: RpcMessage): unknown[] {
  switch (message.kind) {
    case "request":
      return [REQUEST, msgid(message.id), message.method, paramsOf(message.params)];
    case "notification":
      return [NOTIFICATION, message.method, paramsOf(message.params)];
    case "result":
      return [RESPONSE, msgid(message.id), null, widenIntegers(message.result ?? null)];
    case "error": {
      const { code, message: text, data } = message.error;
      const error = data === undefined
        ? { code, message: text }
        : { code, message: text, data: widenIntegers(data) };
      return [RESPONSE, message.id === null ? null : msgid(message.id), error, null];
    }
  }
}

function msgid(id: RpcId): number {
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > UINT32_MAX) {
    throw new TypeError(`a msgpack-rpc msgid is an unsigned 32-bit integer, got ${String(id)}`);
  }
  return id;
}

function paramsOf(params: RpcParams | undefined): unknown {
  return params === undefined ? [] : widenIntegers(params);
}

function invalid(id: RpcId | null | undefined, why: string, inReplyTo?: RpcId): DecodedFrame {
  const error: RpcErrorObject = {
    code: ErrorCode.InvalidRequest,
    message: `Invalid request: ${why}`,
  };
  return inReplyTo === undefined ? { kind: "invalid", id, error } : {
    kind: "invalid",
    id,
    error,
    inReplyTo,
  };
}

// A whole message refused before it is decoded: answered under its msgid,
// read from its first bytes (`[type, msgid, ...`), which come before any
// params or result.
function refused(frame: Uint8Array, why: string): DecodedFrame {
  const header = frame[0]!;
  let pos = header >= 0x90 && header <= 0x9f ? 1 : header === 0xdc ? 3 : header === 0xdd ? 5 : -1;
  const type = pos < 0 ? undefined : frame[pos++];
  // The msgid: a positive fixint, uint 8, uint 16 or uint 32.
  const tag = frame[pos] ?? 0xc1;
  const width = tag <= 0x7f ? 0 : tag === 0xcc ? 1 : tag === 0xcd ? 2 : tag === 0xce ? 4 : -1;
  let id: number | undefined;
  if (width >= 0 && pos + 1 + width <= frame.length) {
    id = width === 0 ? tag : 0;
    for (let i = 1; i <= width; i++) id = id * 256 + frame[pos + i]!;
  }
  if (type === REQUEST) return invalid(id ?? null, why);
  if (type === RESPONSE) return invalid(undefined, why, id);
  return invalid(type === NOTIFICATION ? undefined : null, why);
}

function isMsgid(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= UINT32_MAX;
}

function isParams(value: unknown): value is RpcParams {
  return Array.isArray(value) ||
    (typeof value === "object" && value !== null &&
      Object.getPrototypeOf(value) === Object.prototype);
}

function fromWire(value: unknown): DecodedFrame {
  if (!Array.isArray(value)) return invalid(null, "a message is an array");
  const [type] = value;
  if (type === REQUEST) {
    const [, id, method, params] = value;
    if (!isMsgid(id)) return invalid(null, "msgid is not an unsigned 32-bit integer");
    if (value.length !== 4) return invalid(id, "a request has 4 elements");
    if (typeof method !== "string") return invalid(id, "the method is not a string");
    if (!isParams(params)) return invalid(id, "params are not an array");
    return { kind: "request", id, method, params };
  }
  if (type === NOTIFICATION) {
    const [, method, params] = value;
    if (value.length !== 3) return invalid(undefined, "a notification has 3 elements");
    if (typeof method !== "string") return invalid(undefined, "the method is not a string");
    if (!isParams(params)) return invalid(undefined, "params are not an array");
    return { kind: "notification", method, params };
  }
  if (type === RESPONSE) {
    const [, id, error, result] = value;
    if (id !== null && !isMsgid(id)) {
      return invalid(undefined, "msgid is not an unsigned 32-bit integer");
    }
    if (value.length !== 4) return invalid(undefined, "a response has 4 elements", id ?? undefined);
    if (error === null || error === undefined) {
      if (id === null) return invalid(undefined, "a result without a msgid");
      return { kind: "result", id, result: result ?? null };
    }
    return { kind: "error", id, error: errorObject(error) };
  }
  return invalid(null, `unknown message type ${String(type)}`);
}

// The error of a response, in whichever shape the server sent it. A
// message that is not UTF-8 (Neovim quoting a Latin-1 line) is shown as text.
function errorObject(error: unknown): RpcErrorObject {
  if (typeof error === "object" && error !== null && !Array.isArray(error)) {
    const { code, message, data } = error as Record<string, unknown>;
    const text = textOf(message);
    if (typeof code === "number" && text !== undefined) {
      return data === undefined ? { code, message: text } : { code, message: text, data };
    }
  }
  if (Array.isArray(error) && typeof error[0] === "number" && textOf(error[1]) !== undefined) {
    return { code: error[0], message: textOf(error[1])! };
  }
  const text = textOf(error);
  if (text !== undefined) return { code: ErrorCode.InternalError, message: text };
  return { code: ErrorCode.InternalError, message: "Error", data: error };
}

function textOf(value: unknown): string | undefined {
  return typeof value === "string" ? value : value instanceof RawString ? String(value) : undefined;
}
