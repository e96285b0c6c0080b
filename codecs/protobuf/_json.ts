// protobuf's canonical JSON mapping (proto3 JSON, what Connect's
// application/json carries), between JSON values and parley's plain message
// form (the form of _values.ts: bigint for 64-bit, Uint8Array for bytes, enum
// numbers). protobufjs's own fromObject coerces anything it is given ("abc"
// for an int32 becomes 0), so JSON is read here, strictly, field by field.
// Well-known types with special JSON forms (Timestamp, Duration, Struct,
// wrappers, Any) are read and written as ordinary messages.

import protobuf from "./_protobufjs.ts";
import { ProtoValueError } from "./_values.ts";

type Plain = Record<string, unknown>;

const INT32 = new Set(["int32", "sint32", "sfixed32"]);
const UINT32 = new Set(["uint32", "fixed32"]);
const FLOAT = new Set(["double", "float"]);
const INTEGER = /^-?\d+$/;

function lowerCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function jsonNameOf(field: protobuf.Field): string {
  const declared = field.options?.["json_name"];
  return typeof declared === "string" ? declared : lowerCamel(field.name);
}

const byJsonName = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

function fieldsOf(type: protobuf.Type): Map<string, protobuf.Field> {
  let fields = byJsonName.get(type);
  if (fields === undefined) {
    fields = new Map();
    for (const field of type.fieldsArray) {
      // The proto name, the JSON name, and the snake_case name the
      // camelCased field was most likely declared with.
      fields.set(field.name, field);
      fields.set(jsonNameOf(field), field);
      fields.set(field.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), field);
    }
    byJsonName.set(type, fields);
  }
  return fields;
}

function fail(where: string, what: string): never {
  throw new ProtoValueError(`${where}: ${what}`);
}

function integerOf(value: unknown, where: string): bigint {
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "string" && INTEGER.test(value)) return BigInt(value);
  // proto3 JSON also allows exponent notation for integers, if the value is integral.
  if (typeof value === "string" && value.trim() !== "" && Number.isInteger(Number(value))) {
    return BigInt(Number(value));
  }
  return fail(where, "an integer expected");
}

function inRange(value: bigint, low: bigint, high: bigint, where: string, type: string): bigint {
  if (value < low || value > high) fail(where, `${value} is outside the ${type} range`);
  return value;
}

function scalarFromJson(field: protobuf.Field, value: unknown, where: string): unknown {
  const type = field.type;
  if (field.resolvedType instanceof protobuf.Enum) {
    if (typeof value === "string") {
      const number = field.resolvedType.values[value];
      return number ?? fail(where, `"${value}" is not a value of ${field.resolvedType.name}`);
    }
    return Number(inRange(integerOf(value, where), -(2n ** 31n), 2n ** 31n - 1n, where, "enum"));
  }
  if (field.resolvedType instanceof protobuf.Type) {
    return messageFromJson(field.resolvedType, value, where);
  }
  if (INT32.has(type)) {
    return Number(inRange(integerOf(value, where), -(2n ** 31n), 2n ** 31n - 1n, where, type));
  }
  if (UINT32.has(type)) {
    return Number(inRange(integerOf(value, where), 0n, 2n ** 32n - 1n, where, type));
  }
  if (type === "int64" || type === "sint64" || type === "sfixed64") {
    return inRange(integerOf(value, where), -(2n ** 63n), 2n ** 63n - 1n, where, type);
  }
  if (type === "uint64" || type === "fixed64") {
    return inRange(integerOf(value, where), 0n, 2n ** 64n - 1n, where, type);
  }
  if (FLOAT.has(type)) {
    if (typeof value === "number") return value;
    if (value === "NaN") return NaN;
    if (value === "Infinity") return Infinity;
    if (value === "-Infinity") return -Infinity;
    if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) {
      return Number(value);
    }
    return fail(where, "a number expected");
  }
  if (type === "bool") {
    return typeof value === "boolean" ? value : fail(where, "a boolean expected");
  }
  if (type === "string") {
    return typeof value === "string" ? value : fail(where, "a string expected");
  }
  if (type === "bytes") {
    if (typeof value !== "string") return fail(where, "a base64 string expected");
    const alphabet = /[-_]/.test(value) ? "base64url" : "base64";
    try {
      return Uint8Array.fromBase64(value, { alphabet });
    } catch {
      return fail(where, "invalid base64");
    }
  }
  return fail(where, `unsupported field type ${type}`);
}

/**
 * Reads a message from its proto3 JSON form.
 *
 * @throws {ProtoValueError} for an unknown field or a value of the wrong type
 */
export function messageFromJson(type: protobuf.Type, json: unknown, where: string): Plain {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return fail(where, `an object expected for ${type.fullName.slice(1)}`);
  }
  const fields = fieldsOf(type);
  const out: Plain = {};
  for (const [key, value] of Object.entries(json)) {
    const field = fields.get(key);
    if (field === undefined) fail(`${where}.${key}`, `not a field of ${type.fullName.slice(1)}`);
    const at = `${where}.${key}`;
    if (value === null) continue; // null means absent (or the default)
    if (field.map) {
      if (typeof value !== "object" || Array.isArray(value)) fail(at, "an object expected");
      const map: Plain = {};
      for (const [k, v] of Object.entries(value as Plain)) {
        map[k] = scalarFromJson(field, v, `${at}.${k}`);
      }
      out[field.name] = map;
    } else if (field.repeated) {
      if (!Array.isArray(value)) fail(at, "an array expected");
      out[field.name] = value.map((v, i) => scalarFromJson(field, v, `${at}[${i}]`));
    } else {
      out[field.name] = scalarFromJson(field, value, at);
    }
  }
  return out;
}

function scalarToJson(field: protobuf.Field, value: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Enum) {
    return field.resolvedType.valuesById[value as number] ?? value;
  }
  if (field.resolvedType instanceof protobuf.Type) {
    return messageToJson(field.resolvedType, value as Plain);
  }
  if (typeof value === "bigint") return value.toString();
  if (field.long) return String(value);
  if (value instanceof Uint8Array) return value.toBase64();
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return value;
}

function isDefault(value: unknown): boolean {
  return value === 0 || value === 0n || value === "" || value === false ||
    (value instanceof Uint8Array && value.length === 0) ||
    (Array.isArray(value) && value.length === 0);
}

/**
 * Writes a message (parley's plain form) as proto3 JSON: fields under their
 * JSON names, defaults of plain fields left out, 64-bit integers as
 * strings, bytes as base64, enums by name.
 */
export function messageToJson(type: protobuf.Type, value: Plain): Plain {
  const out: Plain = {};
  for (const field of type.fieldsArray) {
    const item = value[field.name];
    if (item === undefined || item === null) continue;
    // A field of a oneof (proto3 `optional` included) is written whenever set.
    if (!field.partOf && isDefault(item)) continue;
    if (field.map) {
      const map: Plain = {};
      for (const [k, v] of Object.entries(item as Plain)) map[k] = scalarToJson(field, v);
      if (Object.keys(map).length === 0) continue;
      out[jsonNameOf(field)] = map;
    } else if (field.repeated) {
      out[jsonNameOf(field)] = (item as unknown[]).map((v) => scalarToJson(field, v));
    } else {
      out[jsonNameOf(field)] = scalarToJson(field, item);
    }
  }
  return out;
}
