// How parley's plain values become protobuf messages and back, on
// protobufjs's reflection. Messages are plain objects keyed by field name;
// 64-bit integers are `bigint` (numbers accepted when safe), bytes are
// `Uint8Array`, enums are their numbers, maps are plain objects, an absent
// message field is absent. protobufjs checks the field types (`verify`) and
// does the wire work; this file adds what it leaves loose: unknown field
// names, exact 64-bit values, bytes that are bytes.

import protobuf from "./_protobufjs.ts";

type Plain = Record<string, unknown>;

// long.js, which protobufjs uses for 64-bit values (its typings leave the statics out).
const Long = protobuf.util.Long as unknown as {
  fromString(text: string, unsigned: boolean): protobuf.Long;
};
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;
const UNSIGNED_64 = new Set(["uint64", "fixed64"]);
// protobufjs's verify checks that a 32-bit field holds an integer, not that
// it fits: 2 ** 40 in an int32 would leave as its low 32 bits.
const RANGE_32: Readonly<Record<string, readonly [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  sint32: [-(2 ** 31), 2 ** 31 - 1],
  sfixed32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  fixed32: [0, 2 ** 32 - 1],
};

// protobufjs's toObject, told to hand 64-bit values over as decimal strings
// (exact), enums as numbers and proto3 defaults filled in.
const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  defaults: true,
  arrays: true,
  objects: true,
};

/** What a field holds, for the conversions protobufjs does not do. */
type Kind = "int64" | "int32" | "bytes" | "message" | "other";

interface FieldPlan {
  readonly name: string;
  readonly kind: Kind;
  readonly unsigned: boolean;
  /** The range of a 32-bit integer field. */
  readonly range: readonly [number, number] | undefined;
  readonly repeated: boolean;
  readonly map: boolean;
  readonly type: protobuf.Type | undefined;
}

interface TypePlan {
  readonly fields: Map<string, FieldPlan>;
  /** Whether a decoded object needs a pass after toObject (64-bit, bytes, nested). */
  readonly fixesDecoded: boolean;
}

const plans = new WeakMap<protobuf.Type, TypePlan>();

function kindOf(field: protobuf.Field): Kind {
  if (field.resolvedType instanceof protobuf.Type) return "message";
  if (field.long) return "int64";
  if (Object.hasOwn(RANGE_32, field.type)) return "int32";
  if (field.type === "bytes") return "bytes";
  return "other";
}

function planOf(type: protobuf.Type): TypePlan {
  let plan = plans.get(type);
  if (plan !== undefined) return plan;
  const fields = new Map<string, FieldPlan>();
  for (const field of type.fieldsArray) {
    fields.set(field.name, {
      name: field.name,
      kind: kindOf(field),
      unsigned: UNSIGNED_64.has(field.type),
      range: RANGE_32[field.type],
      repeated: field.repeated,
      map: field.map,
      type: field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined,
    });
  }
  // Nested message types are fixed whatever they hold: absent ones must be
  // dropped (toObject fills them with null).
  const fixesDecoded = [...fields.values()].some((f) => f.kind !== "other" && f.kind !== "int32");
  plan = { fields, fixesDecoded };
  plans.set(type, plan);
  return plan;
}

/**
 * A value that does not fit its message type; the message says where and why.
 * A call whose request does not fit fails with it before anything is sent.
 *
 * @example A field the message type does not have
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protobufRpc, ProtoValueError } from "../protobuf.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Pair { int32 a = 1; int32 b = 2; }
 *   service Adder { rpc Add(Pair) returns (Pair); }
 * `);
 * const codec = protobufRpc({ schema }).fork!();
 * const params = { a: 1, c: 2 };
 * const call = { kind: "request", id: 1, method: "demo.Adder/Add", params } as const;
 * assert.throws(
 *   () => codec.encode(call),
 *   new ProtoValueError("demo.Pair.c: not a field of demo.Pair"),
 * );
 * assert.throws(
 *   () => schema.message("demo.Pair").encode({ a: "one" }),
 *   new ProtoValueError("demo.Pair.a: integer expected"),
 * );
 * ```
 */
export class ProtoValueError extends TypeError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ProtoValueError";
  }
}

function isPlainObject(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !ArrayBuffer.isView(value) && !(value instanceof Map);
}

function toLong(value: unknown, unsigned: boolean, where: string): unknown {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || (unsigned && value < 0)) {
      throw new ProtoValueError(`${where}: a safe integer or a bigint expected`);
    }
    return value;
  }
  if (typeof value === "bigint") {
    const [low, high] = unsigned ? [0n, U64_MAX] : [I64_MIN, I64_MAX];
    if (value < low || value > high) {
      throw new ProtoValueError(
        `${where}: ${value} is outside the ${unsigned ? "u" : ""}int64 range`,
      );
    }
    return Long.fromString(value.toString(), unsigned);
  }
  throw new ProtoValueError(`${where}: an integer (number or bigint) expected`);
}

