/**
 * What a codec, a framing or a transport needs to test itself against
 * parley's contracts: an in-memory pair of message streams, and the
 * conformance suites parley's own codecs, framings and transports run (a
 * transport is driven through a {@linkcode TransportHarness}; see
 * {@linkcode memoryHarness} for one). Each
 * suite returns named cases (a function that throws when the behaviour is
 * wrong, or a reason the case cannot apply), so any test runner can run
 * them; {@linkcode testCases} registers them with `Deno.test`.
 *
 * @example Run the codec suite over a codec, in a test file
 * ```ts
 * import { codecSuite, memoryPair } from "./mod.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const cases = codecSuite("jsonRpc()", jsonRpc(), { numRuns: 5 });
 * // In a test file: testCases(cases). Here, the first case by hand:
 * await cases[0]!.fn();
 * const [a, b] = memoryPair();
 * await a.close();
 * await b.close();
 * ```
 *
 * @module
 */

export { memoryPair } from "../rpc/testing.ts";
export { collector, type SuiteCase, testCases } from "./cases.ts";
export { EXAMPLES } from "./codec_examples.ts";
export { codecSuite, type CodecSuiteOptions, type CodecSuiteSkips } from "./codec_suite.ts";
export {
  type Chunking,
  concat,
  decodeAll,
  encodeAll,
  firstRead,
  frameBytes,
  rechunk,
} from "./framing_helpers.ts";
export { framingSuite, type FramingSuiteOptions, type MakeFraming } from "./framing_suite.ts";
export {
  type RunningTransport,
  type TransportCannot,
  type TransportClient,
  type TransportHarness,
  type TransportServerOptions,
  transportService,
  transportSuite,
  type TransportSuiteOptions,
} from "./transport_suite.ts";
export { memoryHarness } from "./memory_harness.ts";
export { type NatsServerOptions, type NatsServerProcess, startNatsServer } from "./nats_server.ts";
export { type SelfSignedCertificate, selfSignedCertificate } from "./certificate.ts";
export {
  type CertifiedKey,
  makeMutualTlsCertificates,
  type MutualTlsCertificates,
} from "./mtls_certificates.ts";
