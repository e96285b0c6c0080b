/**
 * What every suite of `./testing` returns: named cases, each a function that
 * throws when its behaviour is wrong, so that any test runner can run them.
 * A case that cannot apply to the thing under test is still listed, with the
 * reason it is skipped, so a report says what was not tested and why.
 *
 * @example Run the cases of a suite with `Deno.test`
 * ```ts
 * import assert from "node:assert/strict";
 * import { type SuiteCase, testCases } from "./cases.ts";
 *
 * const cases: SuiteCase[] = [
 *   { name: "adds", fn: () => assert.equal(1 + 2, 3) },
 *   { name: "sends notifications", skip: "the transport has no notifications", fn: () => {} },
 * ];
 * const runnable = cases.filter((c) => c.skip === undefined);
 * assert.deepEqual(runnable.map((c) => c.name), ["adds"]);
 * for (const c of runnable) await c.fn();
 * void testCases; // in a test file: testCases(cases)
 * ```
 *
 * @module
 */

/** One named case of a conformance suite. */
export interface SuiteCase {
  /** What the case shows, as a test name. */
  readonly name: string;
  /** Runs the case: resolves when the behaviour is right, throws otherwise. */
  readonly fn: () => void | Promise<void>;
  /** When present, the case cannot apply, and this says why. */
  readonly skip?: string;
}

/**
 * Registers cases with `Deno.test`, one test each; a skipped case is an
 * ignored test whose name carries the reason.
 *
 * @param cases the cases, from a suite of `./testing`
 * @param options `ignore`: ignore every case (a peer program is absent, say)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { testCases } from "./cases.ts";
 *
 * // In a test file (doc examples cannot register tests themselves):
 * const register: typeof testCases = testCases;
 * assert.equal(typeof register, "function");
 * ```
 */
export function testCases(
  cases: readonly SuiteCase[],
  options: { readonly ignore?: boolean } = {},
): void {
  for (const { name, fn, skip } of cases) {
    if (skip === undefined) {
      Deno.test({ name, ignore: options.ignore ?? false, fn: async () => await fn() });
    } else Deno.test({ name: `${name} (skipped: ${skip})`, ignore: true, fn: () => {} });
  }
}

/**
 * Collects cases while a suite is written the way tests are (`test(name,
 * fn)`), so a suite's body reads like a test file.
 *
 * @returns `test` to add a case, `skip` to list one that cannot apply, and
 * the `cases` collected
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { collector } from "./cases.ts";
 *
 * const { test, skip, cases } = collector();
 * test("adds", () => assert.equal(1 + 1, 2));
 * skip("batches", "no batches on the wire");
 * assert.deepEqual(cases.map((c) => [c.name, c.skip]), [
 *   ["adds", undefined],
 *   ["batches", "no batches on the wire"],
 * ]);
 * await cases[0]!.fn();
 * ```
 */
export function collector(): {
  test: (name: string, fn: () => void | Promise<void>) => void;
  skip: (name: string, reason: string) => void;
  cases: SuiteCase[];
} {
  const cases: SuiteCase[] = [];
  return {
    test: (name, fn) => void cases.push({ name, fn }),
    skip: (name, reason) => void cases.push({ name, fn: () => {}, skip: reason }),
    cases,
  };
}
