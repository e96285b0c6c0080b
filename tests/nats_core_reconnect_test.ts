/**
 * parley's own NATS client when its nats-server goes away: the statuses in
 * order, subscriptions made again, what was published meanwhile delivered,
 * the bound on it, giving up after `maxReconnectAttempts`, waiting for a
 * server at the first connect, and `close()` in the middle of it all.
 */

import assert from "node:assert/strict";
import { connectNatsCore, type NatsCoreMessage } from "../rpc/transports/nats.ts";
import { type NatsServerProcess, startNatsServer } from "../testing/nats_server.ts";
import { freePort, StatusLog, until } from "./_nats_core.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("nats-server");
// Fast reconnection, and no jitter to wait through.
const quick = { reconnectTimeWait: 20, reconnectJitter: 0 };

test("nats core reconnect: statuses in order; subscriptions work again; what was published meanwhile arrives", async () => {
  let nats: NatsServerProcess = await startNatsServer();
  const port = nats.port;
  const statuses = new StatusLog();
  const nc = await connectNatsCore(nats.url, { ...quick, onStatus: statuses.onStatus });
  const got: string[] = [];
  const sub = nc.subscribe("r.*", { queue: "q", callback: (_, msg) => got.push(msg.text()) });
  nc.publish("r.1", "before");
  await nc.flush();
  await until(() => got.length === 1, "the first message");
  try {
    await nats.stop();
    await statuses.waitFor("disconnect");
    assert.equal(nc.getServer(), "");
    // Published while disconnected: held, sent on reconnection after the SUB.
    nc.publish("r.2", "while away 1");
    nc.publish("r.3", "while away 2");
    const flushed = nc.flush(); // answered by the next server
    await statuses.waitFor("reconnecting");
    nats = await startNatsServer(port);
    await statuses.waitFor("reconnect");
    await flushed;
    await until(() => got.length === 3, "the messages published while away");
    assert.deepEqual(got, ["before", "while away 1", "while away 2"]);
    nc.publish("r.4", "after");
    await nc.flush();
    await until(() => got.length === 4, "a message after reconnecting");
    assert.equal(got[3], "after");
    assert.equal(nc.getServer(), `127.0.0.1:${port}`);
    assert.equal(sub.isClosed(), false);
    // In order: disconnect, then attempts (failures among them), then reconnect.
    const types = statuses.types.filter((t) => t !== "error");
    const first = types.indexOf("disconnect");
    assert.ok(first >= 0);
    assert.equal(types[first + 1], "reconnecting", `${types}`);
    assert.equal(types.at(-1), "reconnect", `${types}`);
    assert.ok(types.slice(first + 1, -1).every((t) => t === "reconnecting"), `${types}`);
    await nc.drain();
  } finally {
    await nats.stop();
  }
});

test("nats core reconnect: an iterated subscription with max goes on across a reconnection", async () => {
  let nats = await startNatsServer();
  const port = nats.port;
  const statuses = new StatusLog();
  const nc = await connectNatsCore(nats.url, { ...quick, onStatus: statuses.onStatus });
  try {
    const sub = nc.subscribe("it", { max: 3 });
    nc.publish("it", "1");
    await nc.flush();
    await nats.stop();
    await statuses.waitFor("disconnect");
    nats = await startNatsServer(port);
    await statuses.waitFor("reconnect");
    for (const n of ["2", "3", "4"]) nc.publish("it", n);
    const got: string[] = [];
    for await (const msg of sub as AsyncIterable<NatsCoreMessage>) got.push(msg.text());
    assert.deepEqual(got, ["1", "2", "3"], "max counts what came before");
    await nc.drain();
  } finally {
    await nats.stop();
  }
});

test("nats core reconnect: past reconnectBufSize while disconnected, publish throws RangeError", async () => {
  let nats = await startNatsServer();
  const port = nats.port;
  const statuses = new StatusLog();
  const nc = await connectNatsCore(nats.url, {
    ...quick,
    reconnectBufSize: 1_000,
    onStatus: statuses.onStatus,
  });
  try {
    const got: number[] = [];
    nc.subscribe("buf", { callback: (_, msg) => got.push(msg.data.length) });
    await nc.flush();
    await nats.stop();
    await statuses.waitFor("disconnect");
    nc.publish("buf", new Uint8Array(400));
    nc.publish("buf", new Uint8Array(400));
    assert.throws(() => nc.publish("buf", new Uint8Array(400)), RangeError);
    assert.equal(nc.stats().outMsgs, 2, "the refused one is not counted");
    nats = await startNatsServer(port);
    await statuses.waitFor("reconnect");
    await nc.flush();
    await until(() => got.length === 2, "the two held messages");
    // Connected again: the bound is maxPendingBytes, not reconnectBufSize.
    nc.publish("buf", new Uint8Array(4_000));
    await nc.flush();
    await until(() => got.length === 3, "a larger message once connected");
    assert.deepEqual(got, [400, 400, 4_000]);
    await nc.drain();
  } finally {
    await nats.stop();
  }
});

