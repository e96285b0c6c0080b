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

/** Hands out callbacks; reached through a pipelined call's result. */
class Maker {
  @exposed
  callbacks(n: number): (() => number)[] {
    return Array.from({ length: n }, (_, i) => () => i);
  }
}

const root = {
  version: "1.0",
  counter: () => new Counter(),
  maker: () => new Maker(),
  echo: (value: unknown) => value,
  apply: (f: (n: number) => number, n: unknown) => f(typeof n === "number" ? n : 0),
  nested,
  callbacks: (n: number) => Array.from({ length: n }, (_, i) => () => i),
  // A callback, then a value too deep: refused after the callback was boxed.
  callbackThenDeep: (depth: number) => [() => 0, nested(depth)],
  // Steps whose first item is refused (too deep) after a callback in it was boxed.
  async *steps(depth: number) {
    yield [() => 1, nested(depth)];
    yield () => 2;
  },
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
    client,
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

// A value refused partway through being boxed leaves nothing exported:
// exports made before the refusal are rolled back, so that a bad reply can
// neither pin the other end's memory nor fill its table for later replies.

Deno.test("objects rollback: a result refused at maxExports exports nothing, and later references still go", async () => {
  await using conn = await open(root, { maxExports: 10 });
  const [first] = await conn.api.callbacks(8);
  assert.equal(conn.serverSession().exportCount, 8);
  const refused = await rejection(conn.api.callbacks(3), RpcError);
  assert.equal(refused.code, ObjectErrorCode.TooManyExports);
  assert.equal(conn.serverSession().exportCount, 8);
  // The two free places are still free: a reply with two references goes.
  const two = await conn.api.callbacks(2);
  assert.equal(await two[1]!(), 1);
  assert.equal(conn.serverSession().exportCount, 10);
  assert.equal(await first!(), 0);
});

Deno.test("objects rollback: a result refused as too deep exports nothing, and later references still go", async () => {
  await using conn = await open(root, { maxExports: 10, maxDepth: 4 });
  for (let i = 0; i < 3; i++) {
    const refused = await rejection(conn.api.callbackThenDeep(10), RpcError);
    assert.equal(refused.code, ObjectErrorCode.TooDeep);
    assert.equal(conn.serverSession().exportCount, 0);
  }
  const [callback, shallow] = await conn.api.callbackThenDeep(1);
  assert.equal(await (callback as () => PromiseLike<number>)(), 0);
  assert.deepEqual(shallow, nested(1));
  assert.equal(conn.serverSession().exportCount, 1);
});

Deno.test("objects rollback: arguments refused on the client export nothing, across all of them", async () => {
  await using conn = await open(root, {}, { maxExports: 10, maxDepth: 4 });
  const client = conn.client;
  const isCode = (code: number) => (error: unknown) =>
    error instanceof RpcError && error.code === code;
  // Eleven callbacks in one argument: the eleventh is one too many.
  assert.throws(
    () => conn.api.echo(Array.from({ length: 11 }, (_, i) => () => i)),
    isCode(ObjectErrorCode.TooManyExports),
  );
  assert.equal(client.exportCount, 0);
  // A callback in the first argument, a value too deep in the second.
  assert.throws(() => conn.api.apply((n) => n + 1, nested(10)), isCode(ObjectErrorCode.TooDeep));
  assert.equal(client.exportCount, 0);
  // The same callback, exported once and refused with it again, keeps one reference.
  const double = (n: number) => n * 2;
  assert.equal(await conn.api.apply(double, 4), 8);
  const before = client.exportCount;
  assert.throws(() => conn.api.echo([double, nested(10)]), isCode(ObjectErrorCode.TooDeep));
  assert.equal(client.exportCount, before);
  assert.equal(await conn.api.apply(double, 21), 42);
  assert.equal(await conn.api.apply((n) => n - 1, 1), 0);
});

Deno.test("objects rollback: an iterator item refused as too deep exports nothing, and the iteration pulled per item goes on", async () => {
  // Pulled one item per call (streamWindow 0): each item is its own reply.
  await using conn = await open(root, { maxDepth: 4 }, { streamWindow: 0 });
  const iterator = (await conn.api.steps(10))[Symbol.asyncIterator]();
  assert.equal(conn.serverSession().exportCount, 1); // the iterator
  const refused = await rejection(iterator.next(), RpcError);
  assert.equal(refused.code, ObjectErrorCode.TooDeep);
  assert.equal(conn.serverSession().exportCount, 1);
  const step = await iterator.next();
  assert.equal(step.done, false);
  assert.equal(await (step.value as () => PromiseLike<number>)(), 2);
});

Deno.test("objects rollback: a pipelined call's refused result exports nothing, and the next one goes", async () => {
  await using conn = await open(root, { maxExports: 10 });
  const maker = conn.api.maker(); // not awaited: the calls below are pipelined on it
  const refused = await rejection(maker.callbacks(10), RpcError);
  assert.equal(refused.code, ObjectErrorCode.TooManyExports);
  // Only the maker is exported (its own call's reply carried it).
  assert.equal(conn.serverSession().exportCount, 1);
  const callbacks = await maker.callbacks(9);
  assert.equal(await callbacks[8]!(), 8);
  assert.equal(conn.serverSession().exportCount, 10);
});

Deno.test("objects rollback: a $/get with an answer id refused partway exports nothing", async () => {
  await using conn = await open({ fns: [() => 1, () => 2, () => 3] }, { maxExports: 2 });
  const refused = await rejection(conn.peer.call("$/get", [null, ["fns"], 1]), RpcError);
  assert.equal(refused.code, ObjectErrorCode.TooManyExports);
  assert.equal(conn.serverSession().exportCount, 0);
});

Deno.test("objects limits: maxExports and maxDepth that are not positive integers are a RangeError up front", () => {
  for (const name of ["maxExports", "maxDepth"] as const) {
    for (const bad of [0, -1, 1.5, NaN, Infinity]) {
      assert.throws(
        () => new ObjectSession({ [name]: bad }),
        (error) => error instanceof RangeError && error.message.includes(name),
        `${name}: ${bad}`,
      );
      // A server's bad options are refused when it is set up, before any connection.
      assert.throws(() => serveObjects(root, { [name]: bad }), RangeError);
    }
    assert.ok(new ObjectSession({ [name]: 1 }));
  }
});
