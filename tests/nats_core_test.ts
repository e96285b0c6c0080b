/**
 * parley's own NATS client (connectNatsCore) against a real nats-server:
 * publish and subscribe (callback and iterator), queue groups, wildcards,
 * headers, `max`, flush, drain, stats, text and binary payloads, the
 * server's max_payload and a slow consumer's bounded queue.
 */

import assert from "node:assert/strict";
import {
  connectNatsCore,
  type NatsCoreConnection,
  type NatsCoreMessage,
} from "../rpc/transports/nats.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { StatusLog, until } from "./_nats_core.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("nats-server");
const encoder = new TextEncoder();

// Takes `count` messages of an iterated subscription.
async function take(
  sub: AsyncIterable<NatsCoreMessage>,
  count: number,
): Promise<NatsCoreMessage[]> {
  const got: NatsCoreMessage[] = [];
  if (count === 0) return got;
  for await (const msg of sub) {
    got.push(msg);
    if (got.length === count) break;
  }
  return got;
}

async function pair(url: string): Promise<[NatsCoreConnection, NatsCoreConnection]> {
  return [await connectNatsCore(url), await connectNatsCore(url)];
}

test("nats core: publish and subscribe, with a callback and with an iterator", async () => {
  await using nats = await startNatsServer();
  const [a, b] = await pair(nats.url);
  const heard: string[] = [];
  const called = b.subscribe("news", {
    callback: (error, msg) => heard.push(`${error} ${msg.text()}`),
  });
  const iterated = b.subscribe("news");
  await b.flush();
  for (const word of ["one", "two", "three"]) a.publish("news", word);
  const got = await take(iterated, 3);
  assert.deepEqual(got.map((msg) => [msg.subject, msg.text(), msg.reply]), [
    ["news", "one", undefined],
    ["news", "two", undefined],
    ["news", "three", undefined],
  ]);
  await until(() => heard.length === 3, "the callback's messages");
  assert.deepEqual(heard, ["null one", "null two", "null three"]);
  // Leaving the loop unsubscribed the iterator; the callback goes on.
  assert.equal(iterated.isClosed(), true);
  a.publish("news", "four");
  await a.flush();
  await until(() => heard.length === 4, "the fourth message");
  called.unsubscribe();
  assert.equal(called.isClosed(), true);
  await Promise.all([a.drain(), b.drain()]);
});

test("nats core: a reply subject and respond(); a callback's exception is reported, not fatal", async () => {
  await using nats = await startNatsServer();
  const statuses = new StatusLog();
  const a = await connectNatsCore(nats.url);
  const b = await connectNatsCore(nats.url, { onStatus: statuses.onStatus });
  b.subscribe("double", {
    callback: (_, msg) => {
      if (msg.text() === "boom") throw new Error("handler broke");
      msg.respond(String(Number(msg.text()) * 2));
    },
  });
  await b.flush();
  const answers = a.subscribe("answers.*");
  a.publish("double", "boom", { reply: "answers.0" });
  a.publish("double", "21", { reply: "answers.1" });
  const [answer] = await take(answers, 1);
  assert.equal(answer!.subject, "answers.1");
  assert.equal(answer!.text(), "42");
  const error = statuses.seen.find((s) => s.type === "error");
  assert.match(String((error?.data as Error).message), /handler broke/);
  await Promise.all([a.drain(), b.drain()]);
});

test("nats core: a queue group gives each message to one member, spread over them", async () => {
  await using nats = await startNatsServer();
  const [a, b] = await pair(nats.url);
  const counts = [0, 0, 0];
  const seen = new Map<string, number>();
  for (const [i, conn] of [a, b, b].entries()) {
    conn.subscribe("work", {
      queue: "workers",
      callback: (_, msg) => {
        counts[i]!++;
        seen.set(msg.text(), (seen.get(msg.text()) ?? 0) + 1);
      },
    });
  }
  await Promise.all([a.flush(), b.flush()]);
  for (let i = 0; i < 300; i++) a.publish("work", `job ${i}`);
  await until(() => seen.size === 300, "every job delivered");
  await Promise.all([a.flush(), b.flush()]);
  assert.ok([...seen.values()].every((n) => n === 1), "each job to one member");
  assert.equal(counts[0]! + counts[1]! + counts[2]!, 300);
  assert.ok(counts.every((n) => n > 0), `every member got some: ${counts}`);
  await Promise.all([a.drain(), b.drain()]);
});

