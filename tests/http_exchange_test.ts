// What a handler sees of its POST on serveHttp when no hook is set: the
// reply headers it adds (made only when it asks), its connection (read
// only when it asks) and its signal, for handlers that answer at once and
// handlers that answer later, alone and in a batch.

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { callMetadata } from "../rpc/call_metadata.ts";
import { connectionOf } from "../rpc/connection.ts";
import { withContext } from "../rpc/service.ts";
import { serveHttp } from "../rpc/transports/http.ts";

const service = {
  tagNow: withContext((ctx, tag: string) => {
    callMetadata(ctx)!.headers.set("x-tag", tag);
    return tag;
  }),
  tagLater: withContext(async (ctx, tag: string) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    callMetadata(ctx)!.headers.set("x-tag", tag);
    return tag;
  }),
  plain: (a: number, b: number) => a + b,
  where: withContext((ctx) => {
    const remote = connectionOf(ctx)?.remoteAddr as { port: number } | undefined;
    return { transport: connectionOf(ctx)?.transport, port: remote?.port };
  }),
  aborted: withContext((ctx) => ctx.signal.aborted),
};

async function post(url: string, body: unknown): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("serveHttp sends the reply headers a handler adds, whether it answers at once or later", async () => {
  await using server = serveHttp({ routes: { "/rpc": { codec: jsonRpc(), service } } });
  const url = `${server.url}/rpc`;
  for (const method of ["tagNow", "tagLater"]) {
    const response = await post(url, { jsonrpc: "2.0", id: 1, method, params: [method] });
    assert.equal(response.headers.get("x-tag"), method);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.deepEqual(await response.json(), { jsonrpc: "2.0", id: 1, result: method });
  }
  const untouched = await post(url, { jsonrpc: "2.0", id: 2, method: "plain", params: [1, 2] });
  assert.equal(untouched.headers.get("x-tag"), null);
  assert.deepEqual(await untouched.json(), { jsonrpc: "2.0", id: 2, result: 3 });
  // A batch mixing both kinds: one reply, with the headers of each call.
  const batch = await post(url, [
    { jsonrpc: "2.0", id: 3, method: "plain", params: [2, 2] },
    { jsonrpc: "2.0", id: 4, method: "tagLater", params: ["late"] },
  ]);
  assert.equal(batch.headers.get("x-tag"), "late");
  assert.deepEqual(await batch.json(), [
    { jsonrpc: "2.0", id: 3, result: 4 },
    { jsonrpc: "2.0", id: 4, result: "late" },
  ]);
});

Deno.test("serveHttp tells a handler its connection and signal when it asks, with no hook set", async () => {
  await using server = serveHttp({ routes: { "/rpc": { codec: jsonRpc(), service } } });
  const url = `${server.url}/rpc`;
  const where = await post(url, { jsonrpc: "2.0", id: 1, method: "where" });
  const { result } = await where.json();
  assert.equal(result.transport, "http");
  assert.equal(typeof result.port, "number");
  assert.notEqual(result.port, server.addr.port);
  const signal = await post(url, { jsonrpc: "2.0", id: 2, method: "aborted" });
  assert.deepEqual(await signal.json(), { jsonrpc: "2.0", id: 2, result: false });
  // A notification of a synchronous handler: 204, nothing to wait for.
  const note = await post(url, { jsonrpc: "2.0", method: "plain", params: [1, 1] });
  assert.equal(note.status, 204);
  await note.body?.cancel();
});
