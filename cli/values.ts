// Values in and out of the terminal: arguments parsed as JSON (big integers
// exact), results printed as JSON (bytes as base64, big integers exact).

import { Float } from "../rpc/float.ts";
import { UsageError } from "./endpoint.ts";
// msgpack's values that JSON has no type for: a str that is not UTF-8 prints
// as its text (U+FFFD where a byte is not), an unknown ext as {type, data}.
import { MsgpackExt, RawString } from "../codecs/msgpack_rpc.ts";

/**
 * Parses JSON keeping integers beyond 2^53 exact (as bigint), with the
 * parser's access to each number's source text. With `tagged`, for codecs
 * without a schema, the values JSON has no words for: a number written with
 * a point or an exponent (`2.0`, `1e3`) is a double ({@linkcode Float}), and
 * `{"$float": "NaN"}` (or a number, `"Infinity"`, `"-Infinity"`) and
 * `{"$bytes": "<base64>"}` are a double and bytes.
 */
export function parseJson(text: string, tagged = false): unknown {
  return JSON.parse(text, (_key, value, context?: { source?: string }) => {
    const source = context?.source;
    if (typeof value === "number" && source !== undefined) {
      if (/^-?\d+$/.test(source)) return Number.isSafeInteger(value) ? value : BigInt(source);
      return tagged ? new Float(value) : value;
    }
    return tagged ? fromTag(value) : value;
  });
}

const FLOAT_WORDS: Record<string, number> = {
  NaN: NaN,
  Infinity: Infinity,
  "-Infinity": -Infinity,
};

// `{"$bytes": …}` and `{"$float": …}`: values that JSON has no type for.
function fromTag(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1) return value;
  const tagged = (value as Record<string, unknown>)[keys[0]!];
  if (keys[0] === "$bytes") {
    if (typeof tagged !== "string") throw new UsageError('{"$bytes": …} takes base64 text');
    try {
      return Uint8Array.fromBase64(tagged);
    } catch {
      throw new UsageError(`{"$bytes": ${JSON.stringify(tagged)}} is not base64`);
    }
  }
  if (keys[0] === "$float") {
    const number = tagged instanceof Float
      ? tagged.value
      : typeof tagged === "number"
      ? tagged
      : FLOAT_WORDS[String(tagged)];
    if (number === undefined) {
      throw new UsageError('{"$float": …} takes a number, "NaN", "Infinity" or "-Infinity"');
    }
    return new Float(number);
  }
  return value;
}

function parseValue(text: string, tagged: boolean): unknown {
  let parsed;
  try {
    parsed = parseJson(text, tagged);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    return text; // not JSON: a string, as a shell user means it
  }
  return parsed;
}

const NAMED = /^([A-Za-z_$][\w.$-]*)=(.*)$/s;

/**
 * The params of `call`: JSON values (positional), or `key=value` pairs
 * (named; the value as JSON, else as a string). No arguments: no params.
 *
 * @throws {UsageError} when positional and named are mixed
 */
export function paramsOf(
  args: readonly string[],
  tagged = false,
): unknown[] | Record<string, unknown> | undefined {
  if (args.length === 0) return undefined;
  const named = args.map((arg) => {
    const match = NAMED.exec(arg);
    // `{"a":1}` or `"x=y"` are JSON values, not key=value pairs.
    return match !== null && !/^[[{"]/.test(arg) ? match : undefined;
  });
  if (named.every((m) => m !== undefined)) {
    return Object.fromEntries(named.map((m) => [m![1]!, parseValue(m![2]!, tagged)]));
  }
  if (named.some((m) => m !== undefined)) {
    throw new UsageError(
      "Arguments are either all positional (JSON values) or all named (key=value), not both",
    );
  }
  return args.map((arg) => parseValue(arg, tagged));
}

/**
 * A value as JSON text: bigints as exact numbers, doubles as doubles
 * (`2.0`; `NaN` and `Infinity` as Python's json writes them), bytes as
 * base64, maps as objects.
 */
export function toJson(value: unknown, indent = 2): string {
  const marks = new Map<string, string>();
  let next = 0;
  const text = JSON.stringify(value, function (key, item) {
    const raw = (this as Record<string, unknown>)[key];
    if (typeof raw === "bigint" || raw instanceof Float) {
      const mark = `\u0000big${next++}\u0000`;
      marks.set(mark, String(raw));
      return mark;
    }
    if (raw instanceof Uint8Array) return raw.toBase64();
    if (raw instanceof RawString) return String(raw);
    if (raw instanceof MsgpackExt) return { type: raw.type, data: raw.data.toBase64() };
    if (raw instanceof Map) {
      const entries = [...raw];
      return entries.every(([k]) => typeof k === "string") ? Object.fromEntries(entries) : entries;
    }
    if (raw instanceof Set) return [...raw];
    if (item === undefined) return null;
    return item;
  }, indent) ?? "null";
  // Big integers go out as JSON numbers with every digit.
  return text.replace(/"\\u0000big\d+\\u0000"/g, (quoted) => marks.get(JSON.parse(quoted))!);
}
