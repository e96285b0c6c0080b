// Typed per-connection context, connection details and principals, over
// real TCP, Unix and HTTP servers.

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectionOf, typedContext } from "../rpc/connection.ts";
import { withContext } from "../rpc/service.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";

const options = { codec: jsonRpc(), framing: newline() };

Deno.test("serveTcp builds the context once per connection and every call sees it", async () => {
  const app = typedContext<{ n: number; client: string }>();
  let built = 0;
  const errors: unknown[] = [];
  await using server = serveTcp({ port: 0 }, {
    ...options,
    onError: (error) => errors.push(error),
    context: app.build((connection) => {
      const remote = connection.remoteAddr as { hostname: string; port: number };
      return { n: ++built, client: `${connection.transport}:${remote.hostname}` };
    }),
    service: {
      who: app.handler((context, suffix: string) => `${context.client}#${context.n}${suffix}`),
      local: withContext((ctx) => connectionOf(ctx)?.localAddr),
    },
  });
  await using a = await connectTcp(server.address, options);
  await using b = await connectTcp(server.address, options);
  const first = await Promise.all([a.call("who", ["!"]), a.call("who", ["?"])]);
  assert.deepEqual(first, ["tcp:127.0.0.1#1!", "tcp:127.0.0.1#1?"]);
  assert.equal(await b.call("who", [""]), "tcp:127.0.0.1#2");
  assert.equal(await a.call("who", [""]), "tcp:127.0.0.1#1");
  assert.equal(built, 2);
  assert.deepEqual(await a.call("local", []), {
    hostname: "127.0.0.1",
    port: (server.address as { port: number }).port,
  });
  assert.deepEqual(errors, []);
});
