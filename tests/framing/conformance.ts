/**
 * The framing suite of `./testing`, registered with `Deno.test` for this
 * repository's framing tests, and its helpers, which other tests import
 * from here.
 *
 * @module
 */

import { testCases } from "../../testing/cases.ts";
import {
  framingSuite,
  type FramingSuiteOptions,
  type MakeFraming,
} from "../../testing/framing_suite.ts";

export * from "../../testing/framing_helpers.ts";

/**
 * Registers the framing suite's cases with `Deno.test`.
 *
 * @param name how test names call the framing, such as `"lengthPrefix()"`
 * @param make makes the framing with a given limit
 * @param options what the suite needs to know about it
 */
export function runFramingSuite(
  name: string,
  make: MakeFraming,
  options: FramingSuiteOptions,
): void {
  testCases(framingSuite(name, make, options));
}
