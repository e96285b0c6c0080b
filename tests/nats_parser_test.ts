/**
 * The NATS client's sans-IO pieces without a server: the parser
 * (protocols/nats/_parser.ts) by property (random operations cut anywhere
 * give the events of the whole; random bytes fail only as NATS protocol
 * errors; its bounds), the write buffer (_output.ts) and the server list
 * (_servers.ts).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { type Chunk, NatsParser, NatsProtocolError } from "../protocols/nats/_parser.ts";
import { Output } from "../protocols/nats/_output.ts";
import { parseServer, Servers } from "../protocols/nats/_servers.ts";
import { concat } from "../testing/framing_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the parser reported, as plain values. */
type Event =
  | ["info", string]
  | ["message", string, number, string | undefined, number, number[]]
  | ["ping"]
  | ["pong"]
  | ["error", string];

/** One server operation: its bytes, and the event it should give (none for +OK). */
interface Op {
  readonly bytes: Uint8Array;
  readonly event: Event | undefined;
}

// A parser that records its events; a message's view is checked against its read.
function recording(limits = { maxControlLine: 4096, maxPayload: 64 * 1024 }) {
  const events: Event[] = [];
  const parser = new NatsParser({
    info: (json) => events.push(["info", json]),
    message: (subject, sid, reply, headerLength, bytes, source: Chunk | undefined, at) => {
      if (source !== undefined) {
        assert.deepEqual(source.bytes.subarray(at, at + bytes.length), bytes, "a view of its read");
      }
      events.push(["message", subject, sid, reply, headerLength, [...bytes]]);
    },
    ping: () => events.push(["ping"]),
    pong: () => events.push(["pong"]),
    error: (text) => events.push(["error", text]),
  }, limits);
  return { parser, events };
}

// Feeds `bytes` cut at `cuts`, each piece in an array of its own (as reads are).
function feed(parser: NatsParser, bytes: Uint8Array, cuts: readonly number[]): void {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point <= from) continue;
    parser.receive(bytes.slice(from, point));
    from = point;
  }
}

const token = fc.stringMatching(/^[A-Za-z0-9_$-]{1,8}$/);
// Subjects of ASCII tokens, and some not ASCII (decoded rather than sliced).
const subject = fc.oneof(
  fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join(".")),
  fc.constantFrom("*", ">", "orders.*.é", "日本.語", "_INBOX.abc.7"),
);
const text = fc.array(fc.stringMatching(/^[A-Za-z0-9,.:]{1,6}$/), { minLength: 1, maxLength: 5 })
  .map((w) => w.join(" "));

const info: fc.Arbitrary<Op> = fc.dictionary(token, fc.jsonValue(), { maxKeys: 4 }).map((o) => {
  const json = JSON.stringify(o);
  return { bytes: encoder.encode(`INFO ${json}\r\n`), event: ["info", json] };
});
const msg: fc.Arbitrary<Op> = fc.record({
  subject,
  sid: fc.integer({ min: 1, max: 2 ** 31 }),
  reply: fc.option(subject, { nil: undefined }),
  payload: fc.uint8Array({ maxLength: 200 }),
}).map(({ subject, sid, reply, payload }) => ({
  bytes: concat([
    encoder.encode(
      `MSG ${subject} ${sid}${reply === undefined ? "" : ` ${reply}`} ${payload.length}\r\n`,
    ),
    payload,
    encoder.encode("\r\n"),
  ]),
  event: ["message", subject, sid, reply, 0, [...payload]],
}));
const hmsg: fc.Arbitrary<Op> = fc.record({
  subject,
  sid: fc.integer({ min: 1, max: 1000 }),
  reply: fc.option(subject, { nil: undefined }),
  headers: fc.dictionary(token, token, { maxKeys: 3 }),
  payload: fc.uint8Array({ maxLength: 100 }),
}).map(({ subject, sid, reply, headers, payload }) => {
  const block = encoder.encode(
    `NATS/1.0\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`,
  );
  const size = block.length + payload.length;
  const replyPart = reply === undefined ? "" : ` ${reply}`;
  return {
    bytes: concat([
      encoder.encode(`HMSG ${subject} ${sid}${replyPart} ${block.length} ${size}\r\n`),
      block,
      payload,
      encoder.encode("\r\n"),
    ]),
    event: ["message", subject, sid, reply, block.length, [...block, ...payload]],
  };
});
const simple = (line: string, event: Event | undefined): Op => ({
  bytes: encoder.encode(`${line}\r\n`),
  event,
});
const op: fc.Arbitrary<Op> = fc.oneof(
  info,
  msg,
  hmsg,
  fc.constant(simple("PING", ["ping"])),
  fc.constant(simple("PONG", ["pong"])),
  fc.constant(simple("+OK", undefined)),
  text.map((t) => simple(`-ERR '${t}'`, ["error", t])),
);