test("nats core reconnect: maxReconnectAttempts: 2 with no server: closed() resolves with an Error", async () => {
  const nats = await startNatsServer();
  const statuses = new StatusLog();
  const nc = await connectNatsCore(nats.url, {
    ...quick,
    maxReconnectAttempts: 2,
    onStatus: statuses.onStatus,
  });
  const got: string[] = [];
  const sub = nc.subscribe("x", { callback: (_, msg) => got.push(msg.text()) });
  const flushed = nc.flush();
  await flushed;
  await nats.stop();
  const pending = nc.flush().then(() => "resolved", (error: Error) => error.message);
  const closed = await nc.closed();
  assert.ok(closed instanceof Error, `closed with ${closed}`);
  assert.match(closed.message, /maxReconnectAttempts/);
  assert.equal(nc.isClosed(), true);
  assert.equal(sub.isClosed(), true);
  assert.equal(statuses.types.filter((t) => t === "reconnecting").length, 2, `${statuses.types}`);
  assert.notEqual(await pending, "resolved", "a flush waiting for a server fails");
  assert.throws(() => nc.publish("x", "late"), /closed/);
  await nc.close(); // nothing left to do
});

test("nats core reconnect: waitOnFirstConnect connects once a server starts later", async () => {
  const port = freePort();
  const statuses = new StatusLog();
  const connecting = connectNatsCore(`nats://127.0.0.1:${port}`, {
    ...quick,
    waitOnFirstConnect: true,
    onStatus: statuses.onStatus,
  });
  await statuses.waitFor("reconnecting", 2);
  await using _nats = await startNatsServer(port);
  const nc = await connecting;
  assert.equal(nc.getServer(), `127.0.0.1:${port}`);
  const sub = nc.subscribe("w", { max: 1 });
  nc.publish("w", "up");
  for await (const msg of sub) assert.equal(msg.text(), "up");
  await nc.drain();
  // Without it, the first connect fails at once.
  await assert.rejects(connectNatsCore(`nats://127.0.0.1:${freePort()}`));
});

test("nats core reconnect: close() during reconnection stops it, leaving nothing running", async () => {
  const nats = await startNatsServer();
  const statuses = new StatusLog();
  const nc = await connectNatsCore(nats.url, {
    reconnectTimeWait: 60_000, // a long wait, which close() must cut short
    onStatus: statuses.onStatus,
  });
  const flushed = nc.flush();
  await flushed;
  await nats.stop();
  await statuses.waitFor("reconnecting"); // the first attempt is at once, then the wait
  await statuses.waitFor("error");
  await nc.close();
  assert.equal(await nc.closed(), undefined);
  const seen = statuses.types.length;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(statuses.types.length, seen, "no attempt after close()");
  // The test sanitizers check that no timer or socket is left.
});

test("nats core reconnect: close() while an attempt is under way leaves nothing running", async () => {
  const nats = await startNatsServer();
  const statuses = new StatusLog();
  const nc = await connectNatsCore(nats.url, { ...quick, onStatus: statuses.onStatus });
  await nats.stop();
  await statuses.waitFor("reconnecting");
  // Attempts every 20 ms: close() lands during one or between two.
  await nc.close();
  assert.equal(nc.isClosed(), true);
});

test("nats core reconnect: drain() while disconnected closes at once (no server to drain through)", async () => {
  const nats = await startNatsServer();
  const statuses = new StatusLog();
  const nc = await connectNatsCore(nats.url, { ...quick, onStatus: statuses.onStatus });
  const sub = nc.subscribe("d.*", { callback: () => {} });
  await nc.flush();
  await nats.stop();
  await statuses.waitFor("disconnect");
  await nc.drain();
  assert.equal(nc.isClosed(), true);
  assert.equal(sub.isClosed(), true);
  assert.equal(await nc.closed(), undefined);
});
