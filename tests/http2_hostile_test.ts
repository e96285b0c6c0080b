/**
 * Hostile input for parley's HTTP/2 server (serveHttp2): raw sockets send
 * what no good client does — malformed frames, header and CONTINUATION
 * floods, invalid HPACK, too many streams, rapid resets, SETTINGS and PING
 * floods, a window past 2^31 - 1, a stream that never ends, HTTP/1.1, a
 * GOAWAY after many streams — and each test checks the answer RFC 9113 asks
 * for (GOAWAY with its code, or RST_STREAM) while a well-behaved client on
 * another connection is served before, during and after: one connection's
 * bytes end that stream or that connection, never the server.
 */

import assert from "node:assert/strict";
import http2 from "node:http2";
import {
  connectHttp2,
  type Http2Client,
  Http2ErrorCode as E,
  type Http2Server,
  type Http2Stream,
  serveHttp2,
  type ServeHttp2Options,
} from "../rpc/transports/http2.ts";
import { frame, headers, PREFACE, RawHttp2, requestBlock, T, u32 } from "./_raw_http2.ts";
import { makeCertificates } from "./_certificates.ts";

/** An echo server that says nothing of the errors it sees. */
function start(options: Partial<ServeHttp2Options> = {}, counted?: { handled: number }) {
  return serveHttp2({
    onStream: async (stream) => {
      if (counted) counted.handled++;
      if (stream.headers[":path"] !== "/hang") await echo(stream); // /hang: no answer, nothing read
    },
    onError: () => {},
    ...options,
  });
}

async function echo(stream: Http2Stream): Promise<void> {
  stream.respond({ ":status": 200 });
  for await (const chunk of stream) await stream.write(chunk);
  stream.end({ "x-ok": "1" });
}

/** One normal exchange on `client`. */
async function exchange(client: Http2Client): Promise<void> {
  const stream = client.request({ ":method": "POST", ":path": "/" });
  stream.write(new TextEncoder().encode("still here"));
  stream.end();
  const chunks = await Array.fromAsync(stream);
  assert.equal(new TextDecoder().decode(chunks[0]), "still here");
  assert.equal(stream.trailers?.["x-ok"], "1");
}

/**
 * A well-behaved client on a connection of its own, making exchanges one
 * after another while a test attacks the server: `stop()` checks that every
 * one succeeded, then makes one more.
 */
class Bystander {
  readonly #client: Http2Client;
  readonly #loop: Promise<void>;
  #stopped = false;
  served = 0;

