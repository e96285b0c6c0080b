// RPyC's exposure rules (protocol.py `_check_attr`), for TypeScript
// objects: which attribute names Python may reach. A name is served when
// the object declares it with the `exposed_` prefix (reachable as
// `exposed_x` and as `x`), when the serving side listed it (`expose`), or,
// with `allowPublicAttrs`, when it is an own enumerable property or a method
// of the object's own classes. Never a name starting with `_`, never a
// symbol, never anything found on a built-in prototype (Object.prototype,
// Function.prototype…: `constructor`, `__proto__`, `toString`, `bind`,
// `call`, `apply`), never `constructor`/`prototype`/`caller`/`arguments`.

/** Which attributes of the served objects Python may reach. */
export interface ExposureOptions {
  /** Names exposed as they are, besides those declared `exposed_…`. */
  readonly expose?: readonly string[];
  /**
   * Exposes every public name (own enumerable properties and methods of
   * the object's own classes), as RPyC's `allow_public_attrs`; off by default.
   */
  readonly allowPublicAttrs?: boolean;
  /** Lets Python set and delete exposed attributes (`allow_setattr`, `allow_delattr`); off by default. */
  readonly allowSetattr?: boolean;
}

/** Python raises `AttributeError` for it. */
export class AttributeRefusedError extends Error {
  /** Python's exception type for it. */
  readonly pythonType = "AttributeError";
  /** @param name the name refused */
  constructor(name: string) {
    super(`cannot access ${JSON.stringify(name)}`);
    this.name = "AttributeRefusedError";
  }
}

const PREFIX = "exposed_";
const NEVER = new Set(["constructor", "prototype", "__proto__", "caller", "arguments", "callee"]);

const nativeCache = new WeakMap<object, boolean>();

// Prototypes of the language and platform: nothing on them is served.
function builtIn(proto: object): boolean {
  if (proto === Object.prototype || proto === Function.prototype) return true;
  let native = nativeCache.get(proto);
  if (native === undefined) {
    const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
    // A class of the program has source text; a native one says [native code].
    native = typeof ctor !== "function" ||
      /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(ctor));
    nativeCache.set(proto, native);
  }
  return native;
}

// Where `name` is found on `value` or the program's part of its chain.
function owner(value: object, name: string, ownOnly: boolean): object | undefined {
  for (let o: object | null = value; o !== null; o = Object.getPrototypeOf(o)) {
    if (o !== value && builtIn(o)) return undefined;
    const d = Object.getOwnPropertyDescriptor(o, name);
    if (d !== undefined) return ownOnly && o === value && !d.enumerable ? undefined : o;
    if (ownOnly && o === value && typeof value !== "function" && !isClassInstance(value)) {
      return undefined;
    }
  }
  return undefined;
}

function isClassInstance(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto !== null && !builtIn(proto);
}

function safe(name: unknown): name is string {
  return typeof name === "string" && name !== "" && !name.startsWith("_") && !NEVER.has(name);
}

/**
 * The real property name Python's `name` reaches on `value`.
 *
 * @throws {AttributeRefusedError} when it is not exposed
 */
export function resolveName(value: object, name: unknown, options: ExposureOptions): string {
  // Not String(name): a name that is not a string may not even convert.
  if (!safe(name)) throw new AttributeRefusedError(typeof name === "string" ? name : typeof name);
  const declared = name.startsWith(PREFIX) ? name : PREFIX + name;
  if (safe(declared.slice(PREFIX.length)) && owner(value, declared, false)) return declared;
  if (options.expose?.includes(name) && owner(value, name, false)) return name;
  if (options.allowPublicAttrs && owner(value, name, true)) return name;
  throw new AttributeRefusedError(name);
}

/** The names Python's `dir()` shows: every name {@linkcode resolveName} accepts. */
export function exposedNames(value: object, options: ExposureOptions): string[] {
  const names = new Set<string>();
  for (let o: object | null = value; o !== null; o = Object.getPrototypeOf(o)) {
    if (o !== value && builtIn(o)) break;
    for (const name of Object.getOwnPropertyNames(o)) names.add(name);
  }
  const out = new Set<string>();
  for (const name of names) {
    for (const candidate of [name, name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name]) {
      try {
        resolveName(value, candidate, options);
        out.add(candidate);
      } catch {
        // Not exposed.
      }
    }
  }
  return [...out].sort();
}