Deno.test("nats parser: random operations cut at random points give the events of the whole", () => {
  fc.assert(
    fc.property(
      fc.array(op, { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (ops, cuts) => {
        const bytes = concat(ops.map((o) => o.bytes));
        const expected = ops.flatMap((o) => o.event === undefined ? [] : [o.event]);
        const whole = recording();
        whole.parser.receive(bytes.slice());
        assert.deepEqual(whole.events, expected);
        const cut = recording();
        feed(cut.parser, bytes, cuts);
        assert.deepEqual(cut.events, expected);
        const bytewise = recording();
        feed(bytewise.parser, bytes, Array.from(bytes, (_, i) => i));
        assert.deepEqual(bytewise.events, expected);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("nats parser: random bytes fail only as NatsProtocolError, within its bounds", () => {
  const pieces = [
    "MSG ",
    "HMSG ",
    "INFO ",
    "PING",
    "PONG",
    "+OK",
    "-ERR ",
    "\r\n",
    "\r",
    "\n",
    " ",
    "a.b",
    "1",
    "99999",
    "9".repeat(16),
    "é",
    "\u0000",
  ].map((p) => encoder.encode(p));
  const chunk = fc.oneof(
    fc.constantFrom(...pieces),
    fc.uint8Array({ minLength: 1, maxLength: 12 }),
    op.map((o) => o.bytes), // whole operations among the noise
    op.map((o) => o.bytes.subarray(0, o.bytes.length >> 1)),
  );
  fc.assert(
    fc.property(
      fc.array(chunk, { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (parts, cuts) => {
        const bytes = concat(parts);
        const { parser } = recording({ maxControlLine: 64, maxPayload: 512 });
        try {
          feed(parser, bytes, cuts);
        } catch (error) {
          assert.ok(error instanceof NatsProtocolError, `${error}`);
        }
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("nats parser: a control line past maxControlLine is an error, whole or arriving", () => {
  const long = encoder.encode(`INFO {"a":"${"x".repeat(100)}"}\r\n`);
  assert.throws(
    () => recording({ maxControlLine: 64, maxPayload: 512 }).parser.receive(long),
    NatsProtocolError,
  );
  // Arriving without its end: refused before it is all there.
  const { parser } = recording({ maxControlLine: 64, maxPayload: 512 });
  parser.receive(encoder.encode("INFO {"));
  assert.throws(() => parser.receive(encoder.encode("x".repeat(70))), /longer than 64 bytes/);
  // One at the limit is taken.
  const fits = recording({ maxControlLine: 64, maxPayload: 512 });
  fits.parser.receive(encoder.encode(`INFO ${JSON.stringify({ a: "y".repeat(50) })}\r\n`));
  assert.equal(fits.events.length, 1);
});

Deno.test("nats parser: a message past maxPayload is an error before anything is allocated for it", () => {
  for (const line of ["MSG x 1 513\r\n", "HMSG x 1 10 513\r\n", "MSG x 1 999999999999\r\n"]) {
    const { parser, events } = recording({ maxControlLine: 64, maxPayload: 512 });
    assert.throws(() => parser.receive(encoder.encode(line)), /past the limit 512/);
    assert.deepEqual(events, []);
  }
  const { parser } = recording({ maxControlLine: 64, maxPayload: 512 });
  assert.throws(
    () => parser.receive(encoder.encode(`MSG x 1 ${"9".repeat(16)}\r\n`)),
    NatsProtocolError,
  );
  // The limit may be raised between reads (the server's max_payload).
  const raised = recording({ maxControlLine: 64, maxPayload: 512 });
  raised.parser.maxPayload = 2048;
  raised.parser.receive(
    concat([encoder.encode("MSG x 1 1000\r\n"), new Uint8Array(1000), encoder.encode("\r\n")]),
  );
  assert.equal(raised.events.length, 1);
});

Deno.test("nats parser: malformed messages are errors", () => {
  for (
    const bad of [
      "MSG x\r\n",
      "MSG x 1 2 3 4 5\r\n",
      "MSG x y 2\r\nab\r\n",
      "HMSG x 1 5 3\r\nabc\r\n", // headers larger than the message
      "MSG x 1 2\r\nabcd\r\n", // the payload does not end where said
      "HELLO\r\n",
      "MSGX x 1 2\r\nab\r\n",
    ]
  ) {
    const { parser } = recording();
    assert.throws(() => parser.receive(encoder.encode(bad)), NatsProtocolError, bad);
  }
});

Deno.test("nats output: a PUB line counts the UTF-8 bytes of a text payload", () => {
  const output = new Output();
  const text = "héllo ✓ 🚀";
  const size = output.publish("greet", undefined, undefined, text);
  assert.equal(size, encoder.encode(text).length);
  output.publish("ascii", "reply.1", undefined, "plain");
  const written = decoder.decode(output.take());
  assert.equal(written, `PUB greet ${size}\r\n${text}\r\nPUB ascii reply.1 5\r\nplain\r\n`);
});

Deno.test("nats output: HPUB with headers, a subject not ASCII, growth, truncate, take and release", () => {
  const output = new Output();
  const block = encoder.encode("NATS/1.0\r\nk: v\r\n\r\n");
  const size = output.publish("é.subject", "r", block, new Uint8Array([1, 2, 3]));
  assert.equal(size, block.length + 3);
  const first = output.take();
  assert.deepEqual(
    first,
    concat([
      encoder.encode(`HPUB é.subject r ${block.length} ${size}\r\n`),
      block,
      new Uint8Array([1, 2, 3]),
      encoder.encode("\r\n"),
    ]),
  );
  output.release(first);
  // Past the first buffer: it grows, keeping what it held.
  const big = new Uint8Array(40_000).fill(7);
  output.line("PING");
  output.publish("big", undefined, undefined, big);
  const taken = output.take();
  assert.equal(decoder.decode(taken.subarray(0, 21)), "PING\r\nPUB big 40000\r\n");
  assert.deepEqual(taken.subarray(21, 21 + 40_000), big);
  output.release(taken);
  // truncate() drops what came after a size.
  output.line("SUB a 1");
  const before = output.size;
  output.publish("b", undefined, undefined, "dropped");
  output.truncate(before);
  output.line("UNSUB 1");
  assert.equal(decoder.decode(output.take()), "SUB a 1\r\nUNSUB 1\r\n");
  assert.equal(output.size, 0);
  // A non-ASCII text after others in a grown buffer is still counted in bytes.
  output.publish("x", undefined, undefined, "a".repeat(20_000) + "é");
  assert.match(decoder.decode(output.take().subarray(0, 20)), /^PUB x 20002\r\n/);
});

Deno.test("nats servers: addresses read as host, port, TLS and credentials", () => {
  const s = parseServer("tls://al%40ice:p%3Ass@nats.example:4443");
  assert.deepEqual(
    [s.hostname, s.port, s.tls, s.user, s.pass, s.discovered],
    ["nats.example", 4443, true, "al@ice", "p:ss", false],
  );
  const plain = parseServer("127.0.0.1");
  assert.deepEqual([plain.hostname, plain.port, plain.tls], ["127.0.0.1", 4222, false]);
  assert.equal(plain.user, undefined);
  assert.equal(parseServer("localhost:5222").port, 5222);
  assert.equal(parseServer("nats://[::1]:4222").hostname, "::1");
  const token = parseServer("nats://t0ken@h:1");
  assert.deepEqual([token.user, token.pass], ["t0ken", undefined]);
  assert.equal(parseServer("h:1", true).discovered, true);
  assert.throws(() => parseServer("http://h:1"), TypeError);
  assert.throws(() => parseServer("nats://"), TypeError);
  assert.throws(() => new Servers([], false), TypeError);
});

Deno.test("nats servers: discovery adds new servers once; next() goes round, skipping those that gave out", () => {
  const servers = new Servers(["nats://a:1", "nats://b:2"], false);
  assert.deepEqual(servers.list.map((s) => s.hostname), ["a", "b"]);
  assert.equal(servers.discover(["a:1", "c:3", 7, "http://bad:1", "c:3"]), true);
  assert.equal(servers.discover(["b:2"]), false);
  assert.deepEqual(servers.list.map((s) => `${s.hostname}:${s.port}:${s.discovered}`), [
    "a:1:false",
    "b:2:false",
    "c:3:true",
  ]);
  assert.deepEqual([1, 2, 3, 4].map(() => servers.next(2)?.hostname), ["a", "b", "c", "a"]);
  servers.list[1]!.failures = 2;
  assert.deepEqual([1, 2, 3].map(() => servers.next(2)?.hostname), ["c", "a", "c"]);
  for (const server of servers.list) server.failures = 2;
  assert.equal(servers.next(2), undefined);
  assert.ok(servers.next(-1) !== undefined, "-1 never gives up");
  // Shuffled: the same servers, in some order.
  const shuffled = new Servers(["nats://a:1", "nats://b:2", "nats://c:3"], true);
  assert.deepEqual(shuffled.list.map((s) => s.hostname).sort(), ["a", "b", "c"]);
});
