/**
 * The floor of `nats_bench.ts`: a NATS round trip with no framework. A
 * client and a responder that speak NATS's text protocol (`PUB`, `SUB`,
 * `MSG`) straight on `Deno.connect`, each read's messages answered in one
 * write: what a request through the broker costs on this machine at the
 * least. Not a NATS client (no reconnection, no headers, no TLS): a baseline.
 *
 * Run as a program, it is the responder: `deno run --allow-net
 * tests/bench/_nats_minimal.ts NATS_URL` echoes on `minimal-echo` and prints
 * `listening 0` once NATS has its subscription.
 *
 * @module
 */

import { concatBytes } from "../../rpc/framing/_concat.ts";
import { startServer } from "./_harness.ts";
import { type Costed, costed } from "./_nats_costs.ts";

const SUBJECT = "minimal-echo";
const CRLF = new Uint8Array([13, 10]);
const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** One parsed `MSG subject sid [reply] size` and its payload. */
export type OnMessage = (subject: string, reply: string | undefined, payload: Uint8Array) => void;

// Reads NATS's stream: MSG with its payload to `onMessage`, PING answered.
async function readLoop(conn: Deno.Conn, onMessage: OnMessage, onPong: () => void) {
  let pending = new Uint8Array(0);
  const chunk = new Uint8Array(256 * 1024);
  for (;;) {
    const n = await conn.read(chunk);
    if (n === null) return;
    const read = chunk.subarray(0, n);
    const buf = pending.length > 0 ? concatBytes([pending, read]) : read;
    let at = 0;
    for (;;) {
      const eol = buf.indexOf(10, at);
      if (eol === -1) break;
      const line = latin1.decode(buf.subarray(at, eol - 1));
      // MSG subject sid [reply] size; HMSG subject sid [reply] header-size size
      const headed = line.startsWith("HMSG ");
      if (headed || line.startsWith("MSG ")) {
        const parts = line.split(" ");
        const size = Number(parts[parts.length - 1]);
        if (eol + 1 + size + 2 > buf.length) break; // the payload is still coming
        const skip = headed ? Number(parts[parts.length - 2]) : 0; // headers: not read here
        const reply = parts.length === (headed ? 6 : 5) ? parts[3] : undefined;
        onMessage(parts[1]!, reply, buf.subarray(eol + 1 + skip, eol + 1 + size));
        at = eol + 1 + size + 2;
        continue;
      }
      if (line === "PING") conn.write(encoder.encode("PONG\r\n")).catch(() => {});
      if (line === "PONG") onPong();
      if (line.startsWith("-ERR")) throw new Error(line);
      at = eol + 1;
    }
    pending = buf.slice(at);
  }
}

// Concatenates one turn's publishes into one write.
function publisher(conn: Deno.Conn) {
  let parts: Uint8Array[] = [];
  let size = 0;
  const flush = () => {
    const out = concatBytes(parts, size);
    parts = [];
    size = 0;
    conn.write(out).catch(() => {});
  };
  return (subject: string, reply: string | undefined, payload: Uint8Array) => {
    const head = encoder.encode(
      reply === undefined
        ? `PUB ${subject} ${payload.length}\r\n`
        : `PUB ${subject} ${reply} ${payload.length}\r\n`,
    );
    if (parts.length === 0) queueMicrotask(flush);
    parts.push(head, payload, CRLF);
    size += head.length + payload.length + 2;
  };
}

/**
 * Connects to NATS, subscribes (`subscribe` is the `SUB` line), and waits
 * until the server has the subscription.
 *
 * @param url the NATS server
 * @param onMessage told each message: subject, reply subject, payload
 * @param subscribe the `SUB subject [queue] sid` line
 * @returns the connection, its publisher (one write per turn), its read loop
 */
export async function open(url: string, onMessage: OnMessage, subscribe: string): Promise<{
  conn: Deno.Conn;
  publish: (subject: string, reply: string | undefined, payload: Uint8Array) => void;
  done: Promise<void>;
}> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  await conn.write(encoder.encode(
    `CONNECT {"verbose":false,"pedantic":false,"headers":true,"lang":"deno-minimal"}\r\n` +
      `${subscribe}\r\nPING\r\n`,
  ));
  const subscribed = Promise.withResolvers<void>();
  const done = readLoop(conn, onMessage, () => subscribed.resolve());
  done.catch(subscribed.reject);
  await subscribed.promise;
  return { conn, publish: publisher(conn), done };
}

/**
 * Starts the minimal responder, drives the minimal client with `depth`
 * requests in flight, and stops the responder.
 *
 * @param url the NATS server
 * @param brokerPid the NATS server's process, for its CPU
 * @param depth requests in flight
 * @returns requests per second, and the CPU each process spent per request
 */
export async function minimalNatsRequests(
  url: string,
  brokerPid: number,
  depth: number,
): Promise<Costed> {
  const responder = await startServer(url, new URL(import.meta.url));
  const waiting = new Map<number, (payload: Uint8Array) => void>();
  const client = await open(url, (subject, _reply, payload) => {
    // The reply subject's last token is the request's number.
    waiting.get(Number(subject.slice(subject.lastIndexOf(".") + 1)))?.(payload);
  }, "SUB _INBOX.minimal.* 1");
  const { conn, publish } = client;
  let next = 0;
  const payload = encoder.encode(
    '{"jsonrpc":"2.0","id":12345,"method":"add","params":[1234,1234]}',
  );
  const request = () => {
    const n = next++;
    const { promise, resolve } = Promise.withResolvers<Uint8Array>();
    waiting.set(n, resolve);
    publish(SUBJECT, `_INBOX.minimal.${n}`, payload);
    return promise.finally(() => waiting.delete(n));
  };
  for (let i = 0; i < 50; i++) await request();
  const result = await costed([responder.pid], brokerPid, depth, request);
  conn.close();
  await client.done.catch(() => {});
  await responder.stop();
  return result;
}

if (import.meta.main) {
  const { publish } = await open(Deno.args[0]!, (_subject, reply, payload) => {
    if (reply !== undefined) publish(reply, undefined, payload);
  }, `SUB ${SUBJECT} ${SUBJECT} 1`);
  console.log("listening 0");
}
