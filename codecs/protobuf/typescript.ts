/**
 * TypeScript types for the messages and services of a schema, in parley's
 * plain form (what {@linkcode loadProto} decodes): `bigint` for 64-bit
 * integers, `Uint8Array` for bytes, enums as their numbers. protobufjs's own
 * `pbts` describes its generated classes instead (`Long`, `I*` interfaces),
 * which is not what parley hands over, hence this generator.
 *
 * A message's interface is what a decoded message holds: plain fields are
 * always present (proto3 fills in defaults), message, `optional` and oneof
 * fields may be absent. What a caller may send is {@linkcode ProtoInput} of
 * it: every field optional, numbers accepted for 64-bit fields.
 *
 * @module
 */

import protobuf from "./_protobufjs.ts";
import type { ProtoSchema } from "./schema.ts";

const SCALARS: Record<string, string> = {
  double: "number",
  float: "number",
  int32: "number",
  uint32: "number",
  sint32: "number",
  fixed32: "number",
  sfixed32: "number",
  int64: "bigint",
  uint64: "bigint",
  sint64: "bigint",
  fixed64: "bigint",
  sfixed64: "bigint",
  bool: "boolean",
  string: "string",
  bytes: "Uint8Array",
};

// Short names where they are unique in the schema, else the full name with
// dots as underscores.
function namer(
  types: readonly protobuf.ReflectionObject[],
): (type: protobuf.ReflectionObject) => string {
  const counts = new Map<string, number>();
  for (const type of types) counts.set(type.name, (counts.get(type.name) ?? 0) + 1);
  return (type) =>
    counts.get(type.name) === 1 ? type.name : type.fullName.slice(1).replaceAll(".", "_");
}

function* walk(namespace: protobuf.NamespaceBase): Generator<protobuf.ReflectionObject> {
  for (const nested of namespace.nestedArray) {
    if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum) yield nested;
    if (nested instanceof protobuf.Service) yield nested;
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) {
      yield* walk(nested);
    }
  }
}

function doc(comment: string | null | undefined, indent: string): string {
  if (comment === null || comment === undefined || comment.trim() === "") return "";
  return `${indent}/** ${
    comment.trim().replaceAll("*/", "*\\/").replaceAll("\n", `\n${indent} * `)
  } */\n`;
}

/**
 * Writes the TypeScript module of a schema's types.
 *
 * @param schema the schema
 * @param source where it came from, for the header comment
 * @returns the module's text
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "./schema.ts";
 * import { protoTypes } from "./typescript.ts";
 *
 * const text = protoTypes(loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Total { int64 total = 1; optional string note = 2; }
 *   service Adder { rpc Add(Total) returns (Total); }
 * `), "demo.proto");
 * assert.match(text, /total: bigint;/);
 * assert.match(text, /note\?: string;/);
 * assert.match(text, /Add\(request: Total\): Total;/);
 * ```
 *
 * @example Streaming methods
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "./schema.ts";
 * import { protoTypes } from "./typescript.ts";
 *
 * const text = protoTypes(loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message N { int64 n = 1; }
 *   service Counter {
 *     rpc Count(N) returns (stream N);
 *     rpc Total(stream N) returns (N);
 *   }
 * `), "demo.proto");
 * assert.match(text, /Count\(request: N\): AsyncIterable<N>;/);
 * assert.match(text, /Total\(requests: AsyncIterable<N>\): N;/);
 * ```
 */
export function protoTypes(schema: ProtoSchema, source: string): string {
  const all = [...walk(schema.root)];
  const name = namer(all);
  const typeOf = (field: protobuf.Field): string => {
    const resolved = field.resolvedType;
    const base = resolved !== null && resolved !== undefined
      ? name(resolved)
      : SCALARS[field.type] ?? "unknown";
    if (field.map) return `Record<string, ${base}>`;
    if (field.repeated) return `${base}[]`;
    return base;
  };
  const out: string[] = [
    `// The types of ${source}, in parley's plain form. Written by \`deno task proto:types\`;`,
    "// regenerate rather than edit.",
    "",
  ];
  for (const type of all) {
    if (type instanceof protobuf.Enum) {
      out.push(doc(type.comment, "") + `export const ${name(type)} = {`);
      for (const [key, value] of Object.entries(type.values)) out.push(`  ${key}: ${value},`);
      out.push("} as const;");
      out.push(
        `/** A value of the enum ${
          type.fullName.slice(1)
        } (proto3 enums are open: other numbers may arrive). */`,
      );
      out.push(`export type ${name(type)} = number;`, "");
    } else if (type instanceof protobuf.Type) {
      out.push(doc(type.comment, "") || `/** The message ${type.fullName.slice(1)}. */\n`);
      if (type.fieldsArray.length === 0) {
        out[out.length - 1] += `export type ${name(type)} = Record<string, never>;\n`;
        continue;
      }
      out[out.length - 1] += `export interface ${name(type)} {`;
      for (const field of type.fieldsArray) {
        const maybe =
          field.resolvedType instanceof protobuf.Type && !field.repeated && !field.map ||
          field.partOf !== null && field.partOf !== undefined;
        out.push(
          doc(field.comment, "  ") + `  ${field.name}${maybe ? "?" : ""}: ${typeOf(field)};`,
        );
      }
      out.push("}", "");
    } else if (type instanceof protobuf.Service) {
      out.push(
        doc(type.comment, "") ||
          `/** The service ${type.fullName.slice(1)}: \`protoClient<${
            name(type)
          }>(...)\`, \`protoService<${name(type)}>(...)\`. */\n`,
      );
      out[out.length - 1] += `export interface ${name(type)} {`;
      for (const m of type.methodsArray) {
        m.resolve();
        // A stream is an AsyncIterable of its messages, as protoService and protoClient read it.
        const request = name(m.resolvedRequestType!);
        const response = name(m.resolvedResponseType!);
        out.push(
          doc(m.comment, "  ") +
            `  ${m.name}(${m.requestStream ? "requests" : "request"}: ${
              m.requestStream ? `AsyncIterable<${request}>` : request
            }): ${m.responseStream ? `AsyncIterable<${response}>` : response};`,
        );
      }
      out.push("}", "");
    }
  }
  return out.join("\n");
}