test("nats core: wildcards * and >", async () => {
  await using nats = await startNatsServer();
  const [a, b] = await pair(nats.url);
  const star: string[] = [];
  const tail: string[] = [];
  b.subscribe("orders.*.created", { callback: (_, msg) => star.push(msg.subject) });
  b.subscribe("orders.>", { callback: (_, msg) => tail.push(msg.subject) });
  await b.flush();
  for (
    const subject of ["orders.eu.created", "orders.eu.deleted", "orders.us.created", "orders.a.b.c"]
  ) a.publish(subject, "x");
  a.publish("orders", "not under orders.>");
  await until(() => tail.length === 4, "the > messages");
  await b.flush();
  assert.deepEqual(star, ["orders.eu.created", "orders.us.created"]);
  assert.deepEqual(tail, [
    "orders.eu.created",
    "orders.eu.deleted",
    "orders.us.created",
    "orders.a.b.c",
  ]);
  await Promise.all([a.drain(), b.drain()]);
});

test("nats core: headers from a Headers and from a record round trip; NatsHeaders reads them", async () => {
  await using nats = await startNatsServer();
  const [a, b] = await pair(nats.url);
  const sub = b.subscribe("h");
  const pairs = b.subscribe("pairs");
  await b.flush();
  const headers = new Headers([["Trace-Id", "abc"], ["X-Many", "1"]]);
  headers.append("X-Many", "2");
  a.publish("h", "with Headers", { headers });
  a.publish("h", "with a record", { headers: { "Trace-Id": "def", Empty: "" } });
  a.publish("h", "with none");
  const [first, second, third] = await take(sub, 3);
  // Headers lowercases names and joins repeated values.
  assert.equal(first!.text(), "with Headers");
  assert.equal(first!.headers?.get("trace-id"), "abc");
  assert.equal(first!.headers?.get("TRACE-ID"), "abc", "any case of a name");
  assert.equal(first!.headers?.get("x-many"), "1, 2");
  assert.equal(first!.headers?.has("Trace-Id"), true);
  assert.equal(first!.headers?.has("absent"), false);
  assert.equal(first!.headers?.get("absent"), "");
  assert.deepEqual(first!.headers?.keys(), ["trace-id", "x-many"]);
  assert.equal(first!.headers?.code, 0);
  assert.equal(second!.text(), "with a record");
  assert.equal(second!.headers?.get("Trace-Id"), "def");
  assert.deepEqual(second!.headers?.keys(), ["Trace-Id", "Empty"]);
  assert.deepEqual(second!.headers?.values("empty"), [""]);
  assert.equal(third!.headers, undefined);
  assert.equal(third!.headerBytes.length, 0);
  // Repeated names as a block of pairs: values() gives each, in order.
  a.publish("pairs", "", { headers: encoder.encode("NATS/1.0\r\nA: 1\r\nB: x\r\na: 2\r\n\r\n") });
  const [fourth] = await take(pairs, 1);
  assert.deepEqual(fourth!.headers?.values("A"), ["1", "2"]);
  assert.equal(fourth!.headers?.get("a"), "2", "the name as written first");
  assert.deepEqual(fourth!.headers?.keys(), ["A", "B", "a"]);
  assert.throws(() => a.publish("h", "", { headers: { "bad name": "x" } }), TypeError);
  assert.throws(() => a.publish("h", "", { headers: { ok: "line\r\nbreak" } }), TypeError);
  await Promise.all([a.drain(), b.drain()]);
});

