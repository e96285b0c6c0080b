/**
 * A raw HTTP/2 client for hostile tests: bytes written as given, the
 * server's frames collected as they come. Frames are built by hand, or
 * their header blocks by parley's HPACK encoder.
 *
 * @module
 */

import { HpackEncoder } from "../protocols/http2/hpack.ts";

/** The client's connection preface. */
export const PREFACE: Uint8Array = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Frame types by name. */
export const T = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

/** One frame: 9 bytes of header, then the payload; `length` overrides the header's length. */
export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: ArrayLike<number> = [],
  length: number = payload.length,
): Uint8Array {
  const bytes = new Uint8Array(9 + payload.length);
  bytes[0] = length >>> 16;
  bytes[1] = length >>> 8;
  bytes[2] = length;
  bytes[3] = type;
  bytes[4] = flags;
  new DataView(bytes.buffer).setUint32(5, stream);
  bytes.set(payload, 9);
  return bytes;
}

/** A 32-bit big-endian number's bytes. */
export function u32(value: number): number[] {
  return [value >>> 24 & 0xff, value >>> 16 & 0xff, value >>> 8 & 0xff, value & 0xff];
}

const encoder = new HpackEncoder({ indexing: () => "without" });

/** A request's header block (literals only, so that every block stands alone). */
export function requestBlock(path = "/", extra: Record<string, string> = {}): Uint8Array {
  const fields = [":method", "POST", ":scheme", "http", ":path", path, ":authority", "x"];
  for (const [name, value] of Object.entries(extra)) fields.push(name, value);
  return encoder.encode(fields).slice();
}

/** HEADERS with END_HEADERS (and END_STREAM when `end`). */
export function headers(stream: number, end = false, path = "/"): Uint8Array {
  return frame(T.HEADERS, 0x4 | (end ? 0x1 : 0), stream, requestBlock(path));
}

/** A frame the server sent. */
export interface ServerFrame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly payload: Uint8Array;
}

/** A raw TCP connection to an HTTP/2 server. */
export class RawHttp2 implements AsyncDisposable {
  readonly #conn: Deno.Conn;
  #bytes = new Uint8Array(0);
  #closed = false;
  readonly ended: Promise<void>;
  /** Bytes written before the server closed the connection. */
  written = 0;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.ended = this.#read();
  }

  /** Connects; with `greet`, sends the preface and an empty SETTINGS. */
  static async open(port: number, greet = true): Promise<RawHttp2> {
    const raw = new RawHttp2(await Deno.connect({ hostname: "127.0.0.1", port }));
    if (greet) await raw.write(PREFACE, frame(T.SETTINGS, 0, 0));
    return raw;
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(65_536);
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        const joined = new Uint8Array(this.#bytes.length + n);
        joined.set(this.#bytes);
        joined.set(buffer.subarray(0, n), this.#bytes.length);
        this.#bytes = joined;
      }
    } catch {
      // Reset by the server: the end as well.
    }
    this.#closed = true;
  }

  /** Whether the server has closed the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  #yielded = performance.now();

  /**
   * Writes; false once the server has closed the connection. Every few ms it
   * lets timers and reads run: a socket write can complete without the event
   * loop turning, and a loop of them in the server's own process would
   * starve it (an attacker in another process does not).
   */
  async write(...chunks: Uint8Array[]): Promise<boolean> {
    if (performance.now() - this.#yielded > 5) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      this.#yielded = performance.now();
    }
    for (const chunk of chunks) {
      try {
        for (let at = 0; at < chunk.length;) at += await this.#conn.write(chunk.subarray(at));
        this.written += chunk.length;
      } catch {
        return false;
      }
    }
    return true;
  }

  /** The frames received so far. */
  get frames(): ServerFrame[] {
    const frames: ServerFrame[] = [];
    const bytes = this.#bytes;
    for (let at = 0; at + 9 <= bytes.length;) {
      const length = (bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!;
      if (at + 9 + length > bytes.length) break;
      frames.push({
        type: bytes[at + 3]!,
        flags: bytes[at + 4]!,
        stream: new DataView(bytes.buffer, at + 5, 4).getUint32(0) & 0x7fffffff,
        payload: bytes.subarray(at + 9, at + 9 + length),
      });
      at += 9 + length;
    }
    return frames;
  }

  /** The error code of the server's GOAWAY, if one came. */
  get goaway(): number | undefined {
    const goaway = this.frames.find((f) => f.type === T.GOAWAY);
    return goaway === undefined
      ? undefined
      : new DataView(goaway.payload.buffer, goaway.payload.byteOffset).getUint32(4);
  }

  /** The GOAWAY's debug text. */
  get goawayText(): string {
    const goaway = this.frames.find((f) => f.type === T.GOAWAY);
    return goaway === undefined ? "" : new TextDecoder().decode(goaway.payload.subarray(8));
  }

  /** RST_STREAM codes received, by stream. */
  get resets(): Map<number, number> {
    const resets = new Map<number, number>();
    for (const f of this.frames.filter((f) => f.type === T.RST_STREAM)) {
      resets.set(f.stream, new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0));
    }
    return resets;
  }

  /** Waits (at most `ms`) until `done()` holds or the server closes; returns whether it held. */
  async until(done: () => boolean, ms = 10_000): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!done() && !this.#closed && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return done();
  }

  /** Waits for the server's GOAWAY and close (at most `ms`); returns the GOAWAY's code. */
  async goawayAndClose(ms = 10_000): Promise<number | undefined> {
    await Promise.race([this.ended, new Promise((resolve) => setTimeout(resolve, ms))]);
    return this.goaway;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
    await this.ended;
  }
}
