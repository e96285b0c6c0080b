// Answers to Python's requests on the objects this side serves
// (protocol.py's `_handle_*`), with RPyC's exposure rules and Python's
// protocol methods (`__len__`, `__iter__`, `__getitem__`…) mapped onto
// JavaScript's. A handler may be async; what it throws becomes the
// exception reply Python raises (see ./_raise.ts).

import { type BrineValue, FrozenSet, NotImplemented } from "./brine.ts";
import {
  AttributeRefusedError,
  exposedNames,
  type ExposureOptions,
  resolveName,
} from "./_exposure.ts";
import { HANDLE } from "./messages.ts";
import { PythonException } from "./_raise.ts";

/** What the handlers need from their session. */
export interface ServeContext {
  /** The root object (GETROOT), if this side serves one. */
  readonly root: object | undefined;
  /** Which attributes are reachable. */
  readonly exposure: ExposureOptions;
  /** The object an id pack names (INSPECT). */
  local(idPack: unknown): object;
  /** The local object a netref Python holds names, for identity (CMP). */
  readonly isLocal: (value: unknown) => value is object;
  /** A short number naming an object (HASH). */
  idOf(value: object): number;
}

/** Iterators handed to Python: `__next__` steps them. */
class ServedIterator {
  readonly it: Iterator<unknown> | AsyncIterator<unknown>;
  constructor(it: Iterator<unknown> | AsyncIterator<unknown>) {
    this.it = it;
  }
}

const boundMethods = new WeakMap<object, Map<string, unknown>>();

/** Runs handler `handler` with its unboxed `args`; the result is boxed by the caller. */
export function serveRequest(
  handler: unknown,
  args: readonly unknown[],
  ctx: ServeContext,
): unknown {
  const [obj, a, b, c] = args;
  switch (handler) {
    case HANDLE.PING:
      return obj;
    case HANDLE.GETROOT:
      if (ctx.root === undefined) {
        throw new PythonException("ValueError", "This side serves no root");
      }
      return ctx.root;
    case HANDLE.GETATTR:
      return getattr(target(obj, ctx), a, ctx);
    case HANDLE.SETATTR:
    case HANDLE.DELATTR: {
      const o = target(obj, ctx);
      if (!ctx.exposure.allowSetattr) throw new AttributeRefusedError(String(a));
      const name = resolveName(o, a, ctx.exposure);
      if (handler === HANDLE.SETATTR) Reflect.set(o, name, b);
      else Reflect.deleteProperty(o, name);
      return null;
    }
    case HANDLE.CALL:
      return call(target(obj, ctx), undefined, a, b);
    case HANDLE.CALLATTR:
      return callattr(target(obj, ctx), a, b, c, ctx);
    case HANDLE.REPR:
      return reprOf(target(obj, ctx), ctx);
    case HANDLE.STR:
      return strOf(target(obj, ctx), ctx);
    case HANDLE.HASH:
      return ctx.idOf(target(obj, ctx));
    case HANDLE.DIR:
      return exposedNames(target(obj, ctx), ctx.exposure);
    case HANDLE.CMP:
      return compare(target(obj, ctx), a, b);
    case HANDLE.INSPECT:
      return inspect(ctx.local(obj), ctx);
    case HANDLE.BUFFITER:
      return buffiter(target(obj, ctx), a);
    case HANDLE.INSTANCECHECK:
      return false;
    default: {
      const name = Object.entries(HANDLE).find(([, v]) => v === handler)?.[0];
      const which = name ?? `#${String(handler)}`;
      throw new PythonException("ValueError", `parley does not serve handler ${which}`);
    }
  }
}

function target(obj: unknown, ctx: ServeContext): object {
  if (ctx.isLocal(obj)) return obj;
  throw new PythonException("TypeError", "the request names no object this side serves");
}

function getattr(o: object, name: unknown, ctx: ServeContext): unknown {
  const real = resolveName(o, name, ctx.exposure);
  const value = Reflect.get(o, real);
  if (typeof value !== "function") return value;
  // Bound once per name, so that Python sees one object for `x.f` each time.
  let bound = boundMethods.get(o);
  if (!bound) boundMethods.set(o, bound = new Map());
  const known = bound.get(real);
  if (known) return known;
  const method = (...args: unknown[]) => Reflect.apply(value, o, args);
  Object.defineProperty(method, "name", { value: String(name) });
  bound.set(real, method);
  return method;
}

// kwargs reach the function as a last plain object (null prototype), only
// when Python passed some: Python never sends a plain object positionally.
function call(fn: object, self: unknown, args: unknown, kwargs: unknown): unknown {
  if (typeof fn !== "function") {
    throw new PythonException("TypeError", `'${typeName(fn)}' object is not callable`);
  }
  const positional = Array.isArray(args) ? [...args] : [];
  if (Array.isArray(kwargs) && kwargs.length > 0) {
    const named: Record<string, unknown> = Object.create(null);
    for (const pair of kwargs) {
      if (Array.isArray(pair) && typeof pair[0] === "string") named[pair[0]] = pair[1];
    }
    positional.push(Object.freeze(named));
  }
  return Reflect.apply(fn, self, positional);
}