test("nats core: subscribe({ max }) and unsubscribe(max) end after that many messages", async () => {
  await using nats = await startNatsServer();
  const [a, b] = await pair(nats.url);
  const capped = b.subscribe("m", { max: 2 });
  const counted: string[] = [];
  const later = b.subscribe("m", { callback: (_, msg) => counted.push(msg.text()) });
  later.unsubscribe(3);
  await b.flush();
  for (let i = 0; i < 5; i++) a.publish("m", String(i));
  const got: string[] = [];
  for await (const msg of capped) got.push(msg.text()); // ends by itself
  assert.deepEqual(got, ["0", "1"]);
  await a.flush();
  await b.flush();
  assert.deepEqual(counted, ["0", "1", "2"]);
  assert.equal(later.isClosed(), true);
  assert.equal(later.received, 3);
  await capped.closed;
  await later.closed;
  // unsubscribe(max) at or below what was received ends it at once.
  const done = b.subscribe("m", { callback: () => {} });
  done.unsubscribe(0);
  assert.equal(done.isClosed(), true);
  await Promise.all([a.drain(), b.drain()]);
});

test("nats core: echo: false keeps a connection's own messages from it", async () => {
  await using nats = await startNatsServer();
  const quiet = await connectNatsCore(nats.url, { echo: false });
  const other = await connectNatsCore(nats.url);
  const heard: string[] = [];
  quiet.subscribe("e", { callback: (_, msg) => heard.push(msg.text()) });
  await quiet.flush();
  quiet.publish("e", "mine");
  other.publish("e", "theirs");
  await other.flush();
  await until(() => heard.length === 1, "the other's message");
  await quiet.flush();
  assert.deepEqual(heard, ["theirs"]);
  await Promise.all([quiet.drain(), other.drain()]);
});

test("nats core: flush() resolves once the server has the subscription; publishes before it arrive", async () => {
  await using nats = await startNatsServer();
  const [a, b] = await pair(nats.url);
  const got: string[] = [];
  b.subscribe("f", { callback: (_, msg) => got.push(msg.text()) });
  await b.flush(); // without it, a's publish could reach the server first
  for (let i = 0; i < 100; i++) a.publish("f", String(i));
  await a.flush();
  await b.flush(); // the server sent b everything before its PONG
  assert.equal(got.length, 100);
  assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => String(i)));
  await Promise.all([a.drain(), b.drain()]);
});

test("nats core: drain() handles what was delivered, then closes; closed() resolves", async () => {
  await using nats = await startNatsServer();
  const [a, b] = await pair(nats.url);
  const handled: number[] = [];
  const iterated = b.subscribe("d");
  const reading = (async () => {
    for await (const msg of iterated) {
      await new Promise((resolve) => setTimeout(resolve, 1)); // a slow reader
      handled.push(Number(msg.text()));
    }
  })();
  await b.flush();
  for (let i = 0; i < 50; i++) a.publish("d", String(i));
  await a.flush();
  await b.flush(); // all 50 are read by b
  await b.drain();
  await reading; // the iterator ends after the queue is empty
  assert.deepEqual(handled, Array.from({ length: 50 }, (_, i) => i));
  assert.equal(b.isClosed(), true);
  assert.equal(await b.closed(), undefined);
  assert.throws(() => b.publish("d", "late"), /closed/);
  assert.throws(() => b.subscribe("d"), /closed/);
  await assert.rejects(b.flush(), /closed/);
  await a.close();
  assert.equal(await a.closed(), undefined);
});

test("nats core: stats() counts messages and bytes both ways", async () => {
  await using nats = await startNatsServer();
  const [a, b] = await pair(nats.url);
  const sub = b.subscribe("s");
  await b.flush();
  const before = b.stats();
  a.publish("s", "12345");
  a.publish("s", new Uint8Array(10), { headers: { k: "v" } });
  await take(sub, 2);
  const header = "NATS/1.0\r\nk: v\r\n\r\n".length;
  assert.deepEqual(a.stats(), {
    inMsgs: 0,
    outMsgs: 2,
    inBytes: a.stats().inBytes,
    outBytes: 15 + header,
  });
  const after = b.stats();
  assert.equal(after.inMsgs - before.inMsgs, 2);
  assert.ok(after.inBytes - before.inBytes >= 15 + header, "the read bytes include the messages");
  assert.equal(after.outMsgs, 0);
  await Promise.all([a.drain(), b.drain()]);
});

