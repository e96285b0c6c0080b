/**
 * The chain composed once per list of interceptors (rpc/_chain.ts): what
 * that promises on a real connection, and the one thing it asks of an
 * interceptor (pass on the call, or a copy of it).
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import type { Interceptor } from "../rpc/interceptors.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";

const service = { add: (a: number, b: number) => a + b, ping: () => "pong" };

Deno.test("chain: each interceptor's outer function runs once, its handler once per call", async () => {
  let wrapped = 0;
  let handled = 0;
  const count: Interceptor = (next) => {
    wrapped++;
    return (call) => (handled++, next(call));
  };
  await using server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service,
  });
  await using client = await connectTcp(server.address, {
    codec: jsonRpc(),
    framing: newline(),
    interceptors: [count],
  });
  const sums = await Promise.all([1, 2, 3, 4].map((n) => client.call("add", [n, n])));
  assert.deepEqual(sums, [2, 4, 6, 8]);
  assert.equal(wrapped, 1);
  assert.equal(handled, 4);
});

Deno.test("chain: a copy of the call keeps its end and its metadata, on both sides", async () => {
  const seen: (string | null)[] = [];
  const tag: Interceptor = (next) => (call) => {
    const copy = { ...call, params: (call.params as number[]).map((n) => n * 10) };
    copy.metadata.set("x-tag", "t");
    return next(copy);
  };
  const look: Interceptor = (next) => (call) => {
    seen.push(call.metadata.get("x-tag"));
    return next({ ...call });
  };
  await using server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service,
    interceptors: [look],
  });
  await using client = await connectTcp(server.address, {
    codec: jsonRpc(),
    framing: newline(),
    interceptors: [tag],
  });
  assert.equal(await client.call("add", [1, 2]), 30);
  assert.deepEqual(seen, ["t"]);
});

Deno.test("chain: a call object made afresh is refused with a TypeError, and the connection goes on", async () => {
  const fresh: Interceptor = (next) => (call) =>
    next({
      method: call.method,
      params: call.params,
      kind: call.kind,
      side: call.side,
      signal: call.signal,
      metadata: call.metadata,
    });
  await using server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service,
  });
  await using client = await connectTcp(server.address, {
    codec: jsonRpc(),
    framing: newline(),
    interceptors: [(next) => (call) => call.method === "add" ? fresh(next)(call) : next(call)],
  });
  await assert.rejects(client.call("add", [1, 2]), TypeError);
  assert.equal(await client.call("ping", []), "pong");
});
