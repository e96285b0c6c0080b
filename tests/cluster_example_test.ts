/** `deno task example:cluster` runs and reports what it promises. */

import assert from "node:assert/strict";
import { formatOutput, run } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("nats-server");

test("example:cluster: three workers behind NATS, one killed under load; completed and failed calls reported", async () => {
  const result = await run(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-run",
      "examples/cluster.ts",
    ],
    timeout: 60_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  assert.match(result.stdout, /workers ready: alpha, beta, gamma/);
  assert.match(result.stdout, /killing gamma \(SIGKILL\)/);
  for (const name of ["alpha", "beta", "gamma"]) {
    assert.match(result.stdout, new RegExp(`  ${name}: \\d+`));
  }
  assert.match(result.stdout, /calls failed: \d+/);
  // Any failure is a clear timeout at the call's deadline, never anything else.
  for (const line of result.stdout.split("\n").filter((l) => / × /.test(l))) {
    assert.match(line, /TimeoutError/);
  }
  assert.match(result.stdout, /alpha drained after serving \d+ calls/);
});
