// Values in and out of the terminal: arguments parsed as JSON (big integers
// exact), results printed as JSON (bytes as base64, big integers exact).

import { UsageError } from "./endpoint.ts";
// msgpack's values that JSON has no type for: a str that is not UTF-8 prints
// as its text (U+FFFD where a byte is not), an unknown ext as {type, data}.
import { MsgpackExt, RawString } from "../codecs/msgpack_rpc.ts";

/**
 * Parses JSON keeping integers beyond 2^53 exact (as bigint), with the
 * parser's access to each number's source text.
 */
export function parseJson(text: string): unknown {
  return JSON.parse(text, (_key, value, context?: { source?: string }) => {
    if (
      typeof value === "number" && !Number.isSafeInteger(value) &&
      context?.source !== undefined && /^-?\d+$/.test(context.source)
    ) {
      return BigInt(context.source);
    }
    return value;
  });
}

function parseValue(text: string): unknown {
  try {
    return parseJson(text);
  } catch {
    return text; // not JSON: a string, as a shell user means it
  }
}

const NAMED = /^([A-Za-z_$][\w.$-]*)=(.*)$/s;

/**
 * The params of `call`: JSON values (positional), or `key=value` pairs
 * (named; the value as JSON, else as a string). No arguments: no params.
 *
 * @throws {UsageError} when positional and named are mixed
 */
export function paramsOf(args: readonly string[]): unknown[] | Record<string, unknown> | undefined {
  if (args.length === 0) return undefined;
  const named = args.map((arg) => {
    const match = NAMED.exec(arg);
    // `{"a":1}` or `"x=y"` are JSON values, not key=value pairs.
    return match !== null && !/^[[{"]/.test(arg) ? match : undefined;
  });
  if (named.every((m) => m !== undefined)) {
    return Object.fromEntries(named.map((m) => [m![1]!, parseValue(m![2]!)]));
  }
  if (named.some((m) => m !== undefined)) {
    throw new UsageError(
      "Arguments are either all positional (JSON values) or all named (key=value), not both",
    );
  }
  return args.map(parseValue);
}

/** A value as JSON text: bigints as exact numbers, bytes as base64, maps as objects. */
export function toJson(value: unknown, indent = 2): string {
  const marks = new Map<string, string>();
  let next = 0;
  const text = JSON.stringify(value, function (key, item) {
    const raw = (this as Record<string, unknown>)[key];
    if (typeof raw === "bigint") {
      const mark = `\u0000big${next++}\u0000`;
      marks.set(mark, raw.toString());
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
