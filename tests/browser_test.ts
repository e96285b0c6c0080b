/**
 * parley in a real headless Chromium (Debian's chromium, driven by
 * playwright-core): the browser bundles built by `deno task build:web`
 * (tools/build_web.ts), the chat example served on one port, two pages, an
 * action in one and the server's push seen in the other, and a screenshot;
 * then the per-use bundles in a page: JSON-RPC over WebSocket and over HTTP
 * with the typed proxy, and remote objects.
 *
 * @module
 */

import assert from "node:assert/strict";
import { run, spawnListening } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("chromium");

const SCREENSHOT = "/tmp/parley-browser-chat.png";

test("Chromium: two pages chat through the server, which calls each page back; a page uses remote objects", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-web-" });
  try {
    const bundle = `${dir}/parley.js`;
    const built = await run(Deno.execPath(), {
      args: ["run", "-A", "tools/build_web.ts", "--out", dir],
    });
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /json_rpc_websocket\.js .* KB/);
    await using server = await spawnListening(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        "examples/chat/server.ts",
        "--port",
        "0",
        "--bundle",
        bundle,
      ],
    });
    const driven = await run(Deno.execPath(), {
      args: ["run", "-A", "tests/browser/_drive.ts", server.url, SCREENSHOT],
      timeout: 90_000,
    });
    assert.equal(driven.code, 0, driven.stderr);
    const seen = JSON.parse(driven.stdout.trim().split("\n").at(-1)!);
    assert.equal(seen.seenByBob, "alice: hello from parley ✓");
    assert.equal(seen.seenByAlice, "alice: hello from parley ✓");
    assert.equal(seen.seenByCarol, "alice: hello from parley ✓");
    // Remote objects from the page (full bundle): a callback and a pipelined call.
    assert.deepEqual(seen.objects, {
      done: "liftoff",
      ticks: [3, 2, 1],
      messages: [{ name: "alice", text: "hello from parley ✓" }],
    });
    // The same with the objects-only bundle.
    assert.deepEqual(seen.objectsEntry, seen.objects);
    // The smallest clients: the history through the typed proxy, both ways,
    // and a post the server's schema refuses (-32602).
    const history = [{ name: "alice", text: "hello from parley ✓" }];
    assert.deepEqual(seen.smallest, { overWebSocket: history, overHttp: history, refused: -32602 });
    assert.deepEqual(seen.errors, []);
    assert.ok((await Deno.stat(SCREENSHOT)).size > 1000, "the screenshot was written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
