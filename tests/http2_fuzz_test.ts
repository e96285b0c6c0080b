/**
 * fast-check against parley's HTTP/2 (protocols/http2/): random bytes, and
 * random but well-framed frames, fed to a server's and a client's
 * connection after a valid start. Nothing may throw out of `receive()`;
 * what is not accepted ends the connection with GOAWAY (a code RFC 9113
 * defines) or a stream with RST_STREAM; a connection that survives still
 * answers a PING; buffered input stays bounded. And the frame reader cuts
 * any split of a byte stream into the same frames.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { Http2Connection } from "../protocols/http2/connection.ts";
import { FrameReader, FrameWriter } from "../protocols/http2/_frames.ts";
import { HpackEncoder } from "../protocols/http2/hpack.ts";
import { frame, PREFACE, T } from "./_raw_http2.ts";

/** A connection whose output is collected, and whether it ended. */
function connection(role: "client" | "server") {
  const state = { ended: false, error: undefined as Error | undefined, out: [] as Uint8Array[] };
  const conn: Http2Connection = new Http2Connection(role, {
    onOutput: () => queueMicrotask(() => state.out.push(conn.takeOutput().slice())),
    onStream: (stream) => {
      stream.respond({ ":status": 200 });
      stream.write(new Uint8Array(100));
      stream.end({ "x-t": "1" });
    },
    onClose: (error) => {
      state.ended = true;
      state.error = error;
    },
  }, { maxHeaderListSize: 8192 });
  return { conn, state };
}

/** The start of a valid peer: the client's preface (for a server) and SETTINGS. */
function start(role: "client" | "server"): Uint8Array[] {
  return role === "server" ? [PREFACE, frame(T.SETTINGS, 0, 0)] : [frame(T.SETTINGS, 0, 0)];
}

// INTERNAL_ERROR (2) is not among them: it would mean an exception of ours, caught.
const KNOWN_CODES = new Set([0, 1, 3, 5, 6, 7, 8, 9, 11]);

/** The GOAWAY codes in a connection's output. */
function goawayCodes(out: readonly Uint8Array[]): number[] {
  const bytes = new Uint8Array(out.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of out) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  const codes: number[] = [];
  // A client's output starts with the preface: skip it.
  let i = bytes.length >= 24 && bytes[0] === 0x50 ? 24 : 0;
  while (i + 9 <= bytes.length) {
    const length = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    if (bytes[i + 3] === T.GOAWAY && length >= 8) {
      codes.push(new DataView(bytes.buffer, i + 13, 4).getUint32(0));
    }
    i += 9 + length;
  }
  return codes;
}

const encoder = new HpackEncoder({ indexing: () => "without" });
const block = (path: string) =>
  encoder.encode([":method", "POST", ":scheme", "http", ":path", path]).slice();

/** A random frame: a known or unknown type, random flags, a small stream id, a payload. */
const anyFrame = fc.oneof(
  fc.record({
    type: fc.integer({ min: 0, max: 12 }),
    flags: fc.integer({ min: 0, max: 255 }),
    stream: fc.oneof(fc.constantFrom(0, 1, 3, 5), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
    payload: fc.uint8Array({ maxLength: 64 }),
  }).map(({ type, flags, stream, payload }) => frame(type, flags, stream, payload)),
  // Valid requests, so that frames reach open streams.
  fc.constantFrom(1, 3, 5, 7).map((id) => frame(T.HEADERS, 0x4, id, block(`/${id}`))),
  fc.constantFrom(1, 3, 5).map((id) => frame(T.DATA, 0x1, id, [1, 2, 3])),
);

for (const role of ["server", "client"] as const) {
  Deno.test(`http2 fuzz (${role}): random bytes after a valid start never throw; an end is a GOAWAY with a known code`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }),
        async (chunks) => {
          const { conn, state } = connection(role);
          if (role === "client") {
            conn.request({ ":method": "GET", ":path": "/" }, { endStream: true });
          }
          for (const chunk of [...start(role), ...chunks]) conn.receive(chunk);
          await Promise.resolve();
          for (const code of goawayCodes(state.out)) {
            assert.ok(KNOWN_CODES.has(code), `code ${code}`);
          }
          conn.destroy();
        },
      ),
      { numRuns: 400 },
    );
  });

  Deno.test(`http2 fuzz (${role}): random frames never throw; a surviving connection still answers a PING`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyFrame, { maxLength: 30 }), async (frames) => {
        const { conn, state } = connection(role);
        if (role === "client") {
          conn.request({ ":method": "GET", ":path": "/" }, { endStream: true });
        }
        for (const bytes of [...start(role), ...frames]) {
          conn.receive(bytes);
        }
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (!conn.closed) {
          const before = state.out.length;
          conn.receive(frame(T.PING, 0, 0, [9, 9, 9, 9, 9, 9, 9, 9]));
          await new Promise((resolve) => setTimeout(resolve, 0));
          assert.ok(state.out.length > before || conn.closed, "no answer to a PING");
        } else {
          // Ended by us (one GOAWAY), or by the peer's GOAWAY once nothing was in flight (none).
          const codes = goawayCodes(state.out);
          assert.ok(codes.length <= 1, `${codes.length} GOAWAYs`);
          for (const code of codes) {
            assert.ok(KNOWN_CODES.has(code), `code ${code}: ${state.error}`);
          }
        }
        conn.destroy();
      }),
      { numRuns: 400 },
    );
  });
}

Deno.test("http2 fuzz: the frame reader cuts any split of a byte stream into the same frames", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 10 }),
      fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 20 }),
      (payloads, cuts) => {
        const writer = new FrameWriter();
        payloads.forEach((payload, i) => writer.data(i * 2 + 1, payload, 0, payload.length, false));
        const bytes = writer.take().slice();
        const seen: [number, number[]][] = [];
        const reader = new FrameReader({
          frame: (_type, _flags, stream, payload) => (seen.push([stream, [...payload]]), true),
          oversize: () => assert.fail("no frame is over the limit"),
        });
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const next = Math.min(bytes.length, at + cuts[i % cuts.length]!);
          reader.push(bytes.slice(at, next));
          at = next;
        }
        assert.deepEqual(seen, payloads.map((p, i) => [i * 2 + 1, [...p]]));
        assert.equal(reader.buffered, 0);
      },
    ),
    { numRuns: 500 },
  );
});
