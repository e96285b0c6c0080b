/**
 * An HTTP server killed with SIGKILL in the middle of a load: every call of
 * connectHttp still waiting fails as it does over TCP and WebSocket, with a
 * ConnectionClosedError that names the URL and keeps fetch's error as its
 * cause, never with fetch's bare `TypeError: fetch failed`.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ConnectionClosedError } from "../mod.ts";
import { connectHttp } from "../rpc/transports/http.ts";
import { spawnListening } from "./interop/_process.ts";

const HELD = 20;
const WORKERS = 4;
// Each worker calls until its first failure, at most this many times.
const MOST_CALLS = 100_000;

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), `${what}: not within 10 s`);
}

function assertNoReply(error: unknown, url: string): void {
  assert.ok(error instanceof ConnectionClosedError, `${error}`);
  assert.ok(error.message.startsWith(`No reply to POST ${url}: `), error.message);
  assert.ok(error.cause instanceof TypeError, `${error.cause}`);
}

Deno.test("a server killed mid-load fails every pending HTTP call with ConnectionClosedError", async () => {
  await using server = await spawnListening(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env=WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE",
      "tests/fixtures/flood_server.ts",
      "http",
    ],
  });
  await using client = connectHttp(server.url, { codec: jsonRpc() });
  assert.equal(await client.call("add", [1, 2]), 3);

  // Calls the server holds, and callers that keep it busy around them.
  const held = Array.from({ length: HELD }, () => client.call("sleep", [60_000]).catch((e) => e));
  await until(() => server.stdout().split("sleeping").length > HELD, "the held calls arrived");
  let answered = 0;
  const workers = Array.from({ length: WORKERS }, async () => {
    for (let i = 0; i < MOST_CALLS; i++) {
      try {
        await client.call("add", [i, 1]);
        answered++;
      } catch (error) {
        return error;
      }
    }
    return undefined;
  });
  await until(() => answered >= 100, "the load under way");

  await server.stop("SIGKILL");
  for (const failure of await Promise.all(held)) assertNoReply(failure, server.url);
  for (const failure of await Promise.all(workers)) assertNoReply(failure, server.url);
  assert.equal(client.pending, 0);
  // And the next call, with nothing listening, says so the same way.
  const refused = await client.call("add", [1, 2]).catch((e) => e);
  assertNoReply(refused, server.url);
  assert.match((refused as Error).message, /refused/i);
});
