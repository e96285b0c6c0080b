/**
 * Doubles by schema: a zod `z.number()` that is not `.int()` says "double",
 * so the values in its places travel as doubles ({@linkcode Float}) in the
 * codecs that tell doubles from integers. The dispatcher marks a zod
 * method's result this way and the typed proxy its params; values that a
 * codec decoded as `Float`s (`keepFloats`) are unwrapped before a zod
 * schema checks them. Schemas are read through zod's definitions
 * (`_zod.def`), duck-typed, so this module does not load zod.
 *
 * @module
 */

import { Float } from "./float.ts";

// deno-lint-ignore no-explicit-any
type Def = Record<string, any>;
interface ZodLike {
  readonly _zod: { readonly def: Def };
  readonly isInt?: boolean;
  safeParse?(value: unknown): { success: boolean };
}

const floaty = new WeakMap<object, boolean>();

function defOf(schema: unknown): Def | undefined {
  return (schema as ZodLike | undefined)?._zod?.def;
}

/**
 * Whether a schema has a double anywhere in it (cached per schema).
 *
 * @param schema a zod schema
 * @returns `true` when some place in it is a `z.number()` without `.int()`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { hasFloats } from "./schema_floats.ts";
 *
 * assert.ok(hasFloats(z.object({ x: z.array(z.number()) })));
 * assert.ok(!hasFloats(z.tuple([z.number().int(), z.string()])));
 * ```
 */
export function hasFloats(schema: unknown): boolean {
  if (typeof schema !== "object" || schema === null) return false;
  const known = floaty.get(schema);
  if (known !== undefined) return known;
  floaty.set(schema, false); // a recursive (lazy) schema meets itself as "no"
  const found = childrenOf(schema).some(hasFloats) || isDouble(schema);
  floaty.set(schema, found);
  return found;
}

function isDouble(schema: unknown): boolean {
  const type = defOf(schema)?.type;
  return type === "nan" || (type === "number" && (schema as ZodLike).isInt !== true);
}

function childrenOf(schema: unknown): unknown[] {
  const def = defOf(schema);
  if (def === undefined) return [];
  switch (def.type) {
    case "array":
      return [def.element];
    case "tuple":
      return def.rest === undefined || def.rest === null
        ? [...def.items]
        : [...def.items, def.rest];
    case "object":
      return [...Object.values(def.shape ?? {}), def.catchall].filter((s) => s !== undefined);
    case "record":
    case "map":
      return [def.valueType];
    case "set":
      return [def.valueType];
    case "union":
      return [...def.options];
    case "pipe":
      return [def.out];
    case "lazy":
      return [def.getter()];
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "nonoptional":
    case "readonly":
    case "catch":
    case "success":
      return [def.innerType];
    default:
      return [];
  }
}

/**
 * The value with every number that stands where the schema has a double
 * wrapped in a {@linkcode Float}; the value itself when the schema has no
 * double, copies only where something was wrapped.
 *
 * @param schema the zod schema the value was parsed with (its output side)
 * @param value the parsed value
 * @returns the value, doubles marked
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { Float } from "./float.ts";
 * import { markFloats } from "./schema_floats.ts";
 *
 * const marked = markFloats(z.object({ n: z.number().int(), x: z.number() }), { n: 1, x: 2 });
 * assert.deepEqual(marked, { n: 1, x: new Float(2) });
 * ```
 */
export function markFloats(schema: unknown, value: unknown): unknown {
  return hasFloats(schema) ? mark(schema, value) : value;
}

function mark(schema: unknown, value: unknown): unknown {
  const def = defOf(schema);
  if (def === undefined || !hasFloats(schema)) return value;
  switch (def.type) {
    case "number":
    case "nan":
      return typeof value === "number" && isDouble(schema) ? new Float(value) : value;
    case "array":
      return Array.isArray(value) ? mapArray(value, () => def.element) : value;
    case "tuple":
      return Array.isArray(value)
        ? mapArray(value, (i) => i < def.items.length ? def.items[i] : def.rest)
        : value;
    case "object":
      return isRecord(value)
        ? mapRecord(value, (key) => Object.hasOwn(def.shape, key) ? def.shape[key] : def.catchall)
        : value;
    case "record":
      return isRecord(value) ? mapRecord(value, () => def.valueType) : value;
    case "map":
      return value instanceof Map
        ? new Map([...value].map(([k, v]) => [k, mark(def.valueType, v)]))
        : value;
    case "union": {
      // The first option the value fits decides, as zod's own parse does.
      const option = (def.options as ZodLike[]).find((o) => o.safeParse?.(value).success);
      return option === undefined ? value : mark(option, value);
    }
    case "pipe":
      return mark(def.out, value);
    case "lazy":
      return mark(def.getter(), value);
    default:
      return value === null || value === undefined ? value : mark(def.innerType, value);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function mapArray(value: readonly unknown[], schemaAt: (i: number) => unknown): unknown[] {
  return value.map((item, i) => {
    const schema = schemaAt(i);
    return schema === undefined ? item : mark(schema, item);
  });
}

function mapRecord(
  value: Record<string, unknown>,
  schemaOf: (key: string) => unknown,
): Record<string, unknown> {
  // Entries, not assignments: a "__proto__" key stays an own property.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      const schema = schemaOf(key);
      return [key, schema === undefined ? item : mark(schema, item)];
    }),
  );
}

/**
 * Whether a value holds a {@linkcode Float} anywhere (arrays and plain
 * objects are searched).
 *
 * @param value anything
 * @returns `true` when a `Float` is in it
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { float } from "./float.ts";
 * import { containsFloats } from "./schema_floats.ts";
 *
 * assert.ok(containsFloats([1, { x: float(2) }]) && !containsFloats([1, { x: 2 }]));
 * ```
 */
export function containsFloats(value: unknown, depth = 0): boolean {
  if (value instanceof Float) return true;
  if (typeof value !== "object" || value === null || depth > 256) return false;
  if (Array.isArray(value)) return value.some((v) => containsFloats(v, depth + 1));
  return isRecord(value) && Object.values(value).some((v) => containsFloats(v, depth + 1));
}

/**
 * The value with every {@linkcode Float} replaced by its number (arrays and
 * plain objects are copied where one was found), for code that wants plain
 * numbers: a zod schema checks what a `keepFloats` codec decoded this way.
 *
 * @param value anything
 * @returns the value without `Float`s
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { float } from "./float.ts";
 * import { unwrapFloats } from "./schema_floats.ts";
 *
 * assert.deepEqual(unwrapFloats([float(1), { x: float(2.5) }]), [1, { x: 2.5 }]);
 * ```
 */
export function unwrapFloats(value: unknown): unknown {
  if (value instanceof Float) return value.value;
  if (!containsFloats(value)) return value;
  if (Array.isArray(value)) return value.map(unwrapFloats);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map((
      [key, item],
    ) => [key, unwrapFloats(item)]),
  );
}
