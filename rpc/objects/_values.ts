/**
 * Values as they travel: plain data as it is, objects with behaviour (and
 * functions, and async iterables) by reference as tags, references that come
 * back made proxies again, plain objects with `$` keys escaped. Nesting is
 * bounded by `maxDepth` both ways.
 *
 * @module
 */

import { isPlainObject } from "./expose.ts";
import { ReferenceTag } from "./extension.ts";
import { invalidParams, tooDeep } from "./_errors.ts";
import { isReleased, type ProxyHost, proxyMeta, type Target } from "./_remote.ts";
import type { ReferenceTables } from "./_references.ts";
import { ExportedIterator } from "./_exported_iterator.ts";

/** An argument that is the outcome of an earlier call, awaited before the call runs. */
class AnswerSlot {
  constructor(readonly promise: Promise<unknown>) {}
}

/** Replaces the answer slots in decoded arguments with their outcomes. */
export async function fill(value: unknown): Promise<unknown> {
  if (value instanceof AnswerSlot) return await value.promise;
  if (Array.isArray(value)) return await Promise.all(value.map(fill));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = await fill(item);
    return out;
  }
  return value;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] ===
    "function";
}

// Values the codec carries as they are.
function isCodecValue(value: object): boolean {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date ||
    value instanceof Map || value instanceof Set;
}

/** How one session writes and reads values. */
export interface ValuesOptions {
  /** The session's proxy host: proxies of another host cannot be passed on. */
  readonly host: ProxyHost;
  /** The session's reference tables. */
  readonly tables: ReferenceTables;
  /** Makes the proxy of the other end's export `id` of type `type`. */
  readonly makeImport: (id: number, type: unknown) => object;
  /** References as the msgpack extension type instead of tagged objects. */
  readonly extension: boolean;
  /** Deepest nesting of a value, either way. */
  readonly maxDepth: number;
}

/** One session's boxing and unboxing of values. */
export class Values {
  readonly #host: ProxyHost;
  readonly #tables: ReferenceTables;
  readonly #makeImport: (id: number, type: unknown) => object;
  readonly #extension: boolean;
  readonly #maxDepth: number;

  /** @param options the session's parts and settings */
  constructor(options: ValuesOptions) {
    this.#host = options.host;
    this.#tables = options.tables;
    this.#makeImport = options.makeImport;
    this.#extension = options.extension;
    this.#maxDepth = options.maxDepth;
  }

  /** A reference tag in this session's form. */
  tag(tag: Record<string, unknown>): unknown {
    return this.#extension ? new ReferenceTag(tag) : tag;
  }

  /** A proxy's target as it travels. */
  target(target: Target): unknown {
    return target === null ? null : this.tag(target as Record<string, unknown>);
  }

  /**
   * A value as it travels: plain data as it is, objects with behaviour by
   * reference. All or nothing: when part of it is refused (too deep, too
   * many exports, a proxy that cannot travel), what boxing it exported is
   * unexported again, since the other end will never receive (and so never
   * release) those references.
   */
  toWire(value: unknown): unknown {
    return this.#allOrNothing((exported) => this.#box(value, 0, exported));
  }

  /** A call's arguments as they travel, each as {@linkcode toWire}, all or nothing together. */
  argumentsToWire(args: readonly unknown[]): unknown[] {
    return this.#allOrNothing((exported) => args.map((arg) => this.#box(arg, 0, exported)));
  }