test("nats core: text and binary payloads; non-ASCII text is sent as its UTF-8", async () => {
  await using nats = await startNatsServer();
  const [a, b] = await pair(nats.url);
  const sub = b.subscribe("p");
  await b.flush();
  const text = "héllo wörld ✓ 🚀";
  const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
  a.publish("p", text);
  a.publish("p", binary);
  a.publish("p", "");
  a.publish("p", `${"x".repeat(70_000)}é`); // past the first buffer's size
  const [t, bin, empty, big] = await take(sub, 4);
  assert.deepEqual(t!.data, encoder.encode(text));
  assert.equal(t!.text(), text);
  assert.equal(t!.string(), text);
  assert.deepEqual(bin!.data, binary);
  assert.equal(empty!.data.length, 0);
  assert.equal(empty!.text(), "");
  assert.equal(big!.data.length, 70_002);
  assert.equal(big!.text(), `${"x".repeat(70_000)}é`);
  await Promise.all([a.drain(), b.drain()]);
});

test("nats core: text() throws TypeError on invalid UTF-8, string() replaces it", async () => {
  await using nats = await startNatsServer();
  const [a, b] = await pair(nats.url);
  const iterated = b.subscribe("u");
  const called: NatsCoreMessage[] = [];
  b.subscribe("u", { callback: (_, msg) => called.push(msg) });
  await b.flush();
  a.publish("u", new Uint8Array([0x68, 0x69, 0xff, 0xfe]));
  const [queued] = await take(iterated, 1);
  await until(() => called.length === 1, "the callback's message");
  for (const msg of [queued!, called[0]!]) {
    assert.throws(() => msg.text(), TypeError);
    assert.equal(msg.string(), "hi\uFFFD\uFFFD");
  }
  await Promise.all([a.drain(), b.drain()]);
});

test("nats core: a publish past the server's max_payload throws RangeError; the connection goes on", async () => {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "parley-nats-" });
  try {
    await Deno.writeTextFile(`${dir}/nats.conf`, "max_payload: 1024\n");
    await using nats = await startNatsServer(0, { args: ["-c", `${dir}/nats.conf`] });
    const [a, b] = await pair(nats.url);
    assert.equal(a.info.max_payload, 1024);
    const sub = b.subscribe("big");
    await b.flush();
    assert.throws(() => a.publish("big", new Uint8Array(1025)), RangeError);
    assert.throws(() => a.publish("big", "é".repeat(513)), RangeError, "UTF-8 bytes count");
    assert.throws(
      () => a.publish("big", new Uint8Array(1000), { headers: { pad: "x".repeat(30) } }),
      RangeError,
      "headers count",
    );
    a.publish("big", new Uint8Array(1024));
    a.publish("big", "after");
    const [full, after] = await take(sub, 2);
    assert.equal(full!.data.length, 1024);
    assert.equal(after!.text(), "after");
    assert.equal(a.stats().outMsgs, 2);
    await Promise.all([a.drain(), b.drain()]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("nats core: an iterated subscription not read keeps at most pendingLimits.messages; slowConsumer is told", async () => {
  await using nats = await startNatsServer();
  const statuses = new StatusLog();
  const a = await connectNatsCore(nats.url);
  const b = await connectNatsCore(nats.url, {
    pendingLimits: { messages: 10 },
    onStatus: statuses.onStatus,
  });
  const flooded = b.subscribe("flood");
  await b.flush();
  for (let i = 0; i < 100; i++) a.publish("flood", String(i));
  await a.flush();
  await b.flush();
  const slow = statuses.seen.filter((s) => s.type === "slowConsumer");
  assert.equal(slow.length, 1, "told once while dropping");
  assert.equal(slow[0]!.data, "flood");
  assert.equal(flooded.received, 100);
  flooded.unsubscribe(); // the queue is still read out
  const kept: string[] = [];
  for await (const msg of flooded) kept.push(msg.text());
  assert.deepEqual(kept, Array.from({ length: 10 }, (_, i) => String(i)));
  await Promise.all([a.drain(), b.drain()]);
});
