/**
 * The NATS transport with a real nats-server (Debian's package) on
 * 127.0.0.1: load spread over workers, deadlines, drain on SIGTERM, a worker
 * killed in the middle of a bounded load (every call completes or fails
 * clearly within its deadline; idempotent calls are retried), no
 * responders, and a NATS server that goes away and comes back.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import {
  ConnectionClosedError,
  FrameSizeError,
  RpcError,
  TimeoutError,
  withContext,
} from "../mod.ts";
import {
  connectNats,
  DEADLINE_HEADER,
  natsClient,
  NoRespondersError,
  serveNats,
} from "../rpc/transports/nats.ts";
import { headers } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { callMetadata } from "../rpc/call_metadata.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { spawnWorker } from "../examples/cluster/spawn_worker.ts";
import { rejection } from "./_rejection.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("nats-server");

test("nats: calls reach workers in a queue group; more workers share the load", async () => {
  await using nats = await startNatsServer();
  const connections = await Promise.all([1, 2, 3].map(() => connectNats(nats.url)));
  const [client, ...workers] = connections as [typeof connections[0], ...typeof connections];
  const served = workers.map((connection, i) =>
    serveNats({
      connection,
      subject: "calc",
      codec: jsonRpc(),
      service: { add: (a: number, b: number) => a + b, who: () => i },
    })
  );
  await Promise.all(served.map((worker) => worker.ready));
  const calc = natsClient({
    connection: client,
    subject: "calc",
    codec: jsonRpc(),
    timeout: 5_000,
  });
  assert.equal(await calc.call("add", [40, 2]), 42);
  const results = await Promise.all(Array.from({ length: 200 }, () => calc.call("who")));
  const counts = [0, 1].map((i) => results.filter((r) => r === i).length);
  assert.ok(counts.every((c) => c > 20), `both workers took calls: ${counts}`);
  assert.equal(served[0]!.served + served[1]!.served, 201);
  await calc.notify("add", [1, 2]);
  const error = await rejection(calc.call("nope"), RpcError);
  assert.equal(error.code, -32601);
  for (const worker of served) await worker.drain();
  for (const connection of connections) await connection.drain();
});

test("nats: any codec (msgpack-rpc), and no responders is a clear error", async () => {
  await using nats = await startNatsServer();
  const nc = await connectNats(nats.url);
  const calc = natsClient({
    connection: nc,
    subject: "nobody",
    codec: msgpackRpc(),
    timeout: 2_000,
  });
  const error = await rejection(calc.call("add", [1, 2]), NoRespondersError);
  assert.match(error.message, /No worker serves "nobody"/);
  const worker = serveNats({
    connection: nc,
    subject: "mp",
    codec: msgpackRpc(),
    service: { big: () => 2n ** 62n },
  });
  await worker.ready;
  const mp = natsClient({ connection: nc, subject: "mp", codec: msgpackRpc() });
  assert.equal(await mp.call("big"), 2n ** 62n);
  await worker.drain();
  await nc.drain();
});

test("nats: deadlines travel with the call; a worker starts nothing its caller gave up on", async () => {
  await using nats = await startNatsServer();
  const nc = await connectNats(nats.url);
  const started: string[] = [];
  const aborted: string[] = [];
  const worker = serveNats({
    connection: nc,
    subject: "slow",
    codec: jsonRpc(),
    service: {
      wait: withContext((ctx, ms: number, tag: string) => {
        started.push(tag);
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => resolve(tag), ms);
          ctx.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            aborted.push(tag);
            reject(ctx.signal.reason);
          });
        });
      }),
    },
  });
  await worker.ready;
  const client = natsClient({ connection: nc, subject: "slow", codec: jsonRpc() });
  await rejection(client.call("wait", [5_000, "late"], { timeout: 200 }), TimeoutError);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(aborted, ["late"], "the handler's signal fired at the deadline");
  // A message whose deadline has passed is not started at all.
  const expired = headers();
  expired.set(DEADLINE_HEADER, String(Date.now() - 1));
  nc.publish(
    "slow",
    new TextEncoder().encode('{"jsonrpc":"2.0","id":9,"method":"wait","params":[1,"expired"]}'),
    { headers: expired },
  );
  assert.equal(await client.call("wait", [1, "fresh"], { timeout: 2_000 }), "fresh");
  assert.ok(!started.includes("expired"), `started: ${started}`);
  // Aborting a call gives up on it at once, with the abort's reason.
  const controller = new AbortController();
  const abandoned = client.call("wait", [500, "abandoned"], { signal: controller.signal });
  setTimeout(() => controller.abort(new Error("changed my mind")), 50);
  await assert.rejects(abandoned, /changed my mind/);
  await worker.drain();
  await nc.drain();
});

test("nats: a worker stopped with SIGTERM finishes what it took; the others take the rest", async () => {
  await using nats = await startNatsServer();
  const a = await spawnWorker(nats.url, "a");
  const b = await spawnWorker(nats.url, "b");
  const nc = await connectNats(nats.url);
  const client = natsClient({
    connection: nc,
    subject: "calculator",
    codec: jsonRpc(),
    timeout: 10_000,
  });
  // Calls in flight on both workers, then a is told to stop.
  const calls = Array.from({ length: 20 }, () => client.call("work", [300]));
  await new Promise((r) => setTimeout(r, 100));
  const stopping = a.stop("SIGTERM");
  const results = await Promise.all(calls);
  assert.equal(results.length, 20, "every call finished");
  const { status, out } = await stopping;
  assert.equal(status.code, 0);
  assert.match(out, /drained a served=\d+/);
  // After it, only b answers.
  const after = await Promise.all(Array.from({ length: 10 }, () => client.call("whoami")));
  assert.deepEqual(new Set(after), new Set(["b"]));
  await b.stop();
  await nc.drain();
});

test("nats: a worker killed in the middle of a bounded load: every call ends within its deadline; idempotent ones are retried", async () => {
  await using nats = await startNatsServer();
  const a = await spawnWorker(nats.url, "a");
  const b = await spawnWorker(nats.url, "b");
  const nc = await connectNats(nats.url);
  const plain = natsClient({
    connection: nc,
    subject: "calculator",
    codec: jsonRpc(),
    timeout: 1_500,
  });
  const retrying = natsClient({
    connection: nc,
    subject: "calculator",
    codec: jsonRpc(),
    timeout: 3_000,
    idempotent: ["work"],
    attempts: 3,
  });
  const outcomes: { ok: boolean; error?: string; ms: number; retried: boolean }[] = [];
  const run = async (client: typeof plain, retried: boolean) => {
    const started = performance.now();
    try {
      await client.call("work", [200]);
      outcomes.push({ ok: true, ms: performance.now() - started, retried });
    } catch (error) {
      outcomes.push({
        ok: false,
        error: (error as Error).name,
        ms: performance.now() - started,
        retried,
      });
    }
  };
  const load = [
    ...Array.from({ length: 20 }, () => run(plain, false)),
    ...Array.from({ length: 20 }, () => run(retrying, true)),
  ];
  await new Promise((r) => setTimeout(r, 50));
  await a.stop("SIGKILL"); // dies: its calls are never answered
  await Promise.all(load);
  assert.equal(outcomes.length, 40, "no call hangs");
  for (const outcome of outcomes) {
    if (!outcome.ok) assert.equal(outcome.error, "TimeoutError");
    assert.ok(
      outcome.ms < (outcome.retried ? 3_000 : 1_500) + 500,
      `ended within its deadline: ${outcome.ms}`,
    );
  }
  assert.ok(
    outcomes.filter((o) => o.retried).every((o) => o.ok),
    "idempotent calls were retried on b",
  );
  assert.ok(outcomes.filter((o) => !o.retried).some((o) => !o.ok), "some calls died with a");
  await b.stop();
  await nc.drain();
});

test("nats: the NATS server goes away and comes back: reported, then recovered", async () => {
  const first = await startNatsServer();
  const port = first.port;
  const statuses: string[] = [];
  const nc = await connectNats(first.url, { onStatus: (s) => statuses.push(s.type) });
  const worker = serveNats({
    connection: nc,
    subject: "calc",
    codec: jsonRpc(),
    service: { add: (a: number, b: number) => a + b },
  });
  await worker.ready;
  const client = natsClient({ connection: nc, subject: "calc", codec: jsonRpc(), timeout: 1_000 });
  assert.equal(await client.call("add", [1, 2]), 3);
  await first.stop();
  await rejection(client.call("add", [1, 2]), Error);
  await using second = await startNatsServer(port);
  let recovered: unknown;
  for (let i = 0; i < 40 && recovered === undefined; i++) {
    recovered = await client.call("add", [2, 3]).catch(() => undefined);
    if (recovered === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(recovered, 5);
  assert.ok(statuses.includes("disconnect"), `statuses: ${statuses}`);
  assert.ok(statuses.includes("reconnect"), `statuses: ${statuses}`);
  void second;
  await worker.drain();
  await nc.drain();
});

test("nats: the client is an RpcClient: a typed proxy, a batch, and close() fails what waits", async () => {
  await using nats = await startNatsServer();
  const nc = await connectNats(nats.url);
  const started = Promise.withResolvers<void>();
  const worker = serveNats({
    connection: nc,
    subject: "contract",
    codec: jsonRpc(),
    service: {
      add: (a: number, b: number) => a + b,
      hang: withContext((ctx) =>
        new Promise((_, reject) => {
          started.resolve();
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
        })
      ),
    },
  });
  await worker.ready;
  const client = natsClient({ connection: nc, subject: "contract", codec: jsonRpc() });
  const calc = client.proxy<{ add(a: number, b: number): number }>();
  assert.equal(await calc.add(40, 2), 42);
  const outcomes = await client.batch([
    { method: "add", params: [1, 2] },
    { method: "add", params: [3, 4], notification: true },
    { method: "nope" },
  ]);
  assert.deepEqual(outcomes.slice(0, 2), [
    { status: "fulfilled", value: 3 },
    { status: "fulfilled", value: undefined },
  ]);
  assert.equal(outcomes[2]!.status, "rejected");
  const hanging = client.call("hang", [], { timeout: 2_000 });
  await started.promise;
  assert.equal(client.pending, 1);
  await client.close(new Error("done"));
  const closed = await rejection(hanging, ConnectionClosedError);
  assert.match(String((closed.cause as Error).message), /done/);
  assert.equal(client.pending, 0);
  await rejection(client.call("add", [1, 2]), ConnectionClosedError);
  await rejection(client.notify("add", [1, 2]), ConnectionClosedError);
  await worker.drain();
  await nc.drain();
});

test("nats: a message over maxFrameSize is refused undecoded, by the worker and by the client", async () => {
  await using nats = await startNatsServer();
  const connection = await connectNats(nats.url);
  const errors: unknown[] = [];
  const echoed: string[] = [];
  const worker = serveNats({
    connection,
    subject: "limited",
    codec: jsonRpc(),
    service: {
      echo: (text: string) => (echoed.push(text), text),
      big: (size: number) => "b".repeat(size),
    },
    limits: { maxFrameSize: 100 },
    onError: (error) => errors.push(error),
  });
  await worker.ready;
  const client = natsClient({
    connection,
    subject: "limited",
    codec: jsonRpc(),
    timeout: 10_000,
  });
  assert.equal(await client.call("echo", ["short"]), "short");

  // A request over the worker's limit: -32600 with why, the handler never runs.
  const refused = await rejection(client.call("echo", ["a".repeat(100)]), RpcError);
  assert.equal(refused.code, -32600);
  assert.match(refused.message, /exceeds the limit of 100 bytes/);
  // A notification over it has nobody to answer: refused all the same.
  await client.notify("echo", ["n".repeat(100)]);
  await client.call("echo", ["after"]); // the worker takes messages in order
  assert.deepEqual(echoed, ["short", "after"]);
  const oversize = errors.filter((e) => e instanceof FrameSizeError);
  assert.equal(oversize.length, 2);
  assert.ok(oversize.every((e) => (e as FrameSizeError).limit === 100));

  // A reply over a client's limit (60 bytes) is refused by that client.
  const strict = natsClient({
    connection,
    subject: "limited",
    codec: jsonRpc(),
    timeout: 10_000,
    limits: { maxFrameSize: 60 },
  });
  const tooBig = await rejection(strict.call("big", [80]), FrameSizeError);
  assert.equal(tooBig.limit, 60);
  assert.ok(tooBig.size > 60);
  assert.equal(await strict.call("big", [3]), "bbb");

  await worker.drain();
  await connection.drain();
});

test("nats: a handler reads the call's headers as its metadata, and a synchronous one answers as an async one", async () => {
  await using nats = await startNatsServer();
  const nc = await connectNats(nats.url);
  const worker = serveNats({
    connection: nc,
    subject: "meta",
    codec: jsonRpc(),
    service: {
      // The metadata is made only when read: what it holds must be the same.
      tag: withContext((ctx) => {
        const metadata = callMetadata(ctx)!;
        return [metadata.request.get("x-tag"), metadata.request.has(DEADLINE_HEADER)];
      }),
      now: (n: number) => n + 1,
      later: async (n: number) => await Promise.resolve(n + 1),
      fails: () => {
        throw new RpcError(-32010, "refused now");
      },
    },
  });
  await worker.ready;
  const client = natsClient({ connection: nc, subject: "meta", codec: jsonRpc() });
  assert.deepEqual(await client.call("tag", [], { headers: { "x-tag": "t1" } }), ["t1", true]);
  const [now, later] = await Promise.all([client.call("now", [1]), client.call("later", [1])]);
  assert.deepEqual([now, later], [2, 2]);
  await assert.rejects(client.call("fails"), { name: "RpcError", code: -32010 });
  assert.equal(worker.served, 4);
  assert.equal(worker.inFlight, 0);
  await worker.drain();
  await nc.drain();
});

test("nats: bad input to a worker gets an error reply, never silence, and the worker goes on", async () => {
  await using nats = await startNatsServer();
  const nc = await connectNats(nats.url);
  const raw = await connect({ servers: nats.url });
  const errors: unknown[] = [];
  const worker = serveNats({
    connection: nc,
    subject: "hostile",
    codec: jsonRpc(),
    service: { add: (a: number, b: number) => a + b },
    limits: { maxFrameSize: 4_096 },
    onError: (error) => errors.push(error),
  });
  await worker.ready;
  const encoder = new TextEncoder();
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const payloads: Uint8Array[] = [
    new Uint8Array([0xff, 0xfe, 0x7b]), // not UTF-8
    encoder.encode("{not json"),
    encoder.encode("[]"),
    encoder.encode("[1,2]"),
    encoder.encode('{"jsonrpc":"2.0"}'),
    encoder.encode('{"jsonrpc":"2.0","id":1,"method":"add","params":"x"}'),
    encoder.encode(`{"jsonrpc":"2.0","id":1,"method":"add","params":${"[".repeat(3_000)}`),
    encoder.encode(`{"jsonrpc":"2.0","id":1,"method":"${"m".repeat(5_000)}"}`), // over the limit
    ...Array.from(
      { length: 40 },
      () => Uint8Array.from({ length: random(64) + 1 }, () => random(256)),
    ),
  ];
  for (const payload of payloads) {
    const reply = await raw.request("hostile", payload, { timeout: 5_000 });
    const answer = JSON.parse(new TextDecoder().decode(reply.data));
    // A batch of bad entries is answered with an error each.
    const replies = Array.isArray(answer) ? answer : [answer];
    assert.ok(replies.length > 0, `a reply to ${payload}`);
    for (const one of replies) {
      assert.equal(typeof one.error?.code, "number", `an error reply to ${payload}`);
    }
  }
  assert.ok(errors.length >= payloads.length - 8, "each one told to onError");
  const client = natsClient({ connection: nc, subject: "hostile", codec: jsonRpc() });
  assert.equal(await client.call("add", [20, 22]), 42);
  assert.equal(worker.inFlight, 0);
  await worker.drain();
  await raw.drain();
  await nc.drain();
});