  #allOrNothing<T>(box: (exported: number[]) => T): T {
    const exported: number[] = [];
    try {
      return box(exported);
    } catch (error) {
      this.#tables.unexport(exported);
      throw error;
    }
  }

  // Boxes `value` at `depth`, pushing the id of each export it makes on `exported`.
  #box(value: unknown, depth: number, exported: number[]): unknown {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) return value;
    if (depth > this.#maxDepth) throw tooDeep(this.#maxDepth);
    const meta = proxyMeta(value);
    if (meta !== undefined) {
      if (meta.host !== this.#host) {
        throw new TypeError("A reference from another connection cannot be passed on");
      }
      if (isReleased(value as object)) throw new Error("This remote reference was released");
      if (meta.kind === "import") return this.tag({ $you: meta.id });
      if (meta.kind === "answer" && meta.path.length === 0) return this.tag({ $answer: meta.id });
      throw new TypeError("Only remote objects and call results can be passed back");
    }
    if (typeof value === "function") return this.#export(value, "function", exported);
    // Copied only from the first item that boxing changes: plain data (a
    // stream's items, most results) travels as it is, without a copy.
    const item = (v: unknown) => this.#box(v, depth + 1, exported);
    if (Array.isArray(value)) return mapArray(value, item);
    if (isPlainObject(value)) {
      const keys = Object.keys(value);
      // With the extension, a map is never a reference: nothing to escape.
      const escape = !this.#extension && keys.some((key) => key.startsWith("$"));
      const plain = mapObject(value, keys, item, false);
      return escape ? { $esc: plain } : plain;
    }
    if (isCodecValue(value as object)) return value;
    if (isAsyncIterable(value)) {
      return this.#export(new ExportedIterator(value), "iterator", exported);
    }
    return this.#export(value, "object", exported);
  }

  #export(value: unknown, type: "object" | "function" | "iterator", exported: number[]): unknown {
    const id = this.#tables.export(value);
    exported.push(id);
    return this.tag({ $ref: id, type });
  }

  /**
   * A value as it arrived: references become proxies (or this end's own
   * objects). In a call's arguments (`answers` given), `$answer` tags become
   * slots that {@linkcode fill} replaces, and their outcomes are pushed on
   * `answers`; in a result they are invalid.
   */
  fromWire(value: unknown, answers: Promise<unknown>[] | undefined, depth = 0): unknown {
    if (value === null || typeof value !== "object") return value;
    if (value instanceof ReferenceTag) return this.#fromTag(value.tag, answers);
    if (depth > this.#maxDepth) throw tooDeep(this.#maxDepth);
    const item = (v: unknown) => this.fromWire(v, answers, depth + 1);
    if (Array.isArray(value)) return mapArray(value, item);
    if (!isPlainObject(value)) return value;
    const keys = Object.keys(value);
    if (!this.#extension && keys.length === 1 && keys[0] === "$esc" && isPlainObject(value.$esc)) {
      // Always a copy: the escaped object is the value, not its wrapper.
      const escaped = value.$esc;
      return mapObject(escaped, Object.keys(escaped), item, true);
    }
    const tagged = !this.#extension &&
      ((typeof value.$ref === "number" && keys.every((k) => k === "$ref" || k === "type")) ||
        (keys.length === 1 &&
          (typeof value.$you === "number" || typeof value.$answer === "number")));
    if (tagged) return this.#fromTag(value, answers);
    return mapObject(value, keys, item, false);
  }

  // A tag's meaning on this end: a proxy, this end's own object, or an answer.
  #fromTag(
    tag: Readonly<Record<string, unknown>>,
    answers: Promise<unknown>[] | undefined,
  ): unknown {
    if (typeof tag.$ref === "number") {
      const id = tag.$ref;
      return this.#tables.import(id, () => this.#makeImport(id, tag.type));
    }
    if (typeof tag.$you === "number") return this.#tables.exported(tag.$you);
    if (typeof tag.$answer === "number") {
      if (answers === undefined) throw invalidParams("An answer cannot travel in a result");
      const answer = this.#tables.answer(tag.$answer);
      answers.push(answer);
      return new AnswerSlot(answer);
    }
    throw invalidParams("Invalid params: an unknown reference tag");
  }
}

// `array` with `f` applied to each item; `array` itself when nothing changed.
function mapArray(array: readonly unknown[], f: (item: unknown) => unknown): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    const mapped = f(item);
    if (out === undefined && mapped !== item) out = array.slice(0, i);
    out?.push(mapped);
  }
  return out ?? array as unknown[];
}

// `object`'s `keys` with `f` applied to each value; `object` itself when
// nothing changed and no `copy` is asked for.
function mapObject(
  object: Record<string, unknown>,
  keys: readonly string[],
  f: (item: unknown) => unknown,
  copy: boolean,
): Record<string, unknown> {
  let out: Record<string, unknown> | undefined = copy ? {} : undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = object[key];
    const mapped = f(item);
    if (out === undefined && mapped !== item) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]!] = object[keys[j]!];
    }
    if (out !== undefined) out[key] = mapped;
  }
  return out ?? object;
}
