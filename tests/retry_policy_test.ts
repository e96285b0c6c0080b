/**
 * The retry policy in detail, over a real TCP server: a busy server's
 * refusal (`ServerBusy`, its `maxInFlight` reached) retried for idempotent
 * calls only, within `maxCallAttempts`; the per-call
 * `idempotent` override; notifications never repeated; full jitter's bounds.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ErrorCode, RpcError } from "../rpc/errors.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import type { Interceptor } from "../rpc/interceptors.ts";
import { backoffDelay, isIdempotent } from "../rpc/retry.ts";
import { reconnectTcp, serveTcp, type SocketServer } from "../rpc/transports/tcp.ts";

const options = { codec: jsonRpc(), framing: lengthPrefix() };

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), `${what}: not within 10 s`);
}

// A server that runs one call at a time: `hold` keeps its slot until released.
function busyServer(count: { interceptor: Interceptor }) {
  let release = Promise.withResolvers<void>();
  const ran: string[] = [];
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    ...options,
    limits: { maxInFlight: 1 },
    // Counted where they arrive: every attempt, its busy refusals included.
    interceptors: [count.interceptor],
    service: {
      hold: () => release.promise.then(() => "released"),
      get: () => (ran.push("get"), "got"),
      put: () => (ran.push("put"), "put"),
      note: () => void ran.push("note"),
    },
  });
  return {
    server,
    ran,
    release: () => {
      release.resolve();
      release = Promise.withResolvers<void>();
    },
  };
}

// Counts what the server receives, per method (each attempt of a call), and its busy refusals.
function counter() {
  const sent = new Map<string, number>();
  let busy = 0;
  const interceptor: Interceptor = (next) => async (call) => {
    sent.set(call.method, (sent.get(call.method) ?? 0) + 1);
    try {
      return await next(call);
    } catch (error) {
      if (error instanceof RpcError && error.code === ErrorCode.ServerBusy) busy++;
      throw error;
    }
  };
  return { sent, busy: () => busy, interceptor };
}

async function stop(server: SocketServer): Promise<void> {
  await Promise.all([...server.peers].map((peer) => peer.close()));
  await server.shutdown();
}

Deno.test("a busy refusal is retried with backoff for an idempotent call, never for another", async () => {
  const count = counter();
  const { server, ran, release } = busyServer(count);
  await using client = await reconnectTcp(server.address, {
    ...options,
    retry: { initialDelay: 5, maxDelay: 20, idempotent: ["get"], maxCallAttempts: 1_000 },
  });
  const held = client.call("hold");
  await until(() => server.peers.size === 1 && [...server.peers][0]!.inFlight === 1, "held");

  // Not idempotent: refused once, not sent again.
  await assert.rejects(client.call("put"), (error) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, ErrorCode.ServerBusy);
    return true;
  });
  assert.equal(count.sent.get("put"), 1);

  // Idempotent: refused while busy, sent again until the slot is free.
  const got = client.call("get", [], { timeout: 10_000 });
  await until(() => (count.sent.get("get") ?? 0) >= 3, "get refused and sent again");
  release();
  assert.equal(await held, "released");
  assert.equal(await got, "got");
  assert.deepEqual(ran, ["get"]);
  // Refused: the put, and every get but the last.
  assert.equal(count.busy(), 1 + (count.sent.get("get") ?? 0) - 1);
  await stop(server);
});

Deno.test("the per-call idempotent option overrides the policy both ways", async () => {
  const count = counter();
  const { server, ran, release } = busyServer(count);
  await using client = await reconnectTcp(server.address, {
    ...options,
    retry: { initialDelay: 5, maxDelay: 20, idempotent: ["get"], maxCallAttempts: 1_000 },
  });
  const held = client.call("hold");
  await until(() => [...server.peers][0]?.inFlight === 1, "held");
  await assert.rejects(client.call("get", [], { idempotent: false }), RpcError);
  assert.equal(count.sent.get("get"), 1);
  const put = client.call("put", [], { idempotent: true, timeout: 10_000 });
  await until(() => (count.sent.get("put") ?? 0) >= 2, "put sent again");
  release();
  await held;
  assert.equal(await put, "put");
  assert.deepEqual(ran, ["put"]);
  await stop(server);
});

Deno.test("maxCallAttempts bounds the retries; the last error is the caller's", async () => {
  const count = counter();
  const { server, release } = busyServer(count);
  await using client = await reconnectTcp(server.address, {
    ...options,
    retry: { initialDelay: 1, maxDelay: 5, idempotent: () => true, maxCallAttempts: 4 },
  });
  const held = client.call("hold");
  await until(() => [...server.peers][0]?.inFlight === 1, "held");
  await assert.rejects(client.call("get"), (error) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, ErrorCode.ServerBusy);
    return true;
  });
  assert.equal(count.sent.get("get"), 4);

  release();
  await held;
  await stop(server);
});

Deno.test("notifications are never repeated", async () => {
  const count = counter();
  const { server, ran } = busyServer(count);
  await using client = await reconnectTcp(server.address, {
    ...options,
    retry: { initialDelay: 1, idempotent: () => true },
  });
  await client.notify("note");
  assert.equal(await client.call("get"), "got");
  assert.deepEqual(ran, ["note", "get"]);
  assert.equal(count.sent.get("note"), 1);
  await stop(server);
});

Deno.test("full jitter: each wait is drawn between 0 and the exponential ceiling, capped", () => {
  const policy = { initialDelay: 100, factor: 3, maxDelay: 1_000 };
  assert.equal(backoffDelay(policy, 0, () => 0), 0);
  assert.equal(backoffDelay(policy, 0, () => 0.5), 50);
  assert.equal(backoffDelay(policy, 2, () => 0.5), 450);
  assert.equal(backoffDelay(policy, 10, () => 0.5), 500);
  for (let attempt = 0; attempt < 20; attempt++) {
    const wait = backoffDelay({}, attempt);
    assert.ok(wait >= 0 && wait < Math.min(10_000, 100 * 2 ** attempt), `${attempt}: ${wait}`);
  }
  assert.equal(isIdempotent({ idempotent: (m) => m.startsWith("get") }, "getAll"), true);
  assert.equal(isIdempotent({}, "get"), false);
});