function callattr(
  o: object,
  name: unknown,
  args: unknown,
  kwargs: unknown,
  ctx: ServeContext,
): unknown {
  const list = Array.isArray(args) ? args : [];
  switch (name) {
    case "__call__":
      return call(o, undefined, args, kwargs);
    case "__iter__":
      return iterate(o);
    case "__next__":
      return next(o);
    case "__len__":
      return lengthOf(o);
    case "__getitem__":
      return getitem(o, list[0], ctx);
    case "__contains__":
      return contains(o, list[0], ctx);
    case "__str__":
      return strOf(o, ctx);
    case "__repr__":
      return reprOf(o, ctx);
    case "__hash__":
      return ctx.idOf(o);
    case "__dir__":
      return exposedNames(o, ctx.exposure);
    case "__eq__":
    case "__ne__":
      return compare(o, list[0], name);
  }
  const real = resolveName(o, name, ctx.exposure);
  return call(Reflect.get(o, real) as object, o, args, kwargs);
}

function iterate(o: object): ServedIterator {
  if (o instanceof ServedIterator) return o;
  // A Map iterates as a dict does: its keys.
  if (o instanceof Map) return new ServedIterator(o.keys());
  const sync = (o as Partial<Iterable<unknown>>)[Symbol.iterator];
  if (typeof sync === "function") return new ServedIterator(sync.call(o));
  const asyncIt = (o as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator];
  if (typeof asyncIt === "function") return new ServedIterator(asyncIt.call(o));
  throw new PythonException("TypeError", `'${typeName(o)}' object is not iterable`);
}

async function next(o: object): Promise<unknown> {
  if (!(o instanceof ServedIterator)) {
    throw new PythonException("TypeError", `'${typeName(o)}' object is not an iterator`);
  }
  const step = await o.it.next();
  if (step.done) throw new PythonException("StopIteration", "");
  return step.value;
}

async function buffiter(o: object, count: unknown): Promise<unknown[]> {
  const it = iterate(o);
  const n = typeof count === "number" ? Math.min(count, 10_000) : 0;
  const out: unknown[] = [];
  while (out.length < n) {
    const step = await it.it.next();
    if (step.done) break;
    out.push(step.value);
  }
  return out;
}

function lengthOf(o: object): number {
  if (o instanceof Map || o instanceof Set) return o.size;
  if (ArrayBuffer.isView(o) && "length" in o) return Number(o.length);
  throw new PythonException("TypeError", `object of type '${typeName(o)}' has no len()`);
}

function getitem(o: object, key: unknown, ctx: ServeContext): unknown {
  if (o instanceof Map) {
    if (!o.has(key)) throw new PythonException("KeyError", String(key));
    return o.get(key);
  }
  if (ArrayBuffer.isView(o) && "length" in o && typeof key === "number") {
    const array = o as unknown as ArrayLike<unknown>;
    const i = key < 0 ? array.length + key : key;
    if (!(i >= 0 && i < array.length)) {
      throw new PythonException("IndexError", "index out of range");
    }
    return array[i];
  }
  if (typeof key !== "string") throw new PythonException("KeyError", String(key));
  try {
    return getattr(o, key, ctx);
  } catch (e) {
    throw new PythonException("KeyError", e instanceof Error ? e.message : String(key));
  }
}

function contains(o: object, key: unknown, ctx: ServeContext): boolean {
  if (o instanceof Map || o instanceof Set) return o.has(key);
  try {
    resolveName(o, key, ctx.exposure);
    return true;
  } catch {
    return false;
  }
}

function compare(o: object, other: unknown, op: unknown): unknown {
  if (op === "__eq__") return o === other;
  if (op === "__ne__") return o !== other;
  return NotImplemented;
}

// What INSPECT answers: the methods Python's netref class gets, as
// `(name, doc)` pairs; each becomes one CALLATTR. Attributes that are not
// functions are left out: Python reaches them through GETATTR.
function inspect(o: object, ctx: ServeContext): BrineValue {
  const names: string[] = [];
  if (typeof o === "function") names.push("__call__");
  if (o instanceof ServedIterator) names.push("__iter__", "__next__");
  else if (Symbol.iterator in o || Symbol.asyncIterator in o) names.push("__iter__");
  if (o instanceof Map || o instanceof Set || ArrayBuffer.isView(o)) names.push("__len__");
  names.push("__getitem__", "__contains__");
  for (const name of exposedNames(o, ctx.exposure)) {
    try {
      const d = descriptor(o, resolveName(o, name, ctx.exposure));
      if (typeof d?.value === "function") names.push(name);
    } catch {
      // Not reachable after all.
    }
  }
  return names.map((name) => [name, ""]);
}

function descriptor(o: object, name: string): PropertyDescriptor | undefined {
  for (let p: object | null = o; p !== null; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d) return d;
  }
  return undefined;
}

function typeName(o: unknown): string {
  if (typeof o === "function") return "function";
  if (typeof o !== "object" || o === null) return typeof o;
  return Object.getPrototypeOf(o)?.constructor?.name ?? "Object";
}

function reprOf(o: object, ctx: ServeContext): string {
  if (typeof o === "function") return `<parley function ${o.name || "anonymous"} #${ctx.idOf(o)}>`;
  return `<parley ${typeName(o)} object #${ctx.idOf(o)}>`;
}

// A class's own toString is the object's str(); the built-in one says
// nothing, so repr stands in.
function strOf(o: object, ctx: ServeContext): string {
  const toString = (o as { toString?: unknown }).toString;
  if (
    typeof toString === "function" && toString !== Object.prototype.toString &&
    toString !== Function.prototype.toString && !(o instanceof FrozenSet)
  ) return String(Reflect.apply(toString, o, []));
  return reprOf(o, ctx);
}
