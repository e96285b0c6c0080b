/**
 * Releases of kept answers keep up with a caller that never gives timers a
 * turn: over an in-memory pair, a loop of awaited calls runs on microtasks
 * alone, so releases batched on a timer would never be sent and the other
 * end's kept-answers table (bounded by `maxExports`) would fill.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ObjectSession } from "../rpc/objects/mod.ts";
import { DEFAULT_LIMITS } from "../rpc/limits.ts";
import { Peer } from "../rpc/peer.ts";
import { memoryPair } from "../rpc/testing.ts";

const root = { add: (a: number, b: number) => a + b };

/** A session serving `root` and one using it, over an in-memory pair. */
function pair(maxExports: number | undefined) {
  const limits = maxExports === undefined ? {} : { maxExports };
  const [a, b] = memoryPair();
  const served = new ObjectSession({ root, ...limits });
  served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
  const used = new ObjectSession(limits);
  const peer = new Peer(b, { codec: jsonRpc(), service: used.service });
  used.attach(peer);
  return {
    served,
    api: used.root<typeof root>(),
    [Symbol.asyncDispose]: () => peer.close(),
  };
}

Deno.test("objects releases: a loop of calls that never yields to timers stays within a small kept-answers limit", async () => {
  const maxExports = 20;
  await using conn = pair(maxExports);
  const { served, api } = conn;
  // Ten times the limit: each call keeps an answer on the other end until released.
  for (let i = 0; i < 10 * maxExports; i++) {
    assert.equal(await api.add(i, 1), i + 1);
    assert.ok(served.answerCount <= maxExports, `${served.answerCount} answers kept`);
  }
});

Deno.test("objects releases: a loop of calls that never yields to timers passes the default limit", async () => {
  await using conn = pair(undefined);
  const { served, api } = conn;
  const calls = DEFAULT_LIMITS.maxExports + 100;
  for (let i = 0; i < calls; i++) assert.equal(await api.add(i, 1), i + 1);
  assert.ok(served.answerCount < DEFAULT_LIMITS.maxExports, `${served.answerCount} answers kept`);
});
