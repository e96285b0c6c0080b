/**
 * parley's own NATS client against a server scripted here (a `Deno.listen`
 * on 127.0.0.1) that breaks the protocol: bytes that are not NATS, PINGs
 * never answered, a message too large to take, a refusal, an INFO that is
 * not JSON, no INFO at all. The client reports, reconnects or rejects; the
 * process goes on and nothing is left running.
 */

import assert from "node:assert/strict";
import { connectNatsCore, type NatsStatus } from "../rpc/transports/nats.ts";
import { NatsProtocolError } from "../protocols/nats/mod.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { StatusLog, until } from "./_nats_core.ts";
import { needs } from "./_needs.ts";

const encoder = new TextEncoder();
const INFO =
  'INFO {"server_id":"scripted","version":"2.9.0","max_payload":1048576,"headers":true}\r\n';

/** One accepted connection, as the script sees it. */
interface ScriptedConn {
  /** Its number, from 0, in the order accepted. */
  readonly index: number;
  /** Sends text. */
  send(text: string): Promise<void>;
  /** Reads until `text` has arrived (or the connection ends). */
  readUntil(text: string): Promise<string>;
  /** INFO, then the client's CONNECT and PING answered with PONG. */
  accept(): Promise<void>;
}

/**
 * A server whose every connection runs `script`, and is closed when it
 * ends; closed with its connections.
 */
