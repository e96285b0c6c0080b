/**
 * A server out of file descriptors keeps serving: a child started with
 * `ulimit -n 64` is flooded with connections until its accept fails with
 * EMFILE, then the flood is released. The server must still be alive, have
 * kept serving the connection it had, have told `onError` once, and answer
 * new callers: over TCP (serveTcp's accept loop) and over HTTP and WebSocket
 * (serveHttp, whose Deno.serve listener dies and is replaced).
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import type { RpcClient } from "../rpc/client.ts";
import { connectHttp, connectWebSocket } from "../rpc/transports/http.ts";
import { connectTcp } from "../rpc/transports/tcp.ts";
import { type ListeningProcess, spawnListening } from "./interop/_process.ts";

const FD_LIMIT = 64;
// Far more than 64 descriptors can hold, and still a bounded flood.
const MAX_FLOOD = 400;
const EMFILE = /^onError: .*Too many open files/gm;

function limitedServer(kind: "tcp" | "http" | "http-only"): Promise<ListeningProcess> {
  return spawnListening("sh", {
    args: [
      "-c",
      `ulimit -n ${FD_LIMIT} && exec "$0" run --allow-net --allow-env=WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE tests/fixtures/flood_server.ts ${kind}`,
      Deno.execPath(),
    ],
    timeout: 60_000,
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Opens connections ten at a time until the server reports EMFILE; a refused
// attempt (serveHttp between two listeners) counts against the bound too.
async function floodUntilEmfile(server: ListeningProcess): Promise<Deno.Conn[]> {
  const flood: Deno.Conn[] = [];
  for (let attempts = 0; attempts < MAX_FLOOD;) {
    for (let i = 0; i < 10; i++, attempts++) {
      try {
        flood.push(await Deno.connect({ hostname: server.hostname, port: server.port }));
      } catch {
        // Refused: the listener is being replaced.
      }
    }
    if (server.stderr().match(EMFILE) !== null) return flood;
    await pause(20);
  }
  for (const conn of flood) conn.close();
  assert.fail(`no EMFILE after ${MAX_FLOOD} connections; stderr:\n${server.stderr()}`);
}

// The first answer of a fresh client, trying again (a bounded number of
// times) while the server is still backing off or between listeners.
async function answerOfNewClient(connect: () => Promise<RpcClient>): Promise<unknown> {
  let last: unknown;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await using client = await connect();
      return await client.call("add", [40, 2], { timeout: 2_000 });
    } catch (error) {
      last = error;
      await pause(100);
    }
  }
  throw new Error("no answer after 20 attempts", { cause: last });
}

async function emfileEpisode(
  server: ListeningProcess,
  held: RpcClient,
  newClient: () => Promise<RpcClient>,
): Promise<void> {
  assert.equal(await held.call("add", [1, 2]), 3);
  const flood = await floodUntilEmfile(server);
  try {
    // The connection it had is still served while no descriptor is left.
    assert.equal(await held.call("add", [2, 3]), 5);
    // Several backoffs later, still one report for the episode.
    await pause(500);
    assert.equal(server.stderr().match(EMFILE)?.length, 1, server.stderr());
  } finally {
    for (const conn of flood) conn.close();
  }
  assert.equal(await answerOfNewClient(newClient), 42);
  assert.equal(await held.call("add", [3, 4]), 7);
  const exited = await Promise.race([server.child.status.then(() => true), pause(0)]);
  assert.equal(exited, undefined, "the server is still running");
}

Deno.test("serveTcp out of file descriptors keeps serving, reports once, and accepts again", async () => {
  await using server = await limitedServer("tcp");
  const address = { hostname: server.hostname, port: server.port };
  const options = { codec: jsonRpc(), framing: newline() };
  await using held = await connectTcp(address, options);
  await emfileEpisode(server, held, () => connectTcp(address, options));
  assert.match(server.stderr(), /Accepting connections on tcp:\/\/.* failed: .*ulimit -n/);
});

Deno.test("serveHttp out of file descriptors keeps serving, listens again, answers HTTP and WebSocket", async () => {
  await using server = await limitedServer("http");
  const ws = server.url.replace(/^http/, "ws");
  await using held = await connectWebSocket(ws, { codec: jsonRpc() });
  await emfileEpisode(server, held, () => connectWebSocket(ws, { codec: jsonRpc() }));
  assert.equal(
    await answerOfNewClient(() => Promise.resolve(connectHttp(server.url, { codec: jsonRpc() }))),
    42,
  );
  // With WebSocket routes parley's own listener accepts (see http/_front.ts).
  assert.match(server.stderr(), /Accepting connections on http:\/\/.* failed: .*ulimit -n/);
});

Deno.test("serveHttp without WebSocket routes out of file descriptors listens again and answers", async () => {
  await using server = await limitedServer("http-only");
  // Deno.serve's accept loop dies at the first EMFILE; serveHttp listens again.
  const flood = await floodUntilEmfile(server);
  for (const conn of flood) conn.close();
  assert.equal(
    await answerOfNewClient(() => Promise.resolve(connectHttp(server.url, { codec: jsonRpc() }))),
    42,
  );
  assert.match(server.stderr(), /stopped accepting connections: .*listens again on the same port/);
  const exited = await Promise.race([server.child.status.then(() => true), pause(0)]);
  assert.equal(exited, undefined, "the server is still running");
});
