/**
 * Exact values across languages: `python/contract_values.py` sends random
 * values of every type of the interop contract (`shared/interop/README.md`)
 * through the example calculator, one codec at a time on its default wiring,
 * and checks that each comes back with its exact Python type: a whole double
 * as a `float` (`2.0`, `-0.0` with its sign), an i64 beyond 2^53 as the
 * same `int`, bytes as `bytes`, strings from every Unicode plane unchanged,
 * overflows as InvalidOperation. The seed is fixed, so a failure names a
 * value that fails again; run the script by hand with other seeds to explore.
 *
 * Needs `/usr/bin/python3` with Debian's python3-msgpack, -protobuf and
 * -thrift, and the protoc and thrift compilers.
 */

import assert from "node:assert/strict";
import { DEBIAN_PYTHON, formatOutput, run, startCalculator } from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("py:msgpack", "py:google.protobuf", "py:thrift", "protoc", "thrift");

const SCRIPT = new URL("./python/contract_values.py", import.meta.url).pathname;
const SEED = 20_240_611;
/** Values per method: enough to meet every kind of value the script draws, bounded. */
const COUNT = 200;
/** Failure lines shown in an assertion message; the summary line gives the full count. */
const SHOWN = 40;

/** Each codec on the contract's default wiring, as the calculator takes it. */
const WIRINGS: ReadonlyArray<{ codec: string; wiring: string; args: string[]; url: RegExp }> = [
  {
    codec: "jsonrpc",
    wiring: "tcp, newline",
    args: ["--transport", "tcp", "--framing", "newline"],
    url: /^tcp:/,
  },
  { codec: "xmlrpc", wiring: "http", args: ["--transport", "http"], url: /^http:.*\/RPC2$/ },
  { codec: "msgpack", wiring: "tcp, self-delimiting", args: ["--transport", "tcp"], url: /^tcp:/ },
  { codec: "protobuf", wiring: "tcp, length prefix", args: ["--transport", "tcp"], url: /^tcp:/ },
  { codec: "thrift", wiring: "tcp, framed binary", args: ["--transport", "tcp"], url: /^tcp:/ },
];

/** The script's failure lines, at most SHOWN of them, and its summary line. */
function failures(stdout: string): string {
  const lines = stdout.split("\n");
  const failed = lines.filter((line) => line.startsWith("FAIL "));
  const summary = lines.filter((line) => line.includes(" values checked, ")).join("\n");
  const more = failed.length > SHOWN ? `\n... and ${failed.length - SHOWN} more FAIL lines` : "";
  return `${failed.slice(0, SHOWN).join("\n")}${more}\n${summary}`;
}

for (const { codec, wiring, args, url } of WIRINGS) {
  test(
    `values of every contract type come back to a Python peer with their exact types (${codec}, ${wiring})`,
    async () => {
      await using server = await startCalculator("--codec", codec, ...args);
      assert.match(server.url, url);
      const result = await run(DEBIAN_PYTHON, {
        args: [SCRIPT, codec, server.url, String(SEED), String(COUNT)],
        timeout: 120_000,
      });
      const summary = new RegExp(`^${codec} seed ${SEED}: \\d+ values checked`, "m");
      assert.equal(
        result.code,
        0,
        result.code === 1 && summary.test(result.stdout)
          ? `${codec}: values that did not come back exactly\n${failures(result.stdout)}`
          : `contract_values.py ${codec} did not run to its end\n${formatOutput(result)}\n` +
            `--- calculator stderr ---\n${server.stderr()}`,
      );
      // COUNT values of every method went through.
      for (const method of ["add", "calculate", "sum", "echo", "echoBinary", "echoShape"]) {
        assert.match(result.stdout, new RegExp(`(?:\\(|, )${method} 0/${COUNT}[,)]`));
      }
    },
  );
}
