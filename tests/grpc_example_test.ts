/**
 * `deno task example:grpc` runs and prints what each side got (Python's
 * grpcio calling parley, parley calling grpcio).
 *
 * @module
 */

import assert from "node:assert/strict";
import { testNeeding } from "./_needs.ts";
import { formatOutput, run } from "./interop/_process.ts";

const test = testNeeding("py:grpc", "py:google.protobuf", "protoc");

test("deno task example:grpc: grpcio calls parley, parley calls grpcio, every kind of call", async () => {
  const result = await run(Deno.execPath(), {
    args: ["task", "-q", "example:grpc"],
    env: { PATH: Deno.env.get("PATH")! },
    timeout: 120_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  const lines = result.stdout;
  assert.match(
    lines,
    /python → parley: Add\(1, 2\) = 3 \| x-request-tag: py-1 \| x-request-tag-end: py-1/,
  );
  assert.match(lines, /python → parley: Range\(start=5, count=4\) streams \[5, 6, 7, 8\]/);
  assert.match(lines, /python → parley: Total\(2\*\*62, 2\*\*62 - 1, -5\) = 9223372036854775802/);
  assert.match(lines, /python → parley: Running\(1, 2, 3, 4\) streams \[1, 3, 6, 10\]/);
  assert.match(
    lines,
    /python → parley: Calculate\(1 \/ 0\) failed: INVALID_ARGUMENT 'Cannot divide by 0'/,
  );
  assert.match(lines, /parley → python: Add\(40, 2\) = 42/);
  assert.match(
    lines,
    /parley → python: Range\(start=1, count=5\) streams \[ 1n, 2n, 3n, 4n, 5n \]/,
  );
});
