/**
 * `deno task example:rpyc` starts Python's `rpyc_classic`, lists a
 * directory through `os`, has Python call TypeScript functions back,
 * releases every reference on both sides and stops Python.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testNeeding } from "./_needs.ts";
import { formatOutput, run } from "./interop/_process.ts";

const test = testNeeding("py:rpyc");

test("deno task example:rpyc: os.listdir, TypeScript callbacks from Python, everything released", async () => {
  const result = await run(Deno.execPath(), {
    args: ["task", "-q", "example:rpyc"],
    env: { PATH: Deno.env.get("PATH")! },
    timeout: 120_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  const out = result.stdout;
  const pid = out.match(/rpyc_classic \(pid (\d+)\) serves 127\.0\.0\.1:\d+/)?.[1];
  assert.ok(pid !== undefined, out);
  // The example runs from the repository root: deno.json is one of its entries.
  const entries = Number(out.match(/os\.listdir\("\."\) has (\d+) entries/)?.[1]);
  const expected = [...Deno.readDirSync(new URL("../", import.meta.url))].length;
  assert.equal(entries, expected, out);
  // Python called the key back once per name, holding the function meanwhile.
  assert.match(
    out,
    new RegExp(`Python held 1 TypeScript function and called it back ${expected} times`),
  );
  assert.match(out, /twice\(lambda x: x \* 3, 7\) with a TypeScript lambda = 63/);
  assert.match(out, /released: 0 Python objects held here, 0 TypeScript functions held by Python/);
  assert.match(out, new RegExp(`stopped rpyc_classic \\(pid ${pid}, SIGTERM\\)`));
});
