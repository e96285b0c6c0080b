/**
 * The fuzz suite of `deno task test`: for every codec × transport pair, a
 * real calculator process gets a bounded, seeded run of hostile inputs
 * (mutated valid frames, random bytes, framing, HTTP and WebSocket attacks),
 * and the oracles are strict: the process never exits, every connection is
 * answered or closed within the bound, and after every batch a good client
 * on a fresh connection gets `add(1, 2) = 3`. `FUZZ_SEED` changes the seed;
 * the long run is `deno task fuzz` (tests/fuzz/main.ts).
 *
 * KNOWN_FAILURES lists failures being fixed elsewhere, each by its pair, its
 * oracle and a signature in what the server printed: while one is listed,
 * its pair's run restarts the server after such an exit and goes on, every
 * other failure still fails the test, and the known one is printed. Its own
 * test, ignored unless `FUZZ_KNOWN_FAILURES=1`, runs the pair with nothing
 * excused. Remove the entry when the fix lands.
 */

import assert from "node:assert/strict";
import { PAIRS } from "./_pairs.ts";
import {
  type Failure,
  formatFailures,
  fuzzPair,
  type PairReport,
  type RunOptions,
} from "./_run.ts";

/** Inputs per pair: a few seconds each, well under a minute for the suite on two cores. */
const INPUTS = 300;
const OPTIONS: RunOptions = {
  inputs: INPUTS,
  seed: Number(Deno.env.get("FUZZ_SEED") ?? 0x5eed),
  concurrency: 4,
  batch: 50,
  hangMs: 5_000,
  restart: false,
};

/** A failure with a known cause, fixed elsewhere. */
interface KnownFailure {
  readonly pairs: readonly string[];
  readonly oracle: Failure["oracle"];
  /** Found in the failure's detail (for an exit, the server's last stderr). */
  readonly signature: RegExp;
  /** What fails, and where it is being fixed. */
  readonly why: string;
}

// Empty: the WebSocket crashes the suite found (an enqueue into a closed
// stream, an unhandled rejection from send()) were fixed in issue 16.
const KNOWN_FAILURES: readonly KnownFailure[] = [];

const isKnown = (pair: string) => (failure: Failure) =>
  KNOWN_FAILURES.some((known) =>
    known.pairs.includes(pair) && known.oracle === failure.oracle &&
    known.signature.test(failure.detail)
  );

function assertClean(report: PairReport, excused: (failure: Failure) => boolean): void {
  for (const failure of report.failures.filter(excused)) {
    // One line each: the error, and the seeds in flight (the full report is the known test's).
    const error = /^error: .*$/m.exec(failure.detail)?.[0] ?? failure.detail.split("\n")[0];
    console.warn(
      `KNOWN FAILURE excused: ${report.pair}: ${failure.oracle}: ${error}; inputs ${
        failure.inputs.map((input) => `${input.seed} (${input.kind}, ${input.when})`).join(", ")
      }`,
    );
  }
  const rest = report.failures.filter((failure) => !excused(failure));
  assert.equal(rest.length, 0, `\n${formatFailures({ ...report, failures: rest })}`);
  assert.ok(report.inputs > 0, "no input was sent");
  // Every connection was answered or closed; none refused, but while an
  // excused exit was under way.
  if (report.exits === 0) {
    assert.equal(report.outcomes.replied + report.outcomes.closed, report.inputs);
  }
}

for (const pair of PAIRS) {
  const known = KNOWN_FAILURES.some((k) => k.pairs.includes(pair.name));
  Deno.test(
    `fuzz ${pair.name}: ${INPUTS} seeded inputs; the server lives, answers or closes every ` +
      `connection, and serves a good client after each batch${
        known ? " (known failures excused)" : ""
      }`,
    async () => {
      // With a known exit excused, the run goes on after it with a new server.
      const report = await fuzzPair(pair, { ...OPTIONS, restart: known });
      assertClean(report, isKnown(pair.name));
    },
  );
}

for (const pair of PAIRS) {
  const known = KNOWN_FAILURES.filter((k) => k.pairs.includes(pair.name));
  if (known.length === 0) continue;
  Deno.test({
    name: `KNOWN FAILURE ${pair.name}, nothing excused: ${known.map((k) => k.why).join("; ")}`,
    ignore: Deno.env.get("FUZZ_KNOWN_FAILURES") !== "1",
    fn: async () => {
      assertClean(await fuzzPair(pair, OPTIONS), () => false);
    },
  });
}
