// RPyC's exposure rules for TypeScript objects, fuzzed: whatever name
// Python sends, it reaches only what was exposed (declared `exposed_…`,
// listed, or public with allowPublicAttrs), never a private name, a symbol
// or anything from the built-in prototypes.

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  AttributeRefusedError,
  exposedNames,
  type ExposureOptions,
  resolveName,
} from "../protocols/rpyc/_exposure.ts";

class Base {
  exposed_base(): number {
    return 1;
  }
  hiddenMethod(): number {
    return 2;
  }
}
class Derived extends Base {
  own = 3;
  _private = 4;
  exposed_mine = 5;
}
function fn(): void {}
(fn as unknown as Record<string, unknown>).exposed_tag = "t";

const samples: object[] = [
  { exposed_a: 1, b: 2, _c: 3, exposed__d: 4 },
  new Derived(),
  fn,
  Object.create(null, { exposed_z: { value: 1, enumerable: true } }),
  new Map([["k", 1]]),
];

const BUILT_IN = new Set<unknown>(
  [Object.prototype, Function.prototype, Map.prototype, Array.prototype].flatMap((p) =>
    Object.getOwnPropertyNames(p).map((n) => {
      try {
        return Reflect.get(p, n);
      } catch {
        return undefined;
      }
    })
  ).filter((v) => typeof v === "function"),
);

const DANGEROUS = [
  "constructor",
  "__proto__",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "bind",
  "call",
  "apply",
  "caller",
  "arguments",
  "__defineGetter__",
  "__lookupGetter__",
  "isPrototypeOf",
  "get",
  "set",
  "has",
  "exposed_constructor",
  "exposed___proto__",
  "exposed_toString",
  "hiddenMethod",
  "_private",
  "_c",
  "exposed__d",
  "length",
  "name",
];

const names = fc.oneof(
  fc.constantFrom(...DANGEROUS),
  fc.string(),
  fc.string().map((s) => `exposed_${s}`),
  fc.constantFrom("exposed_a", "a", "b", "own", "base", "mine", "tag", "z"),
  fc.anything(),
);

const policies = fc.record({
  expose: fc.option(fc.array(fc.constantFrom(...DANGEROUS, "b", "own")), { nil: undefined }),
  allowPublicAttrs: fc.boolean(),
});

Deno.test("fuzzed names never reach a private, built-in or undeclared property", () => {
  fc.assert(
    fc.property(names, policies, fc.constantFrom(...samples), (name, policy, value) => {
      const options = policy as ExposureOptions;
      let real: string;
      try {
        real = resolveName(value, name, options);
      } catch (e) {
        assert.ok(e instanceof AttributeRefusedError);
        return;
      }
      assert.equal(typeof name, "string");
      assert.ok(!real.startsWith("_"), real);
      assert.ok(!(name as string).startsWith("_"));
      const reached = Reflect.get(value, real);
      assert.ok(!BUILT_IN.has(reached), `${String(name)} reached a built-in`);
      const declared = real.startsWith("exposed_") && !real.slice(8).startsWith("_");
      const listed = options.expose?.includes(real) === true;
      assert.ok(declared || listed || options.allowPublicAttrs, `${String(name)} → ${real}`);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("exposed names: declared ones as themselves and without the prefix", () => {
  assert.deepEqual(exposedNames(samples[0]!, {}), ["a", "exposed_a"]);
  assert.deepEqual(exposedNames(new Derived(), {}), [
    "base",
    "exposed_base",
    "exposed_mine",
    "mine",
  ]);
  assert.deepEqual(exposedNames(new Derived(), { allowPublicAttrs: true }), [
    "base",
    "exposed_base",
    "exposed_mine",
    "hiddenMethod",
    "mine",
    "own",
  ]);
  assert.deepEqual(exposedNames(fn, { allowPublicAttrs: true }), ["exposed_tag", "tag"]);
  assert.throws(
    () => resolveName(new Derived(), "constructor", { expose: ["constructor"] }),
    AttributeRefusedError,
  );
  assert.throws(() => resolveName(new Map(), "get", { expose: ["get"] }), AttributeRefusedError);
  assert.equal(resolveName(samples[0]!, "b", { expose: ["b"] }), "b");
});
