// JSON from the terminal into the values schema codecs expect: protobuf's
// proto3 JSON mapping through the method's request type, Thrift's types
// (i64 from numbers or strings, binary from base64, sets, maps, enums by
// name) through the function's arguments.

import type { ProtoSchema } from "../codecs/protobuf.ts";
import type { ThriftSchema, ThriftType } from "../codecs/thrift.ts";
import type { RpcParams } from "../rpc/types.ts";
import { UsageError } from "./endpoint.ts";

/** protobuf: the one request message, from its JSON form. */
export function protoParams(
  schema: ProtoSchema,
  method: string,
  params: RpcParams | undefined,
): Record<string, unknown> {
  const found = schema.method(method);
  if (found === undefined) {
    const known = [...schema.methods.keys()].join(", ");
    throw new UsageError(
      `"${method}" is not a method of the schema (${
        method.includes("/") ? "" : "write package.Service/Method; "
      }it has: ${known})`,
    );
  }
  const json = Array.isArray(params) ? params[0] ?? {} : params ?? {};
  try {
    return found.request.fromJson(exactIntegers(json));
  } catch (error) {
    throw new UsageError(`${method}: ${(error as Error).message}`);
  }
}

// Integers beyond 2^53, which the command line keeps as bigints, as the
// decimal strings that proto3 JSON takes for 64-bit integers.
function exactIntegers(value: unknown): unknown {
  if (typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return value.map(exactIntegers);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, exactIntegers(v)]));
  }
  return value;
}

function convert(type: ThriftType, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return value;
  switch (type.kind) {
    case "i64":
      if (typeof value === "bigint") return value;
      if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
      if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
      throw new UsageError(`${where}: an integer expected`);
    case "binary":
      if (typeof value !== "string") throw new UsageError(`${where}: base64 text expected`);
      return Uint8Array.fromBase64(value);
    case "enum":
      if (typeof value === "string") {
        const number = type.values.get(value);
        if (number === undefined) {
          throw new UsageError(`${where}: "${value}" is not a ${type.name}`);
        }
        return number;
      }
      return value;
    case "list":
    case "set": {
      if (!Array.isArray(value)) throw new UsageError(`${where}: an array expected`);
      const items = value.map((v, i) => convert(type.element, v, `${where}[${i}]`));
      return type.kind === "set" ? new Set(items) : items;
    }
    case "map": {
      if (typeof value !== "object") throw new UsageError(`${where}: an object expected`);
      const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        type.key.kind === "string"
          ? k
          : convert(type.key, /^-?\d+$/.test(k) ? Number(k) : k, where),
        convert(type.value, v, `${where}.${k}`),
      ]);
      return type.key.kind === "string"
        ? Object.fromEntries(entries)
        : new Map(entries as [unknown, unknown][]);
    }
    case "struct": {
      if (typeof value !== "object") throw new UsageError(`${where}: an object expected`);
      const struct = type.resolve();
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => {
          const field = struct.byName.get(k);
          return [k, field === undefined ? v : convert(field.type, v, `${where}.${k}`)];
        }),
      );
    }
    default:
      return value;
  }
}

/** Thrift: the arguments of a function, typed from JSON. */
export function thriftParams(
  schema: ThriftSchema,
  method: string,
  params: RpcParams | undefined,
): RpcParams | undefined {
  const colon = method.indexOf(":");
  const [serviceName, name] = colon === -1
    ? [undefined, method]
    : [method.slice(0, colon), method.slice(colon + 1)];
  const services = serviceName === undefined
    ? [...schema.services.values()]
    : [schema.service(serviceName)];
  const fn = services.map((s) => s.functions.get(name)).find((f) => f !== undefined);
  if (fn === undefined) throw new UsageError(`"${method}" is not a function of the .thrift file`);
  if (params === undefined) return undefined;
  if (Array.isArray(params)) {
    return params.map((value, i) => {
      const field = fn.args.fields[i];
      return field === undefined ? value : convert(field.type, value, `${name} argument ${i + 1}`);
    });
  }
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => {
      const field = fn.args.byName.get(k);
      return [k, field === undefined ? v : convert(field.type, v, `${name}.${k}`)];
    }),
  );
}
