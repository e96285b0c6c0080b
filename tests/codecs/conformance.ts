/**
 * The codec suite of `./testing`, registered with `Deno.test` for this
 * repository's codec tests.
 *
 * @module
 */

import { testCases } from "../../testing/cases.ts";
import { codecSuite, type CodecSuiteOptions } from "../../testing/codec_suite.ts";
import type { Codec } from "../../rpc/types.ts";

export { EXAMPLES, messageArbitrary, valueArbitrary } from "../../testing/codec_examples.ts";

/**
 * Registers the codec suite's cases with `Deno.test`.
 *
 * @param name the name the tests are reported under
 * @param codec the codec under test
 * @param options what the codec carries and cannot do
 */
export function runCodecSuite(name: string, codec: Codec, options: CodecSuiteOptions = {}): void {
  testCases(codecSuite(name, codec, options));
}