  private constructor(client: Http2Client) {
    this.#client = client;
    this.#loop = (async () => {
      while (!this.#stopped) {
        await exchange(client);
        this.served++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
  }

  static async start(server: Http2Server): Promise<Bystander> {
    const client = connectHttp2(server.url);
    await exchange(client); // connected before the attack starts
    return new Bystander(client);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    try {
      await this.#loop; // throws if an exchange failed during the attack
      await exchange(this.#client);
    } finally {
      await this.#client.close();
    }
  }
}

/** Sends `bytes` after the preface and SETTINGS on a fresh raw connection; the GOAWAY's code. */
async function goawayFor(server: Http2Server, ...bytes: Uint8Array[]): Promise<number | undefined> {
  await using raw = await RawHttp2.open(server.addr.port);
  await raw.write(...bytes);
  return await raw.goawayAndClose();
}

Deno.test("hostile: malformed frames each end their connection with the right GOAWAY code", async () => {
  await using server = start();
  const bystander = await Bystander.start(server);
  const cases: [string, Uint8Array[], number][] = [
    ["SETTINGS of 5 bytes", [frame(T.SETTINGS, 0, 0, [0, 1, 0, 0, 0])], E.FRAME_SIZE_ERROR],
    ["PING of 7 bytes", [frame(T.PING, 0, 0, [1, 2, 3, 4, 5, 6, 7])], E.FRAME_SIZE_ERROR],
    ["WINDOW_UPDATE of 3 bytes", [frame(T.WINDOW_UPDATE, 0, 0, [0, 0, 1])], E.FRAME_SIZE_ERROR],
    [
      "a frame announcing 1 MiB (over MAX_FRAME_SIZE)",
      [frame(T.DATA, 0, 1, [], 1 << 20)],
      E
        .FRAME_SIZE_ERROR,
    ],
    ["DATA on stream 0", [frame(T.DATA, 0, 0, [1, 2, 3])], E.PROTOCOL_ERROR],
    ["HEADERS on stream 0", [frame(T.HEADERS, 0x4, 0, requestBlock())], E.PROTOCOL_ERROR],
    ["RST_STREAM on stream 0", [frame(T.RST_STREAM, 0, 0, u32(8))], E.PROTOCOL_ERROR],
    ["SETTINGS on stream 1", [frame(T.SETTINGS, 0, 1)], E.PROTOCOL_ERROR],
    ["PING on stream 1", [frame(T.PING, 0, 1, new Uint8Array(8))], E.PROTOCOL_ERROR],
    ["GOAWAY on stream 1", [frame(T.GOAWAY, 0, 1, [...u32(0), ...u32(0)])], E.PROTOCOL_ERROR],
    ["DATA on an idle stream", [frame(T.DATA, 0, 5, [1, 2, 3])], E.PROTOCOL_ERROR],
    ["RST_STREAM on an idle stream", [frame(T.RST_STREAM, 0, 7, u32(8))], E.PROTOCOL_ERROR],
    ["HEADERS on an even (server) stream id", [headers(2)], E.PROTOCOL_ERROR],
    ["a stream id lower than one already opened", [headers(5), headers(3)], E.STREAM_CLOSED],
    ["PUSH_PROMISE from a client", [frame(T.PUSH_PROMISE, 0x4, 1, [0, 0, 0, 2])], E.PROTOCOL_ERROR],
    ["CONTINUATION without HEADERS", [frame(T.CONTINUATION, 0x4, 1, [0x82])], E.PROTOCOL_ERROR],
    [
      "padding as long as the frame",
      [headers(1), frame(T.DATA, 0x8, 1, [4, 1, 2, 3])],
      E
        .PROTOCOL_ERROR,
    ],
    [
      "SETTINGS_MAX_FRAME_SIZE of 100",
      [frame(T.SETTINGS, 0, 0, [0, 5, ...u32(100)])],
      E
        .PROTOCOL_ERROR,
    ],
    ["SETTINGS_ENABLE_PUSH of 2", [frame(T.SETTINGS, 0, 0, [0, 2, ...u32(2)])], E.PROTOCOL_ERROR],
    [
      "SETTINGS_INITIAL_WINDOW_SIZE of 2^31",
      [frame(T.SETTINGS, 0, 0, [0, 4, ...u32(2 ** 31)])],
      E
        .FLOW_CONTROL_ERROR,
    ],
  ];
  for (const [what, bytes, code] of cases) {
    assert.equal(await goawayFor(server, ...bytes), code, what);
  }
  await bystander.stop();
});

Deno.test("hostile: a first frame that is not SETTINGS, and no preface at all", async () => {
  await using server = start();
  const bystander = await Bystander.start(server);
  await using raw = await RawHttp2.open(server.addr.port, false);
  await raw.write(PREFACE, frame(T.PING, 0, 0, new Uint8Array(8)));
  assert.equal(await raw.goawayAndClose(), E.PROTOCOL_ERROR);
  await using junk = await RawHttp2.open(server.addr.port, false);
  await junk.write(new Uint8Array(100).fill(0x16));
  assert.equal(await junk.goawayAndClose(), E.PROTOCOL_ERROR);
  await bystander.stop();
});

Deno.test("hostile: HTTP/1.1 bytes instead of the preface: GOAWAY PROTOCOL_ERROR naming HTTP/1.1, closed", async () => {
  await using server = start();
  const bystander = await Bystander.start(server);
  await using raw = await RawHttp2.open(server.addr.port, false);
  await raw.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  assert.equal(await raw.goawayAndClose(), E.PROTOCOL_ERROR);
  assert.match(raw.goawayText, /HTTP\/1\.1/);
  assert.equal(raw.closed, true);
  await bystander.stop();
});

Deno.test("hostile: HEADERS without END_HEADERS then a CONTINUATION flood: GOAWAY ENHANCE_YOUR_CALM, memory bounded", async () => {
  await using server = start();
  const bystander = await Bystander.start(server);
  await using raw = await RawHttp2.open(server.addr.port);
  await raw.write(frame(T.HEADERS, 0, 1, requestBlock()));
  // Up to 64 MB of CONTINUATIONs (never END_HEADERS), stopping when the server closes.
  const filler = frame(T.CONTINUATION, 0, 1, new Uint8Array(16_000).fill(0x40));
  for (let i = 0; i < 4000 && !raw.closed; i++) {
    if (!await raw.write(filler)) break;
  }
  assert.equal(await raw.goawayAndClose(), E.ENHANCE_YOUR_CALM);
  // The server gave up long before the flood's end: it held a bounded block.
  assert.ok(raw.written < 16 << 20, `${raw.written} bytes went in before the close`);
  // Empty CONTINUATIONs cost frames, not bytes: they are bounded too.
  await using empty = await RawHttp2.open(server.addr.port);
  await empty.write(frame(T.HEADERS, 0, 1, requestBlock()));
  for (let i = 0; i < 10_000 && !empty.closed; i++) {
    if (!await empty.write(frame(T.CONTINUATION, 0, 1))) break;
  }
  assert.equal(await empty.goawayAndClose(), E.ENHANCE_YOUR_CALM);
  await bystander.stop();
});

Deno.test("hostile: invalid HPACK (an index past the tables, an oversize table update, bad Huffman): GOAWAY COMPRESSION_ERROR", async () => {
  await using server = start();
  const bystander = await Bystander.start(server);
  const blocks = [
    [0x82, 0xbe], // index 62: the dynamic table is empty
    [0x3f, 0xe2, 0x1f], // a table size update to 4097, over SETTINGS_HEADER_TABLE_SIZE
    [0x82, 0x40, 0x81, 0x61, 0x84, 0xff, 0xff, 0xff, 0xff], // a Huffman value holding EOS
    [0x82, 0x40, 0x81, 0x61, 0x81, 0x00], // Huffman padding that is not ones
    [0x82, 0x20], // a table size update after a field
  ];
  for (const block of blocks) {
    assert.equal(await goawayFor(server, frame(T.HEADERS, 0x5, 1, block)), E.COMPRESSION_ERROR);
  }
  await bystander.stop();
});

Deno.test("hostile: more streams than MAX_CONCURRENT_STREAMS: the extra ones get RST_STREAM REFUSED_STREAM, the rest live", async () => {
  await using server = start({ maxConcurrentStreams: 3 });
  const bystander = await Bystander.start(server);
  await using raw = await RawHttp2.open(server.addr.port);
  for (let id = 1; id <= 19; id += 2) await raw.write(headers(id, true, "/hang"));
  assert.ok(await raw.until(() => raw.resets.size >= 7));
  assert.deepEqual(
    [...raw.resets].sort(([a], [b]) => a - b),
    [7, 9, 11, 13, 15, 17, 19].map((id) => [id, E.REFUSED_STREAM]),
  );
  assert.equal(raw.goaway, undefined);
  await bystander.stop();
});

Deno.test("hostile: rapid reset (CVE-2023-44487): streams opened and reset past maxResetsPerSecond get GOAWAY ENHANCE_YOUR_CALM", async () => {
  const counted = { handled: 0 };
  await using server = start({ maxResetsPerSecond: 50 }, counted);
  const bystander = await Bystander.start(server);
  await using raw = await RawHttp2.open(server.addr.port);
  let id = 1;
  for (; id < 10_000 && !raw.closed; id += 2) {
    if (!await raw.write(headers(id, true, "/hang"), frame(T.RST_STREAM, 0, id, u32(E.CANCEL)))) {
      break;
    }
  }
  assert.equal(await raw.goawayAndClose(), E.ENHANCE_YOUR_CALM);
  assert.ok(counted.handled < 1000, `${counted.handled} streams reached the handler`);
  await bystander.stop();
});

Deno.test("hostile: SETTINGS and PING floods: GOAWAY ENHANCE_YOUR_CALM", async () => {
  await using server = start({ maxControlFramesPerSecond: 200 });
  const bystander = await Bystander.start(server);
  for (const flood of [frame(T.SETTINGS, 0, 0), frame(T.PING, 0, 0, new Uint8Array(8))]) {
    await using raw = await RawHttp2.open(server.addr.port);
    const burst = new Uint8Array(flood.length * 100);
    for (let i = 0; i < 100; i++) burst.set(flood, i * flood.length);
    for (let i = 0; i < 100 && !raw.closed; i++) {
      if (!await raw.write(burst)) break;
    }
    assert.equal(await raw.goawayAndClose(), E.ENHANCE_YOUR_CALM);
  }
  await bystander.stop();
});

Deno.test("hostile: WINDOW_UPDATE past 2^31 - 1: GOAWAY FLOW_CONTROL_ERROR on the connection, RST_STREAM on a stream", async () => {
  await using server = start();
  const bystander = await Bystander.start(server);
  assert.equal(
    await goawayFor(server, frame(T.WINDOW_UPDATE, 0, 0, u32(0x7fffffff))),
    E.FLOW_CONTROL_ERROR,
  );
  await using raw = await RawHttp2.open(server.addr.port);
  await raw.write(headers(1, false, "/hang"), frame(T.WINDOW_UPDATE, 0, 1, u32(0x7fffffff)));
  assert.ok(await raw.until(() => raw.resets.has(1)));
  assert.equal(raw.resets.get(1), E.FLOW_CONTROL_ERROR);
  // A zero increment is an error too: on a stream, that stream's.
  await raw.write(headers(3, false, "/hang"), frame(T.WINDOW_UPDATE, 0, 3, u32(0)));
  assert.ok(await raw.until(() => raw.resets.has(3)));
  assert.equal(raw.resets.get(3), E.PROTOCOL_ERROR);
  assert.equal(raw.goaway, undefined);
  await bystander.stop();
});

Deno.test("hostile: DATA past the window the server granted: GOAWAY FLOW_CONTROL_ERROR", async () => {
  await using server = start({ initialWindowSize: 65_535, connectionWindowSize: 65_535 });
  const bystander = await Bystander.start(server);
  await using raw = await RawHttp2.open(server.addr.port);
  await raw.write(headers(1, false, "/hang"));
  for (let i = 0; i < 10 && !raw.closed; i++) {
    if (!await raw.write(frame(T.DATA, 0, 1, new Uint8Array(16_000)))) break;
  }
  assert.equal(await raw.goawayAndClose(), E.FLOW_CONTROL_ERROR);
  await bystander.stop();
});

Deno.test("hostile: a stream that never ends is reset once idle (CANCEL), its handler's signal fires; an idle connection gets GOAWAY", async () => {
  const aborted = Promise.withResolvers<unknown>();
  await using server = start({
    idleTimeout: 100,
    onStream: async (stream: Http2Stream) => {
      if (stream.headers[":path"] !== "/idle") {
        await echo(stream);
        return;
      }
      stream.signal.addEventListener("abort", () => aborted.resolve(stream.signal.reason));
      stream.respond({ ":status": 200 });
    },
  });
  const bystander = await Bystander.start(server);
  await using raw = await RawHttp2.open(server.addr.port);
  await raw.write(headers(1, false, "/idle"), frame(T.DATA, 0, 1, [1, 2, 3])); // then nothing
  assert.ok(await raw.until(() => raw.resets.has(1)));
  assert.equal(raw.resets.get(1), E.CANCEL);
  assert.equal(((await aborted.promise) as { code: number }).code, E.CANCEL);
  // With no stream left and nothing more said, the connection goes.
  assert.equal(await raw.goawayAndClose(), E.NO_ERROR);
  await bystander.stop();
});

Deno.test("hostile: a connection that opens no stream within firstFrameTimeout gets GOAWAY NO_ERROR", async () => {
  await using server = start({ firstFrameTimeout: 50 });
  const bystander = await Bystander.start(server);
  await using raw = await RawHttp2.open(server.addr.port);
  assert.equal(await raw.goawayAndClose(), E.NO_ERROR);
  await using silent = await RawHttp2.open(server.addr.port, false); // not even a preface
  assert.equal(await silent.goawayAndClose(), E.NO_ERROR);
  await bystander.stop();
});

Deno.test("hostile: a GOAWAY after many streams (what aborts Deno's nghttp2) leaves the server serving", async () => {
  await using server = start();
  const bystander = await Bystander.start(server);
  // Raw: 500 streams in flight, then GOAWAY and the socket closed at once.
  for (let round = 0; round < 3; round++) {
    await using raw = await RawHttp2.open(server.addr.port);
    const burst: Uint8Array[] = [];
    for (let id = 1; id <= 999; id += 2) burst.push(headers(id, false, "/"));
    burst.push(frame(T.GOAWAY, 0, 0, [...u32(0), ...u32(E.NO_ERROR)]));
    await raw.write(...burst);
  }
  // Deno's own node:http2 client: 64 streams in flight, then close(): its GOAWAY.
  for (let round = 0; round < 3; round++) {
    const session = http2.connect(server.url);
    session.on("error", () => {});
    const streams = Array.from({ length: 64 }, (_, i) => {
      const stream = session.request({ ":method": "POST", ":path": `/${i}` });
      stream.on("error", () => {});
      stream.write("x");
      return stream;
    });
    await new Promise((resolve) => streams[63]!.on("response", resolve));
    session.close();
    for (const stream of streams) stream.end();
    await new Promise((resolve) => session.on("close", resolve));
  }
  await bystander.stop();
});

Deno.test("hostile: a header list over maxHeaderListSize is answered 431, the connection unharmed", async () => {
  await using server = start({ maxHeaderListSize: 4096 });
  const bystander = await Bystander.start(server);
  await using client = connectHttp2(server.url);
  const big = client.request({ ":method": "GET", ":path": "/", "x-big": "a".repeat(10_000) }, {
    endStream: true,
  });
  assert.equal((await big.response)[":status"], "431");
  await bystander.stop();
});

Deno.test("hostile: a peer that leaves the server's keep-alive PING unanswered gets GOAWAY and is closed", async () => {
  await using server = start({ keepAlive: { interval: 50, timeout: 100 } });
  {
    await using raw = await RawHttp2.open(server.addr.port);
    await raw.write(headers(1, false, "/hang")); // a stream open: only the pings can end it
    assert.equal(await raw.goawayAndClose(), E.NO_ERROR);
    assert.ok(raw.frames.some((f) => f.type === T.PING && (f.flags & 1) === 0));
  }
  // A client that answers pings (any HTTP/2 peer must: here Deno's node:http2) keeps its
  // connection (a second server, whose timeout leaves room for a loaded machine).
  await using patient = start({ keepAlive: { interval: 50, timeout: 2000 } });
  const session = http2.connect(patient.url);
  try {
    let goaway = false;
    session.on("goaway", () => goaway = true);
    const pinged = new Promise((resolve) => session.once("ping", resolve));
    await pinged;
    await new Promise((resolve) => setTimeout(resolve, 400)); // eight pings' time
    assert.equal(goaway, false);
    assert.equal(session.closed || session.destroyed, false);
  } finally {
    session.destroy();
  }
});

Deno.test("hostile: connections past maxConnections are closed as they arrive; a freed slot is taken again", async () => {
  await using server = start({ maxConnections: 3 });
  const bystander = await Bystander.start(server); // one of the three
  await using first = await RawHttp2.open(server.addr.port);
  await using second = await RawHttp2.open(server.addr.port);
  assert.ok(await second.until(() => second.frames.length > 0)); // served: the server's SETTINGS
  await using third = await RawHttp2.open(server.addr.port);
  await third.ended; // closed at once
  assert.deepEqual(third.frames, []);
  await first[Symbol.asyncDispose]();
  for (let i = 0; i < 200 && server.connections > 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await using fourth = await RawHttp2.open(server.addr.port);
  assert.ok(await fourth.until(() => fourth.frames.length > 0));
  assert.equal(fourth.closed, false);
  await bystander.stop();
});

Deno.test("hostile: a TLS connection that never finishes its handshake stops counting after firstFrameTimeout", async () => {
  await using certificates = await makeCertificates();
  await using server = start({
    cert: certificates.cert,
    key: certificates.key,
    firstFrameTimeout: 100,
  });
  using _silent = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  // Nothing sent, not even a ClientHello: the server gives up on it and no
  // longer counts it (Deno itself keeps the socket until the client sends or
  // leaves: docs/limits.md, "TLS handshakes").
  for (let i = 0; i < 300 && server.connections > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(server.connections, 0);
  // A real client is served all the same.
  await using client = connectHttp2(server.url, { caCerts: [certificates.ca] });
  await exchange(client);
});
