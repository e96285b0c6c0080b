/**
 * The long fuzz run, `deno task fuzz`: every codec × transport pair (or
 * those asked for), 100,000 inputs each by default, then a table of what
 * was found and every failure with the seeds that replay it.
 *
 * ```sh
 * deno task fuzz [--inputs N] [--seed S] [--pair NAME]... [--concurrency C] [--batch B]
 *                [--hang-ms MS] [--first I] [--replay SEED,SEED,...] [--pause MS]
 * ```
 *
 * `FUZZ_INPUTS` and `FUZZ_SEED` set the defaults of `--inputs` and `--seed`.
 * Exits 1 when an oracle failed, 2 on a usage error.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { pairByName, PAIRS } from "./_pairs.ts";
import { formatFailures, fuzzPair, mib, type PairReport } from "./_run.ts";

const USAGE = `Usage: deno task fuzz [options]

  --inputs N        inputs per pair (default $FUZZ_INPUTS or 100000)
  --seed S          the run's seed (default $FUZZ_SEED or 1)
  --pair NAME       only this pair (repeatable); pairs: ${PAIRS.map((p) => p.name).join(", ")}
  --concurrency C   connections at once (default 8)
  --batch B         inputs between two good-client checks (default 1000)
  --hang-ms MS      a connection without reply or close for this long is a hang (default 5000)
  --first I         start at input I of the seeded run (default 0)
  --replay SEEDS    send only these input seeds (comma-separated), one at a time
  --pause MS        after each input, wait this long for an exit (default 0; 250 with --replay)`;

function usage(message: string): never {
  console.error(`fuzz: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    usage(`--${name} must be a whole number, got "${text}"`);
  }
  return value;
}

const { values } = (() => {
  try {
    return parseArgs({
      args: Deno.args,
      options: {
        inputs: { type: "string" },
        seed: { type: "string" },
        pair: { type: "string", multiple: true },
        concurrency: { type: "string" },
        batch: { type: "string" },
        "hang-ms": { type: "string" },
        first: { type: "string" },
        replay: { type: "string" },
        pause: { type: "string" },
        help: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
})();
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}

const replay = values.replay?.split(",").map((seed) => integer("replay", seed.trim(), 0));
const pairs = (() => {
  try {
    return values.pair === undefined ? PAIRS : values.pair.map(pairByName);
  } catch (error) {
    return usage((error as Error).message);
  }
})();
const options = {
  inputs: integer("inputs", values.inputs ?? Deno.env.get("FUZZ_INPUTS"), 100_000),
  seed: integer("seed", values.seed ?? Deno.env.get("FUZZ_SEED"), 1),
  first: integer("first", values.first, 0),
  // A replay sends one input at a time, so that an exit has one culprit.
  concurrency: replay === undefined
    ? Math.max(1, integer("concurrency", values.concurrency, 8))
    : 1,
  batch: Math.max(1, integer("batch", values.batch, 1000)),
  hangMs: Math.max(1, integer("hang-ms", values["hang-ms"], 5000)),
  restart: true,
  // A replay waits a moment after each input, so that an exit is pinned on its input.
  pause: integer("pause", values.pause, replay === undefined ? 0 : 250),
  log: (line: string) => console.error(line),
  ...(replay === undefined ? {} : { replay }),
};

console.error(
  `fuzz: ${pairs.length} pair(s), ${
    replay?.length ?? options.inputs
  } input(s) each, seed ${options.seed}, ` +
    `${options.concurrency} connection(s) at once`,
);
const reports: PairReport[] = [];
for (const pair of pairs) {
  const report = await fuzzPair(pair, options);
  reports.push(report);
  console.error(
    `${pair.name}: ${report.inputs} inputs in ${(report.ms / 1000).toFixed(0)} s, ` +
      `${report.exits} exit(s), ${report.hangs} hang(s)`,
  );
}

const header = [
  "pair",
  "inputs",
  "process exits",
  "hangs",
  "good client failed",
  "peak RSS (server)",
  "peak RSS per connection",
  "4× frame limit",
  "seconds",
];
const rows = reports.map((r) => [
  r.pair,
  String(r.inputs),
  String(r.exits),
  String(r.hangs),
  String(r.goodClientFailures),
  mib(r.peakRss),
  mib(r.peakPerConnection),
  `${mib(4 * r.frameLimit)}${r.peakPerConnection > 4 * r.frameLimit ? " EXCEEDED" : ""}`,
  (r.ms / 1000).toFixed(0),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of rows) console.log(line(row));
console.log(
  `\nseed ${options.seed}, ${options.concurrency} connections at once, a hang is ${options.hangMs} ms ` +
    `without reply or close; per connection = (peak − RSS after the first call) / connections at once`,
);

for (const report of reports) {
  for (const [cause, count] of Object.entries(report.exitCauses)) {
    console.log(`${report.pair}: ${count} exit(s): ${cause}`);
  }
}

const failed = reports.filter((r) => r.failures.length > 0);
for (const report of failed) console.log(`\n${formatFailures(report)}`);
const exceeded = reports.some((r) => r.peakPerConnection > 4 * r.frameLimit);
Deno.exit(failed.length > 0 || exceeded ? 1 : 0);
