/**
 * Remote objects' own error codes and limits, over TCP: each failure reaches
 * the caller as an `RpcError` with its `ObjectErrorCode` (never ServerBusy),
 * `maxDepth` and `maxExports` are enforced with an error reply, and the
 * connection goes on.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ErrorCode, RpcError } from "../rpc/errors.ts";
import { DEFAULT_LIMITS } from "../rpc/limits.ts";
import {
  exposed,
  ObjectErrorCode,
  ObjectSession,
  type ObjectSessionOptions,
  serveObjects,
} from "../rpc/objects/mod.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { rejection } from "./_rejection.ts";

class Counter {
  #n = 0;
  @exposed
  increment(by = 1): number {
    return this.#n += by;
  }
  hidden(): string {
    return "not exposed";
  }
}

/** `n` arrays, each holding the next; 0 innermost. */
function nested(n: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < n; i++) value = [value];
  return value;
}

const root = {
  version: "1.0",
  counter: () => new Counter(),
  echo: (value: unknown) => value,
  nested,
  callbacks: (n: number) => Array.from({ length: n }, (_, i) => () => i),
};
type Root = typeof root;

/**
 * A TCP server serving `root` with `serverOptions`, and a client session with
 * `clientOptions`. The codecs allow deep values, so that the objects' own
 * depth limit is what is reached.
 */
async function open(
  serverRoot: unknown,
  serverOptions: Omit<ObjectSessionOptions, "root"> = {},
  clientOptions: ObjectSessionOptions = {},
) {
  const sessions: ObjectSession[] = [];
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc({ maxDepth: 1000 }),
    framing: newline(),
    service: serveObjects(serverRoot, { ...serverOptions, onSession: (s) => sessions.push(s) }),
  });
  const client = new ObjectSession(clientOptions);
  const peer = await connectTcp(server.address, {
    codec: jsonRpc({ maxDepth: 1000 }),
    framing: newline(),
    service: client.service,
  });
  client.attach(peer);
  return {
    peer,
    api: client.root<Root>(),
    serverSession: () => sessions[0]!,
    async [Symbol.asyncDispose]() {
      await peer.close();
      await server.shutdown();
    },
  };
}

Deno.test("objects errors: the codes are their own, in the server-error range, clear of every ErrorCode", () => {
  const codes = Object.values(ObjectErrorCode);
  assert.equal(new Set(codes).size, codes.length);
  const taken = new Set<number>(Object.values(ErrorCode));
  for (const code of codes) {
    assert.ok(code <= -32000 && code >= -32099, `${code} is a server error`);
    assert.ok(!taken.has(code), `${code} is not an ErrorCode`);
  }
});

Deno.test("objects errors: an unknown reference, and a root where none is served, are UnknownReference", async () => {
  await using conn = await open(root);
  const unknown = await rejection(conn.peer.call("$/call", [{ $you: 999 }, ["x"], []]), RpcError);
  assert.equal(unknown.code, ObjectErrorCode.UnknownReference);
  await using rootless = await open(undefined);
  const noRoot = await rejection(rootless.api.version, RpcError);
  assert.equal(noRoot.code, ObjectErrorCode.UnknownReference);
  assert.match(noRoot.message, /serves no root/);
});

Deno.test("objects errors: an unexposed member, and calling what is not a function, are NotExposed", async () => {
  await using conn = await open(root);
  const counter = await conn.api.counter();
  const hidden = await rejection(
    (counter as unknown as { hidden(): PromiseLike<string> }).hidden(),
    RpcError,
  );
  assert.equal(hidden.code, ObjectErrorCode.NotExposed);
  const notCallable = await rejection(
    (conn.api as unknown as { version(): PromiseLike<string> }).version(),
    RpcError,
  );
  assert.equal(notCallable.code, ObjectErrorCode.NotExposed);
  assert.equal(await counter.increment(2), 2);
});

Deno.test("objects errors: past maxExports the call is refused with TooManyExports, not ServerBusy", async () => {
  await using conn = await open(root, { maxExports: 3 });
  const [first] = await conn.api.callbacks(2);
  const refused = await rejection(conn.api.callbacks(2), RpcError);
  assert.equal(refused.code, ObjectErrorCode.TooManyExports);
  assert.notEqual(refused.code, ErrorCode.ServerBusy);
  assert.match(refused.message, /objects exported .*\(limit 3\)/);
  // The connection goes on.
  assert.equal(await first!(), 0);
  assert.equal(await conn.api.version, "1.0");
});

Deno.test("objects limits: a value nested past the server's maxDepth is a TooDeep reply", async () => {
  await using conn = await open(root, { maxDepth: 4 });
  const sent = await rejection(conn.peer.call("$/call", [null, ["echo"], [nested(10)]]), RpcError);
  assert.equal(sent.code, ObjectErrorCode.TooDeep);
  assert.match(sent.message, /deeper than 4 levels/);
  const returned = await rejection(conn.api.nested(10), RpcError);
  assert.equal(returned.code, ObjectErrorCode.TooDeep);
  // The connection goes on, and values within the limit travel.
  assert.deepEqual(await conn.api.echo(nested(3)), nested(3));
});

Deno.test("objects limits: the client's maxDepth refuses a deep argument before it is sent", async () => {
  await using conn = await open(root, {}, { maxDepth: 4 });
  const counter = { increment: () => 1 };
  // Boxing stops at the limit: the function inside is never exported.
  assert.throws(
    () => conn.api.echo([nested(10), counter]),
    (error) => error instanceof RpcError && error.code === ObjectErrorCode.TooDeep,
  );
  assert.deepEqual(await conn.api.echo(nested(3)), nested(3));
});

Deno.test("objects limits: by default maxDepth is DEFAULT_LIMITS.maxDepth, checked at its edge", async () => {
  await using conn = await open(root);
  const limit = DEFAULT_LIMITS.maxDepth;
  // The arguments array is one level: a value of `limit` arrays reaches it exactly.
  assert.deepEqual(
    await conn.peer.call("$/call", [null, ["echo"], [nested(limit)]]),
    nested(limit),
  );
  const error = await rejection(
    conn.peer.call("$/call", [null, ["echo"], [nested(limit + 1)]]),
    RpcError,
  );
  assert.equal(error.code, ObjectErrorCode.TooDeep);
});

Deno.test("objects limits: by default maxExports is DEFAULT_LIMITS.maxExports", async () => {
  await using conn = await open(root);
  const limit = DEFAULT_LIMITS.maxExports;
  // One call returns `limit` callbacks: the table fills in one round trip.
  const callbacks = await conn.api.callbacks(limit);
  assert.equal(callbacks.length, limit);
  assert.equal(conn.serverSession().exportCount, limit);
  const refused = await rejection(conn.api.callbacks(1), RpcError);
  assert.equal(refused.code, ObjectErrorCode.TooManyExports);
  assert.equal(await callbacks[limit - 1]!(), limit - 1);
});
