/** The remote-objects examples run and print what they promise. */

import assert from "node:assert/strict";
import { formatOutput, run } from "./interop/_process.ts";

Deno.test("example:callbacks: the server calls the client back, pipelines, and drops everything at disconnect", async () => {
  const result = await run(Deno.execPath(), {
    args: ["run", "--allow-net", "examples/callbacks.ts"],
    timeout: 60_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  for (
    const line of [
      "client: the server called back: 1/3 (a.jpg)",
      "client: the server called back: 3/3 (c.jpg)",
      "client: resize photos: 3 items processed",
      "client: fetch → parse → store",
      "server: after the client disconnected: 0",
    ]
  ) {
    assert.ok(result.stdout.includes(line), `missing "${line}"\n${result.stdout}`);
  }
});

Deno.test("example:files: a remote folder browsed through proxies; nothing outside it is reachable", async () => {
  const result = await run(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "examples/remote_files.ts"],
    timeout: 60_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  assert.match(result.stdout, /- README\.md \(\d+ B\)/);
  assert.match(result.stdout, /README\.md starts with: "# parley"/);
  assert.match(result.stdout, /section: Quick start/);
  assert.match(result.stdout, /refused: "\.\.\/\.\." is not an entry of this folder/);
  assert.match(result.stdout, /refused: "root" is not exposed/);
});
