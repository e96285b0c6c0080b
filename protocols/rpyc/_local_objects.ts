// The objects this side of a connection serves (protocol.py's
// `_local_objects`): each boxed TypeScript function or object gets an id
// pack and a count of how many times it was sent; Python's DEL gives counts
// back, and the entry goes at zero. Bounded, so that a peer cannot make the
// table grow without end; everything goes when the connection ends.

import { LimitError } from "../../rpc/errors.ts";
import type { IdPack } from "./messages.ts";

/** What Python raises for an id it was never given (its `KeyError`). */
export class UnknownObjectError extends Error {
  /** Python's exception type for it. */
  readonly pythonType = "KeyError";
  /** Says which id pack is unknown. */
  constructor(idPack: unknown) {
    super(`No object of this connection has the id pack ${JSON.stringify(idPack, plain)}`);
    this.name = "UnknownObjectError";
  }
}

function plain(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

interface Entry {
  readonly value: object;
  readonly idPack: IdPack;
  count: number;
}

// Type ids per constructor, shared by all connections like Python's
// `id(type(obj))`; weak, so that a class dropped by the program goes.
const typeIds = new WeakMap<object, number>();
let nextTypeId = 1;
const FUNCTION_TYPE = nextTypeId++;
const OBJECT_TYPE = nextTypeId++;

function typeIdOf(value: object): number {
  if (typeof value === "function") return FUNCTION_TYPE;
  const proto = Object.getPrototypeOf(value);
  if (proto === null || proto === Object.prototype) return OBJECT_TYPE;
  let id = typeIds.get(proto);
  if (id === undefined) typeIds.set(proto, id = nextTypeId++);
  return id;
}

/**
 * The name pack Python sees. A function is `builtins.function`, so that
 * Python's netref class for functions (whose `__call__` sends CALL) serves
 * it without asking; any other object gets `parley.<ClassName>`, a name no
 * Python module has, so Python asks INSPECT which methods it has.
 */
export function namePackOf(value: object): string {
  if (typeof value === "function") return "builtins.function";
  const proto = Object.getPrototypeOf(value);
  const ctor = proto === null ? undefined : Object.getOwnPropertyDescriptor(proto, "constructor");
  const name = typeof ctor?.value === "function" ? String(ctor.value.name) : "";
  const clean = name.replace(/[^A-Za-z0-9_]/g, "");
  return `parley.${clean === "" ? "Object" : clean}`;
}

/** A connection's table of served objects. */
export class LocalObjects {
  readonly #byValue = new Map<object, Entry>();
  readonly #byId = new Map<string, Entry>();
  readonly #limit: number;
  #nextId = 1;

  /** @param limit the most objects held at once */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** How many objects are held. */
  get size(): number {
    return this.#byValue.size;
  }

  /**
   * Registers `value` (once more) and gives its id pack.
   *
   * @throws {LimitError} when the table is full
   */
  box(value: object): IdPack {
    const known = this.#byValue.get(value);
    if (known) {
      known.count++;
      return known.idPack;
    }
    if (this.#byValue.size >= this.#limit) {
      throw new LimitError(
        "maxLocalObjects",
        this.#limit,
        "Cannot pass one more object to Python: this connection holds too many",
      );
    }
    const entry: Entry = {
      value,
      idPack: [namePackOf(value), typeIdOf(value), this.#nextId++],
      count: 1,
    };
    this.#byValue.set(value, entry);
    this.#byId.set(keyOf(entry.idPack), entry);
    return entry.idPack;
  }

  /**
   * The object an id pack names.
   *
   * @throws {UnknownObjectError} when this side never gave it (or it was deleted)
   */
  get(idPack: unknown): object {
    const entry = Array.isArray(idPack) ? this.#byId.get(keyOf(idPack)) : undefined;
    if (entry === undefined) throw new UnknownObjectError(idPack);
    return entry.value;
  }

  /** Whether `value` is held. */
  has(value: unknown): value is object {
    return typeof value === "object" && value !== null || typeof value === "function"
      ? this.#byValue.has(value as object)
      : false;
  }

  /** The number that names a held object (its id pack's last part). */
  idOf(value: object): number {
    return Number(this.#byValue.get(value)?.idPack[2] ?? 0);
  }

  /** The id pack of a held object. */
  idPackOf(value: unknown): IdPack {
    const entry = this.has(value) ? this.#byValue.get(value) : undefined;
    if (entry === undefined) throw new UnknownObjectError(value);
    return entry.idPack;
  }

  /** Python's DEL: gives back `count` references (all of them, at most). */
  decref(idPack: unknown, count: unknown): void {
    const entry = Array.isArray(idPack) ? this.#byId.get(keyOf(idPack)) : undefined;
    if (entry === undefined) throw new UnknownObjectError(idPack);
    const n = typeof count === "number" || typeof count === "bigint" ? Number(count) : NaN;
    if (!(n >= 1)) throw new RangeError(`DEL needs a count of 1 or more, not ${String(count)}`);
    entry.count -= n;
    if (entry.count <= 0) {
      this.#byValue.delete(entry.value);
      this.#byId.delete(keyOf(entry.idPack));
    }
  }

  /** Drops everything (the connection ended). */
  clear(): void {
    this.#byValue.clear();
    this.#byId.clear();
  }
}

function keyOf(idPack: readonly unknown[]): string {
  return idPack.map(String).join("\u0000");
}