function inRange(field: FieldPlan, value: unknown): boolean {
  const [low, high] = field.range!;
  return typeof value !== "number" || !(value < low || value > high);
}

function prepareOne(field: FieldPlan, value: unknown, where: string): unknown {
  switch (field.kind) {
    case "int64":
      return toLong(value, field.unsigned, where);
    case "int32": {
      if (!inRange(field, value)) {
        const [low, high] = field.range!;
        throw new ProtoValueError(`${where}: ${value} is outside the range ${low}..${high}`);
      }
      return value; // protobufjs's verify reports what is not an integer
    }
    case "bytes":
      if (!(value instanceof Uint8Array)) {
        throw new ProtoValueError(`${where}: Uint8Array expected`);
      }
      return value;
    case "message":
      return prepare(field.type!, value, where);
    default:
      return value;
  }
}

/**
 * Checks a plain object against `type` and returns what protobufjs encodes:
 * the same object, or a copy where 64-bit values became `Long`s.
 *
 * @throws {ProtoValueError} for an unknown field, a value of the wrong type,
 * an integer out of range
 */
export function prepare(type: protobuf.Type, value: unknown, where: string): Plain {
  if (!isPlainObject(value)) {
    throw new ProtoValueError(`${where}: an object expected for ${type.fullName.slice(1)}`);
  }
  const plan = planOf(type);
  let out: Plain | undefined;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const field = plan.fields.get(key);
    if (field === undefined) {
      throw new ProtoValueError(`${where}.${key}: not a field of ${type.fullName.slice(1)}`);
    }
    const item = value[key];
    if (item === undefined || item === null || field.kind === "other") continue;
    // A single 32-bit integer, the common case: checked without building its path.
    if (field.kind === "int32" && !field.repeated && !field.map && inRange(field, item)) continue;
    let converted: unknown;
    const at = `${where}.${key}`;
    if (field.map) {
      const entries = item instanceof Map
        ? [...item]
        : isPlainObject(item)
        ? Object.entries(item)
        : undefined;
      if (entries === undefined) throw new ProtoValueError(`${at}: an object or a Map expected`);
      const map: Plain = {};
      for (const [k, v] of entries) map[String(k)] = prepareOne(field, v, `${at}[${String(k)}]`);
      converted = map;
    } else if (field.repeated) {
      if (!Array.isArray(item)) throw new ProtoValueError(`${at}: an array expected`);
      converted = item.map((v, i) => prepareOne(field, v, `${at}[${i}]`));
    } else {
      converted = prepareOne(field, item, at);
    }
    if (converted !== item) (out ??= { ...value })[key] = converted;
  }
  const checked = out ?? value;
  const problem = type.verify(checked);
  if (problem !== null) throw new ProtoValueError(`${where}.${problem}`);
  return checked;
}

/**
 * Encodes a plain object as a message of `type`.
 *
 * @throws {ProtoValueError} when the value does not fit the type
 */
export function encodeMessage(type: protobuf.Type, value: unknown, where: string): Uint8Array {
  return plainBytes(type.encode(prepare(type, value, where)).finish());
}

// protobufjs hands bytes over as Node Buffers where it finds one (Deno's npm
// layer provides it): parley gives plain Uint8Arrays, views on the frame.
function plainBytes(value: unknown): Uint8Array {
  const bytes = value as Uint8Array;
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function fixOne(field: FieldPlan, value: unknown): unknown {
  switch (field.kind) {
    case "int64":
      return BigInt(value as string);
    case "bytes":
      return plainBytes(value);
    case "message":
      return fix(field.type!, value as Plain);
    default:
      return value;
  }
}

function fix(type: protobuf.Type, object: Plain): Plain {
  const plan = planOf(type);
  if (!plan.fixesDecoded) return object;
  for (const field of plan.fields.values()) {
    if (field.kind === "other" || !Object.hasOwn(object, field.name)) continue;
    const value = object[field.name];
    if (value === null || value === undefined) {
      delete object[field.name];
    } else if (field.map) {
      const map = value as Plain;
      for (const key in map) map[key] = fixOne(field, map[key]);
    } else if (field.repeated) {
      const list = value as unknown[];
      for (let i = 0; i < list.length; i++) list[i] = fixOne(field, list[i]);
    } else {
      object[field.name] = fixOne(field, value);
    }
  }
  return object;
}

/**
 * Decodes a message of `type` into a plain object, proto3 defaults filled
 * in, 64-bit integers as `bigint`, bytes as `Uint8Array`.
 *
 * @throws {Error} protobufjs's errors for truncated or malformed bytes
 */
export function decodeMessage(type: protobuf.Type, bytes: Uint8Array): Plain {
  return fix(type, type.toObject(type.decode(bytes), TO_OBJECT));
}
