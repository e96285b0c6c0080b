/**
 * The connection clocks of socket servers share one timer: servers with
 * different timeouts, in the same process, each close their own idle
 * connections when theirs run out and no others, and stopping the last
 * clock leaves no timer behind (the test's sanitizers check it).
 *
 * @module
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";

const service = { add: (a: number, b: number) => a + b };
const options = { codec: jsonRpc(), framing: newline() };
const BOUND = 10_000;

// Resolves with what `promise` gave, or fails when it takes longer than BOUND.
async function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${BOUND} ms`)), BOUND);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("two servers' idle timeouts, one timer: the short one closes its connections only", async () => {
  await using quick = serveTcp({ port: 0 }, { ...options, service, idleTimeout: 150 });
  await using slow = serveTcp({ port: 0 }, { ...options, service, idleTimeout: 60_000 });
  // The long clock first: the short one must still be heard of in time.
  await using kept = await connectTcp(slow.address, options);
  assert.equal(await kept.call("add", [1, 1]), 2);
  const idle = await Promise.all(
    Array.from({ length: 20 }, () => connectTcp(quick.address, options)),
  );
  for (const [i, client] of idle.entries()) assert.equal(await client.call("add", [i, 1]), i + 1);
  await bounded(Promise.all(idle.map((client) => client.closed)), "every idle connection closed");
  assert.equal(quick.peers.size, 0);
  assert.equal(kept.isClosed, false);
  assert.equal(await kept.call("add", [2, 3]), 5);
});

Deno.test("a connection that makes no first frame is closed; one opened with it that did is kept", async () => {
  await using server = serveTcp({ port: 0 }, {
    ...options,
    service,
    firstFrameTimeout: 150,
    idleTimeout: 60_000,
  });
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
  await using client = await connectTcp(server.address, options);
  assert.equal(await client.call("add", [1, 2]), 3);
  const buffer = new Uint8Array(64);
  assert.equal(await bounded(silent.read(buffer).catch(() => null), "the silent one closed"), null);
  silent.close();
  assert.equal(await client.call("add", [2, 3]), 5);
  assert.equal(server.peers.size, 1);
});

Deno.test("connections closed before their timeouts leave no timer running", async () => {
  const server = serveTcp({ port: 0 }, { ...options, service, idleTimeout: 60_000 });
  const clients = await Promise.all(
    Array.from({ length: 10 }, () => connectTcp(server.address, options)),
  );
  for (const client of clients) assert.equal(await client.call("add", [1, 2]), 3);
  // Closed in an order unlike the one they were opened in.
  for (const client of clients.reverse()) await client.close();
  await server.shutdown();
});