function scriptedServer(script: (conn: ScriptedConn) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const running: Promise<void>[] = [];
  let ended = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      const index = conns.length;
      conns.push(conn);
      let seen = "";
      const decoder = new TextDecoder();
      const scripted: ScriptedConn = {
        index,
        send: async (text) => {
          const bytes = encoder.encode(text);
          for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
        },
        readUntil: async (text) => {
          const buffer = new Uint8Array(4096);
          while (!seen.includes(text)) {
            const n = await conn.read(buffer);
            if (n === null) break;
            seen += decoder.decode(buffer.subarray(0, n), { stream: true });
          }
          const at = seen.indexOf(text);
          const got = at < 0 ? seen : seen.slice(0, at + text.length);
          seen = at < 0 ? "" : seen.slice(at + text.length);
          return got;
        },
        accept: async () => {
          await scripted.send(INFO);
          await scripted.readUntil("PING\r\n");
          await scripted.send("PONG\r\n");
        },
      };
      // The connection closes when its script ends.
      const ending = script(scripted).catch(() => {}).finally(() => {
        ended++;
        try {
          conn.close();
        } catch { /* closed already */ }
      });
      running.push(ending);
    }
  })();
  return {
    url: `nats://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    get accepted() {
      return conns.length;
    },
    /** Connections whose script has ended (`hold` ends when the client closes). */
    get ended() {
      return ended;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed by the client */ }
      }
      await serving.catch(() => {});
      await Promise.all(running);
    },
  };
}

// Holds a connection open until the server closes it.
async function hold(conn: ScriptedConn): Promise<void> {
  await conn.readUntil("\u0000never");
}

function errorsOf(statuses: NatsStatus[]): Error[] {
  return statuses.filter((s) => s.type === "error").map((s) => s.data as Error);
}

const quick = { reconnectTimeWait: 20, reconnectJitter: 0 };

Deno.test("nats core bad server: bytes that are not NATS after the handshake: an error, then a reconnection", async () => {
  await using server = scriptedServer(async (conn) => {
    await conn.accept();
    if (conn.index === 0) await conn.send("HTTP/1.1 400 Bad Request\r\n\r\n");
    await hold(conn);
  });
  const statuses = new StatusLog();
  const nc = await connectNatsCore(server.url, { ...quick, onStatus: statuses.onStatus });
  await statuses.waitFor("reconnect");
  const [error] = errorsOf(statuses.seen);
  assert.ok(error instanceof NatsProtocolError, `${error}`);
  assert.match(error.message, /Not NATS: "HTTP\/1\.1 400/);
  assert.deepEqual(statuses.types, ["error", "disconnect", "reconnecting", "reconnect"]);
  assert.equal(server.accepted, 2);
  await nc.close();
});

Deno.test("nats core bad server: PINGs never answered: staleConnection, then a reconnection", async () => {
  await using server = scriptedServer(async (conn) => {
    await conn.accept();
    await hold(conn); // reads the PINGs, answers none
  });
  const statuses = new StatusLog();
  const nc = await connectNatsCore(server.url, {
    ...quick,
    pingInterval: 50,
    maxPingOut: 2,
    onStatus: statuses.onStatus,
  });
  await statuses.waitFor("reconnect");
  const types = statuses.types;
  assert.deepEqual(types.slice(0, 4), [
    "staleConnection",
    "disconnect",
    "reconnecting",
    "reconnect",
  ]);
  assert.ok(server.accepted >= 2);
  await nc.close();
});

Deno.test("nats core bad server: a MSG announcing 999999999999 bytes is a protocol error, nothing allocated", async () => {
  await using server = scriptedServer(async (conn) => {
    await conn.accept();
    if (conn.index === 0) await conn.send("MSG x 1 999999999999\r\n");
    await hold(conn);
  });
  const statuses = new StatusLog();
  const nc = await connectNatsCore(server.url, { ...quick, onStatus: statuses.onStatus });
  nc.subscribe("x", { callback: () => assert.fail("no message") });
  await statuses.waitFor("reconnect");
  const [error] = errorsOf(statuses.seen);
  assert.ok(error instanceof NatsProtocolError, `${error}`);
  assert.match(error.message, /999999999999 bytes, past the limit/);
  await nc.close();
});

Deno.test("nats core bad server: -ERR in the handshake rejects the connect with the server's words", async () => {
  await using server = scriptedServer(async (conn) => {
    await conn.send(INFO);
    await conn.readUntil("PING\r\n");
    await conn.send("-ERR 'Authorization Violation'\r\n");
  });
  await assert.rejects(
    connectNatsCore(server.url, { timeout: 5_000 }),
    /refused the connection: Authorization Violation/,
  );
});

Deno.test("nats core bad server: an INFO that is not JSON rejects the connect", async () => {
  await using server = scriptedServer(async (conn) => {
    await conn.send("INFO {not json\r\n");
    await hold(conn);
  });
  await assert.rejects(
    connectNatsCore(server.url, { timeout: 5_000 }),
    /does not speak NATS: An INFO that is not JSON/,
  );
  await using other = scriptedServer(async (conn) => {
    await conn.send("INFO [1,2]\r\n");
    await hold(conn);
  });
  await assert.rejects(connectNatsCore(other.url, { timeout: 5_000 }), /not an object/);
});

Deno.test("nats core bad server: a server that never sends INFO: the connect rejects after timeout", async () => {
  await using server = scriptedServer(hold);
  await assert.rejects(connectNatsCore(server.url, { timeout: 100 }), /no answer in 100 ms/);
});

Deno.test("nats core bad server: close() while a reconnection waits for a silent server's INFO leaves nothing running", async () => {
  await using server = scriptedServer(async (conn) => {
    if (conn.index === 0) {
      await conn.accept();
      await conn.send("GARBAGE\r\n"); // the first connection breaks
    }
    await hold(conn); // the next never says INFO
  });
  const statuses = new StatusLog();
  const nc = await connectNatsCore(server.url, {
    ...quick,
    timeout: 60_000,
    onStatus: statuses.onStatus,
  });
  await statuses.waitFor("reconnecting");
  await until(() => server.accepted === 2, "the second connection");
  const told = statuses.types.length;
  await nc.close();
  assert.equal(await nc.closed(), undefined);
  // The attempt's socket is closed by the client, not left to the server.
  await until(() => server.ended === 2, "the attempt's socket closed", 1_000);
  assert.deepEqual(statuses.types.slice(told), [], "nothing told after close()");
});

Deno.test("nats core bad server: a message split into single bytes arrives whole", async () => {
  await using server = scriptedServer(async (conn) => {
    await conn.accept();
    await conn.readUntil("SUB in 1\r\n");
    const bytes = "HMSG in 1 r.1 18 23\r\nNATS/1.0\r\nk: v\r\n\r\nhello\r\nPING\r\n";
    for (const ch of bytes) await conn.send(ch);
    await conn.readUntil("PONG\r\n");
    await conn.send("MSG in 1 2\r\nok\r\n");
    await hold(conn);
  });
  const nc = await connectNatsCore(server.url);
  const sub = nc.subscribe("in", { max: 2 });
  const got: string[] = [];
  for await (const msg of sub) got.push(`${msg.reply} ${msg.headers?.get("k")} ${msg.text()}`);
  assert.deepEqual(got, ["r.1 v hello", "undefined undefined ok"]);
  await nc.close();
});

Deno.test("nats core bad server: a PING in the same read as the handshake's PONG is answered", async () => {
  const answered = Promise.withResolvers<string>();
  await using server = scriptedServer(async (conn) => {
    await conn.send(INFO);
    await conn.readUntil("PING\r\n");
    await conn.send("PONG\r\nPING\r\n"); // one write: one read, most likely
    answered.resolve(await conn.readUntil("PONG\r\n"));
    await hold(conn);
  });
  const nc = await connectNatsCore(server.url);
  const timer = setTimeout(() => answered.resolve("no PONG within 5 s"), 5_000);
  assert.match(await answered.promise, /PONG\r\n$/);
  clearTimeout(timer);
  await nc.close();
});

Deno.test({
  name:
    "nats core bad server: servers the INFO tells of are tried when the first goes; ldm is told",
  ignore: needs("nats-server"),
}, async () => {
  await using nats = await startNatsServer();
  await using server = scriptedServer(async (conn) => {
    if (conn.index > 0) return; // refuses every later connection: closed at once
    await conn.accept();
    await conn.send(`INFO {"connect_urls":["127.0.0.1:${nats.port}"],"ldm":true}\r\n`);
    await conn.readUntil("PING\r\n"); // the client's keep-alive, or its flush
  });
  const statuses = new StatusLog();
  const nc = await connectNatsCore(server.url, {
    ...quick,
    onStatus: statuses.onStatus,
  });
  await statuses.waitFor("update");
  await statuses.waitFor("ldm");
  assert.deepEqual(statuses.seen.find((s) => s.type === "update")?.data, [
    `127.0.0.1:${nats.port}`,
  ]);
  const flushed = nc.flush(); // its PING ends the scripted server's connection
  await statuses.waitFor("reconnect");
  await flushed;
  assert.equal(nc.getServer(), `127.0.0.1:${nats.port}`);
  const sub = nc.subscribe("there", { max: 1 });
  nc.publish("there", "on the discovered server");
  for await (const msg of sub) assert.equal(msg.text(), "on the discovered server");
  await nc.close();
});

Deno.test("nats core bad server: close() with a write stuck on a server that reads nothing returns", async () => {
  const stop = Promise.withResolvers<void>();
  await using server = scriptedServer(async (conn) => {
    await conn.accept();
    await stop.promise; // reads nothing more: the client's writes fill the socket
  });
  const nc = await connectNatsCore(server.url, { maxPendingBytes: 1024 * 1024 * 1024 });
  const chunk = new Uint8Array(512 * 1024);
  // Publishes until the socket is full and a write waits on it.
  for (let i = 0; i < 100; i++) {
    nc.publish("fill", chunk);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const closing = nc.close().then(() => "closed");
  const timer = setTimeout(() => stop.resolve(), 5_000);
  const outcome = await Promise.race([closing, stop.promise.then(() => "still closing after 5 s")]);
  clearTimeout(timer);
  stop.resolve();
  assert.equal(outcome, "closed");
  assert.equal(nc.isClosed(), true);
});
