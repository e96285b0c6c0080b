/**
 * Hostile input for serveGrpc (rpc/transports/grpc/server.ts, _guard.ts):
 * raw sockets and raw node:http2 clients send what no good client does — a
 * rapid-reset flood, more streams than SETTINGS allow, a body that never
 * ends, invalid HPACK, malformed frames, a silent connection, a slowloris,
 * a length prefix of 2^31 — and each test then makes a normal call with
 * parley's own `connectGrpc`, which must still work: one connection's
 * misbehaviour ends that connection or that call, never the server.
 */

import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import { Buffer } from "node:buffer";
import { protoClient } from "../codecs/protobuf.ts";
import { calculatorSchema } from "../examples/calculator/protobuf.ts";
import { connectGrpc, type GrpcServer, type ServeGrpcOptions } from "../rpc/transports/grpc.ts";
import { startGrpcCalculator } from "./_grpc_calculator.ts";
import { HpackDecoder } from "../protocols/http2/hpack.ts";

const schema = calculatorSchema();
const { NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;
const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const GOAWAY = 7;
const RST_STREAM = 3;
const REFUSED_STREAM = 7;

type Calculator = { Add(request: { num1: number; num2: number }): { sum: number } };

function start(options: Partial<ServeGrpcOptions> = {}): Promise<GrpcServer> {
  return startGrpcCalculator({ onError: () => {}, ...options }).server;
}

/** A normal call on a fresh connection: the server still serves. */
async function stillServes(server: GrpcServer): Promise<void> {
  await using client = connectGrpc(server.url, { schema });
  const calculator = protoClient<Calculator>(client, schema, "interop.Calculator");
  assert.deepEqual(await calculator.Add({ num1: 2, num2: 3 }), { sum: 5 });
}

/** One HTTP/2 frame: 9 bytes of header, then the payload. */
function frame(type: number, flags: number, stream: number, payload: number[] = []): Uint8Array {
  const length = payload.length;
  return new Uint8Array([
    length >> 16,
    (length >> 8) & 0xff,
    length & 0xff,
    type,
    flags,
    (stream >>> 24) & 0x7f,
    (stream >> 16) & 0xff,
    (stream >> 8) & 0xff,
    stream & 0xff,
    ...payload,
  ]);
}

/**
 * A request's HEADERS (END_HEADERS, no END_STREAM) in HPACK: POST and http
 * from the static table, :path, :authority and content-type as literals
 * without indexing whose names are static entries 4, 1 and 31 (an index
 * over 14 takes a second byte, RFC 7541 §5.1).
 */
function requestHeaders(stream: number): Uint8Array {
  const literal = (name: number[], value: string) => [
    ...name,
    value.length,
    ...new TextEncoder().encode(value),
  ];
  return frame(1, 0x4, stream, [
    0x83, // :method POST
    0x86, // :scheme http
    ...literal([0x04], "/interop.Calculator/Add"),
    ...literal([0x01], "127.0.0.1"),
    ...literal([0x0f, 31 - 15], "application/grpc"),
  ]);
}

interface RawFrame {
  readonly type: number;
  readonly stream: number;
  readonly payload: Uint8Array;
}

/** A raw connection that collects the frames the server sends until it closes. */
class RawConnection {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  #bytes = Buffer.alloc(0);

  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.on("error", () => {});
    this.socket.on("data", (chunk: Buffer) => this.#bytes = Buffer.concat([this.#bytes, chunk]));
    this.closed = new Promise((resolve) => this.socket.on("close", () => resolve()));
  }

  /** The frames received so far (the server's preface SETTINGS is the first). */
  get frames(): RawFrame[] {
    const frames: RawFrame[] = [];
    for (let at = 0; at + 9 <= this.#bytes.length;) {
      const length = this.#bytes.readUIntBE(at, 3);
      frames.push({
        type: this.#bytes[at + 3]!,
        stream: this.#bytes.readUInt32BE(at + 5) & 0x7fffffff,
        payload: this.#bytes.subarray(at + 9, at + 9 + length),
      });
      at += 9 + length;
    }
    return frames;
  }

  /** The error code of the GOAWAY received, if one was. */
  get goaway(): number | undefined {
    const goaway = this.frames.find((f) => f.type === GOAWAY);
    return goaway === undefined ? undefined : Buffer.from(goaway.payload).readUInt32BE(4);
  }

  write(...chunks: (string | Uint8Array)[]): void {
    for (const chunk of chunks) this.socket.write(chunk);
  }

  /** The streams reset with `code`, in order. */
  resets(code: number): number[] {
    return this.frames
      .filter((f) => f.type === RST_STREAM && Buffer.from(f.payload).readUInt32BE(0) === code)
      .map((f) => f.stream);
  }

  /** Waits (at most 5 s, in 10 ms steps) until `done()` or the socket closes; whether `done()`. */
  async until(done: () => boolean): Promise<boolean> {
    for (let i = 0; i < 500 && !done() && !this.socket.closed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return done();
  }

  /** Sends the client preface and an empty SETTINGS frame. */
  greet(): void {
    this.write(PREFACE, frame(4, 0, 0));
  }
}

/** A raw gRPC request for Add on `session`, its stream errors ignored: the tests look at what comes back. */
function rawAdd(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders = {},
): http2.ClientHttp2Stream {
  const call = session.request({
    ":method": "POST",
    ":path": "/interop.Calculator/Add",
    "content-type": "application/grpc",
    ...headers,
  });
  call.on("error", () => {});
  return call;
}

Deno.test("rapid reset: a peer resetting streams past maxStreamResets a second gets GOAWAY ENHANCE_YOUR_CALM", async () => {
  await using server = await start({ maxStreamResets: 50 });
  const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
  session.on("error", () => {});
  const goaway = new Promise<number>((resolve) => session.on("goaway", resolve));
  const closed = new Promise((resolve) => session.on("close", resolve));
  // Bounded: at most 5,000 streams, stopping as soon as the server says stop.
  let sent = 0;
  let stopped = false;
  goaway.then(() => stopped = true);
  for (; sent < 5000 && !stopped && !session.destroyed; sent++) {
    try {
      const stream = rawAdd(session);
      stream.close(http2.constants.NGHTTP2_CANCEL);
    } catch {
      break; // the session is going away
    }
    if (sent % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  // Whichever comes first: a session closed without GOAWAY fails here, not hangs.
  assert.equal(await Promise.race([goaway, closed]), NGHTTP2_ENHANCE_YOUR_CALM);
  session.destroy();
  await closed;
  assert.ok(sent < 5000, `stopped after ${sent} streams`);
  await stillServes(server);
});

Deno.test("more streams than maxConcurrentStreams: each extra stream is refused (RST_STREAM REFUSED_STREAM), the connection lives", async () => {
  await using server = await start({ maxConcurrentStreams: 2 });
  const raw = new RawConnection(server.addr.port);
  raw.greet();
  raw.write(frame(4, 0x1, 0)); // SETTINGS ACK
  for (const id of [1, 3, 5, 7]) raw.write(requestHeaders(id));
  const refused = await raw.until(() => raw.resets(REFUSED_STREAM).length === 2);
  const settings = raw.frames[0]!;
  assert.equal(settings.type, 4);
  // SETTINGS_MAX_CONCURRENT_STREAMS (3) = 2 was advertised.
  assert.deepEqual([...settings.payload.subarray(0, 6)], [0, 3, 0, 0, 0, 2]);
  // RFC 9113 §5.1.2: a stream error for each stream past the limit; streams 1 and 3 stay open.
  assert.ok(refused, "the extra streams were refused");
  assert.deepEqual(raw.resets(REFUSED_STREAM), [5, 7]);
  assert.equal(raw.goaway, undefined);
  raw.socket.destroy();
  await raw.closed;
  await stillServes(server);
});

Deno.test("a body that never starts or stalls, with no grpc-timeout, is answered 4 and freed", async () => {
  await using server = await start({ limits: { firstFrameTimeout: 200, idleTimeout: 200 } });
  const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
  session.on("error", () => {});
  const statusOf = (body: Uint8Array | undefined) => {
    const call = rawAdd(session, { "te": "trailers" });
    if (body !== undefined) call.write(body); // and never end
    return new Promise<{ status: unknown; message: unknown }>((resolve) =>
      call.on(
        "response",
        (headers) => resolve({ status: headers["grpc-status"], message: headers["grpc-message"] }),
      )
    );
  };
  // No body at all, then half a length prefix.
  const [silent, stalled] = await Promise.all([
    statusOf(undefined),
    statusOf(new Uint8Array([0, 0, 0])),
  ]);
  assert.equal(silent.status, "4");
  assert.match(String(silent.message), /no request body within 200 ms/);
  assert.equal(stalled.status, "4");
  assert.match(String(stalled.message), /stalled for 200 ms/);
  session.destroy();
  await stillServes(server);
});

Deno.test("invalid HPACK: the session ends with GOAWAY, the server stays up", async () => {
  await using server = await start();
  const raw = new RawConnection(server.addr.port);
  raw.greet();
  // An indexed header field far past the static and the empty dynamic table.
  raw.write(frame(1, 0x5, 1, [0xff, 0xff, 0xff, 0xff, 0x0f]));
  await raw.closed;
  assert.notEqual(raw.goaway, undefined);
  assert.notEqual(raw.goaway, 0);
  await stillServes(server);
});

Deno.test("malformed frames: a SETTINGS of 5 bytes and garbage after the preface each end their session", async () => {
  await using server = await start();
  const settings = new RawConnection(server.addr.port);
  settings.write(PREFACE, frame(4, 0, 0, [0, 3, 0, 0, 0]));
  const garbage = new RawConnection(server.addr.port);
  garbage.write(PREFACE, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  await Promise.all([settings.closed, garbage.closed]);
  assert.notEqual(settings.goaway, undefined);
  assert.notEqual(settings.goaway, 0);
  assert.notEqual(garbage.goaway, undefined);
  await stillServes(server);
});

Deno.test("a connection that sends the preface and nothing more is closed after firstFrameTimeout", async () => {
  await using server = await start({ limits: { firstFrameTimeout: 200 } });
  const raw = new RawConnection(server.addr.port);
  raw.greet();
  await raw.closed;
  assert.equal(raw.goaway, 0); // GOAWAY NO_ERROR: nothing wrong was said, only nothing
  await stillServes(server);
});

Deno.test("slowloris: connections over maxConnections are closed at once; silent ones time out and free their place", async () => {
  await using server = await start({ maxConnections: 3, limits: { firstFrameTimeout: 300 } });
  const held = [0, 1, 2].map(() => new RawConnection(server.addr.port));
  for (const raw of held) raw.write(PREFACE);
  // Wait until the server has taken all three (each gets its SETTINGS).
  while (held.some((raw) => raw.frames.length === 0)) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const extra = new RawConnection(server.addr.port);
  extra.greet();
  await extra.closed;
  assert.equal(extra.frames.length, 0, "closed before any SETTINGS");
  await Promise.all(held.map((raw) => raw.closed));
  // The server counts a connection gone when its side of the socket closes,
  // a moment after ours: probe (at most 50 times) until one is taken again.
  for (let probes = 0; probes < 50; probes++) {
    const probe = new RawConnection(server.addr.port);
    probe.greet();
    while (probe.frames.length === 0 && !probe.socket.closed) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const taken = probe.frames.length > 0;
    probe.socket.destroy();
    await probe.closed;
    if (taken) break;
  }
  await stillServes(server);
});

Deno.test("a length prefix of 2^31 is refused from the prefix: 8 RESOURCE_EXHAUSTED", async () => {
  await using server = await start();
  const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
  session.on("error", () => {});
  const call = rawAdd(session, { "te": "trailers" });
  call.write(new Uint8Array([0, 0x80, 0, 0, 0, 1, 2, 3]));
  const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) =>
    call.on("response", resolve)
  );
  assert.equal(headers["grpc-status"], "8");
  session.destroy();
  await stillServes(server);
});

/** HPACK's prefixed integer (RFC 7541 §5.1) after the flags of its first byte. */
function hpackInteger(value: number, prefixBits: number, flags: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [flags | value];
  const bytes = [flags | max];
  for (value -= max; value >= 128; value = Math.floor(value / 128)) bytes.push((value % 128) | 128);
  bytes.push(value);
  return bytes;
}

/**
 * A request whose header block holds `x-big` of `size` bytes (a literal, not
 * indexed): HEADERS then CONTINUATIONs of 16,384 bytes at most.
 */
function bigRequest(stream: number, size: number): Uint8Array[] {
  const head = [...requestHeaders(stream).subarray(9)];
  const name = [...new TextEncoder().encode("x-big")];
  const block = new Uint8Array([
    ...head,
    0x00,
    name.length,
    ...name,
    ...hpackInteger(size, 7, 0),
    ...new Uint8Array(size).fill(0x61),
  ]);
  const frames: Uint8Array[] = [];
  for (let at = 0; at < block.length; at += 16_384) {
    const last = at + 16_384 >= block.length;
    const type = at === 0 ? 1 : 9; // HEADERS, then CONTINUATION
    frames.push(frame(type, last ? 0x4 : 0, stream, [...block.subarray(at, at + 16_384)]));
  }
  return frames;
}

Deno.test("a header list over 64 KiB is answered 431, the connection lives; a 1 MB block ends the connection (ENHANCE_YOUR_CALM)", async () => {
  await using server = await start();
  // 100 kB: over SETTINGS_MAX_HEADER_LIST_SIZE, within the bound on a block's bytes.
  const big = new RawConnection(server.addr.port);
  big.greet();
  big.write(...bigRequest(1, 100_000));
  assert.ok(await big.until(() => big.resets(0).includes(1)), "stream 1 was answered and reset");
  const response = big.frames.find((f) => f.type === 1 && f.stream === 1)!;
  const fields = new HpackDecoder().decode(response.payload);
  assert.deepEqual(fields.slice(0, 2), [":status", "431"]);
  assert.equal(big.goaway, undefined);
  big.socket.destroy();
  // 1 MB: past twice the limit the block is not even held.
  const huge = new RawConnection(server.addr.port);
  huge.greet();
  huge.write(...bigRequest(1, 1_000_000));
  await huge.closed;
  assert.equal(huge.goaway, 11); // ENHANCE_YOUR_CALM
  await stillServes(server);
});

Deno.test("keepAlive: a peer that answers the server's pings stays; one that does not is dropped", async () => {
  await using server = await start({ keepAlive: { interval: 50, timeout: 200 } });
  // node:http2's client answers pings by itself: after three, it is still served.
  const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
  session.on("error", () => {});
  let pings = 0;
  const thirdPing = new Promise<void>((resolve) =>
    session.on("ping", () => ++pings === 3 && resolve())
  );
  await thirdPing;
  assert.equal(session.closed, false);
  session.destroy();
  // A raw peer that opens a stream (so it is not idle) and never answers PING.
  const deaf = new RawConnection(server.addr.port);
  deaf.greet();
  deaf.write(frame(4, 0x1, 0), requestHeaders(1));
  await deaf.closed;
  assert.ok(deaf.frames.some((f) => f.type === 6), "the server pinged");
  assert.equal(deaf.goaway, 0);
  await stillServes(server);
});

// ---- streaming calls ----

/** A raw streaming call on `session` to `method`, its stream errors ignored. */
function rawStream(
  session: http2.ClientHttp2Session,
  method: string,
  headers: http2.OutgoingHttpHeaders = {},
): http2.ClientHttp2Stream {
  const call = session.request({
    ":method": "POST",
    ":path": `/interop.Calculator/${method}`,
    "content-type": "application/grpc",
    "te": "trailers",
    ...headers,
  });
  call.on("error", () => {});
  return call;
}

/** A Number message framed, as a request stream's chunk. */
function number(value: number): Uint8Array {
  const message = schema.message("interop.Number").encode({ value });
  return new Uint8Array([0, 0, 0, 0, message.length, ...message]);
}

/** The status a raw call ends with: its trailers', or its trailers-only headers'. */
function statusOf(call: http2.ClientHttp2Stream): Promise<{ status: unknown; message: unknown }> {
  let last: http2.IncomingHttpHeaders = {};
  call.on("response", (headers) => last = headers);
  call.on("trailers", (trailers) => last = trailers);
  call.resume();
  return new Promise((resolve) =>
    call.on("close", () => resolve({ status: last["grpc-status"], message: last["grpc-message"] }))
  );
}

Deno.test("a request stream that never ends: the idle timeout ends a silent one, the deadline a chatty one; others are served meanwhile", async () => {
  await using server = await start({ limits: { idleTimeout: 300 } });
  const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
  session.on("error", () => {});
  // One number, then silence: no end, no more.
  const silent = rawStream(session, "Total");
  silent.write(number(1));
  const silentEnd = statusOf(silent);
  // A number every 50 ms for ever (each resets the idle timer), with a deadline.
  const chatty = rawStream(session, "Total", { "grpc-timeout": "600m" });
  const chattyEnd = statusOf(chatty);
  let sent = 0;
  const trickle = setInterval(() => {
    if (!chatty.closed && !chatty.destroyed) chatty.write(number(++sent));
  }, 50);
  try {
    await stillServes(server); // while both hold their streams
    const quiet = await silentEnd;
    assert.equal(quiet.status, "4");
    assert.match(String(quiet.message), /stalled for 300 ms/);
    const busy = await chattyEnd;
    assert.equal(busy.status, "4");
    assert.equal(busy.message, "Deadline exceeded");
    assert.ok(sent > 6, `the chatty stream sent ${sent} numbers past the idle timeout`);
  } finally {
    clearInterval(trickle);
    session.destroy();
  }
  await stillServes(server);
});

Deno.test("a length prefix of 2^31 mid-stream is 8 RESOURCE_EXHAUSTED; the server serves on", async () => {
  await using server = await start();
  const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
  session.on("error", () => {});
  const call = rawStream(session, "Total");
  call.write(number(1));
  call.write(number(2));
  call.write(new Uint8Array([0, 0x80, 0, 0, 0, 1, 2, 3]));
  const outcome = await statusOf(call);
  assert.equal(outcome.status, "8");
  assert.match(String(outcome.message), /2147483648 bytes exceeds the limit/);
  session.destroy();
  await stillServes(server);
});

Deno.test("streaming calls above maxConcurrentStreams: a client that keeps to SETTINGS waits its turn; one that does not has the extra streams refused", async () => {
  await using server = await start({ maxConcurrentStreams: 3 });
  await using client = connectGrpc(server.url, { schema });
  type Ranger = {
    Range(request: { start: number; count: number; delayMs: number }): AsyncIterable<unknown>;
  };
  const calc = protoClient<Ranger>(client, schema, "interop.Calculator");
  const lengths = await Promise.all(
    Array.from({ length: 12 }, async (_, i) => {
      let n = 0;
      for await (const _ of calc.Range({ start: i, count: 5, delayMs: 10 })) n++;
      return n;
    }),
  );
  assert.deepEqual(lengths, Array(12).fill(5));
  // Raw: six streams at once, three more than the server allows: those three are refused.
  const raw = new RawConnection(server.addr.port);
  raw.greet();
  raw.write(frame(4, 0x1, 0)); // SETTINGS ACK
  for (const id of [1, 3, 5, 7, 9, 11]) raw.write(requestHeaders(id));
  assert.ok(await raw.until(() => raw.resets(REFUSED_STREAM).length === 3));
  assert.deepEqual(raw.resets(REFUSED_STREAM), [7, 9, 11]);
  raw.socket.destroy();
  await raw.closed;
  await stillServes(server);
});
