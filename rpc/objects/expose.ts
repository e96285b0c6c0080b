/**
 * What a remote-objects session lets the other end reach on an object it
 * holds by reference: nothing, unless the object says so. Plain objects
 * expose their own properties (like a service object); class instances
 * expose the members marked with {@linkcode exposed} or listed with
 * {@linkcode expose}; functions are callable and expose nothing else. Never
 * reachable: the prototype chain's own machinery (`constructor`,
 * `__proto__`, `prototype`), `then`, symbols and names starting with `_`.
 *
 * @module
 */

const byPrototype = new WeakMap<object, Set<string>>();
const byInstance = new WeakMap<object, Set<string>>();

const NEVER = new Set(["constructor", "__proto__", "prototype", "then", "toString", "valueOf"]);

function add(map: WeakMap<object, Set<string>>, target: object, names: Iterable<string>): void {
  let set = map.get(target);
  if (set === undefined) map.set(target, set = new Set());
  for (const name of names) set.add(name);
}

/**
 * Marks a class method, getter, accessor or field as reachable from the
 * other end of a remote-objects session (a TC39 decorator).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exposed, isExposed } from "./expose.ts";
 * class Counter {
 *   #n = 0;
 *   @exposed increment(by: number) { return this.#n += by; }
 *   reset() { this.#n = 0; } // not reachable remotely
 * }
 * const counter = new Counter();
 * assert.equal(isExposed(counter, "increment"), true);
 * assert.equal(isExposed(counter, "reset"), false);
 * ```
 */
export function exposed(
  _value: unknown,
  context: {
    readonly kind?: string;
    readonly name: string | symbol;
    addInitializer(init: (this: unknown) => void): void;
  },
  // deno-lint-ignore no-explicit-any
): any {
  if (typeof context.name !== "string") {
    throw new TypeError("Only string-named members can be exposed");
  }
  const name = context.name;
  const register = (instance: unknown) => {
    const prototype = Object.getPrototypeOf(instance);
    if (prototype !== null && typeof prototype === "object") add(byPrototype, prototype, [name]);
  };
  // A field: its initializer runs with each instance (initializers added to
  // fields do not always run, depending on the compiler).
  if (context.kind === "field") {
    return function (this: unknown, initial: unknown) {
      register(this);
      return initial;
    };
  }
  context.addInitializer(function (this: unknown) {
    register(this);
  });
}

/**
 * Exposes members of an object, or of every instance of a class (pass its
 * prototype), without decorators.
 *
 * @param target an object, or a class's prototype
 * @param names the members the other end may reach
 * @returns `target`
 * @throws {TypeError} for a name that can never be reached (`constructor`, `then`, `_private`…)
 *
 * @example Every instance of a class, or one object
 * ```ts
 * import assert from "node:assert/strict";
 * import { expose, isExposed } from "./expose.ts";
 *
 * class Account {
 *   balance = 10;
 *   deposit(amount: number) { return this.balance += amount; }
 *   close() {}
 * }
 * expose(Account.prototype, ["deposit"]); // every Account
 * const account = expose(new Account(), ["balance"]); // this one only
 * assert.equal(isExposed(account, "deposit"), true);
 * assert.equal(isExposed(account, "balance"), true);
 * assert.equal(isExposed(new Account(), "balance"), false);
 * assert.equal(isExposed(account, "close"), false);
 * assert.throws(() => expose(account, ["constructor"]), TypeError);
 * ```
 */
export function expose<T extends object>(target: T, names: readonly string[]): T {
  for (const name of names) {
    if (NEVER.has(name) || name.startsWith("_")) throw new TypeError(`"${name}" cannot be exposed`);
  }
  add(byInstance, target, names);
  return target;
}

/** Whether `value` is a plain object (its prototype is `Object.prototype` or `null`). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Whether the other end may reach `object[name]`.
 *
 * @param object the object held by reference
 * @param name the member asked for
 * @returns true when it is exposed
 *
 * @example Plain objects expose their own properties, nothing else does by default
 * ```ts
 * import assert from "node:assert/strict";
 * import { isExposed } from "./expose.ts";
 *
 * const service = { add: (a: number, b: number) => a + b, _cache: new Map() };
 * assert.equal(isExposed(service, "add"), true);
 * assert.equal(isExposed(service, "_cache"), false); // names starting with _ never are
 * assert.equal(isExposed(service, "toString"), false); // nor the prototype's machinery
 * assert.equal(isExposed(new Map(), "clear"), false); // a class instance, nothing marked
 * ```
 */
export function isExposed(object: unknown, name: unknown): boolean {
  if (typeof name !== "string" || NEVER.has(name) || name.startsWith("_")) return false;
  if (typeof object !== "object" || object === null) return false;
  if (isPlainObject(object)) return Object.hasOwn(object, name);
  if (byInstance.get(object)?.has(name)) return true;
  for (let o: object | null = object; o !== null; o = Object.getPrototypeOf(o)) {
    if (o === Object.prototype) break;
    if (byInstance.get(o)?.has(name) || byPrototype.get(o)?.has(name)) return true;
  }
  return false;
}
