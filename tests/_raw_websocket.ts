/**
 * A bare TCP client that speaks WebSocket by hand, for tests of what a server
 * does with hostile bytes: the handshake, hand-made frames (masked or not,
 * fragmented, lying about their length), and the server's frames and close
 * codes read off the socket. Every wait is bounded.
 *
 * @module
 */

import assert from "node:assert/strict";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Every wait on the raw socket is bounded by this (not a timing assertion). */
export const WAIT_MS = 10_000;
/** The key of RFC 6455's example, and the accept value it must get. */
export const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
export const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

export const Op = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** A frame as the server sent it. */
export interface ServerFrame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Uint8Array;
}

/** The answer to a handshake. */
export interface HandshakeAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The body, for an answer other than 101 (by its Content-Length). */
  readonly body: string;
}

/** A bare TCP connection that speaks WebSocket by hand. */
export class RawSocket implements AsyncDisposable {
  readonly #conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  #pending: Promise<Uint8Array | null> | undefined;
  #closed = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects to a server on 127.0.0.1 (`serveHttp`'s, or a port). */
  static async connect(
    server: { readonly addr: { readonly port: number } } | number,
  ): Promise<RawSocket> {
    const port = typeof server === "number" ? server : server.addr.port;
    return new RawSocket(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /**
   * Sends a handshake for `path`, with `headers` over the usual ones
   * (`undefined` leaves a header out), and reads the answer.
   */
  async handshake(
    path: string,
    headers: Record<string, string | undefined> = {},
  ): Promise<HandshakeAnswer> {
    const all: Record<string, string | undefined> = {
      host: `127.0.0.1:${(this.#conn.remoteAddr as Deno.NetAddr).port}`,
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": KEY,
      "sec-websocket-version": "13",
      ...headers,
    };
    let request = `GET ${path} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(all)) {
      if (value !== undefined) request += `${name}: ${value}\r\n`;
    }
    await this.write(encoder.encode(`${request}\r\n`));
    let end: number;
    while ((end = indexOfHeadEnd(this.#buffer)) < 0) {
      if (!(await this.#fill())) throw new Error("the server closed during the handshake");
    }
    const head = decoder.decode(this.#take(end + 4)).split("\r\n");
    const status = Number(head[0]!.split(" ")[1]);
    const answerHeaders = new Headers();
    for (const line of head.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        answerHeaders.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
    }
    let body = "";
    if (status !== 101) {
      const length = Number(answerHeaders.get("content-length") ?? "0");
      if (!(await this.#need(length))) throw new Error("the server closed during the body");
      body = decoder.decode(this.#take(length));
    }
    return { status, headers: answerHeaders, body };
  }

  async write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  /** The server's next frame, or `"eof"` when it closes the connection first. */
  async readFrame(): Promise<ServerFrame | "eof"> {
    if (!(await this.#need(2))) return "eof";
    const first = this.#buffer[0]!;
    const second = this.#buffer[1]!;
    assert.equal(second & 0x80, 0, "a server frame must not be masked");
    let length = second & 0x7f;
    let header = 2;
    if (length === 126) {
      if (!(await this.#need(4))) return "eof";
      length = (this.#buffer[2]! << 8) | this.#buffer[3]!;
      header = 4;
    } else if (length === 127) {
      if (!(await this.#need(10))) return "eof";
      length = Number(new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getBigUint64(2));
      header = 10;
    }
    if (!(await this.#need(header + length))) return "eof";
    this.#take(header);
    return { fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload: this.#take(length) };
  }

  /** The server's next frame, which must be a close frame: its code and reason. */
  async readClose(): Promise<{ code: number; reason: string }> {
    const frame = await this.readFrame();
    assert.notEqual(frame, "eof", "the server dropped the connection without a close frame");
    const { opcode, payload } = frame as ServerFrame;
    assert.equal(opcode, Op.Close, `expected a close frame, got opcode ${opcode}`);
    assert.ok(payload.length >= 2, "a close frame without a code");
    return {
      code: (payload[0]! << 8) | payload[1]!,
      reason: decoder.decode(payload.subarray(2)),
    };
  }

  /** Asserts that the server closes the connection with no frame before. */
  async assertDroppedWithoutCloseFrame(): Promise<void> {
    const frame = await this.readFrame();
    if (frame === "eof") return;
    assert.fail(
      `expected the connection dropped, got a frame: opcode ${frame.opcode}` +
        (frame.opcode === Op.Close && frame.payload.length >= 2
          ? `, close code ${(frame.payload[0]! << 8) | frame.payload[1]!}`
          : ""),
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return this.#pending?.then(() => {}, () => {}) ?? Promise.resolve();
  }

  async #need(n: number): Promise<boolean> {
    while (this.#buffer.length < n) {
      if (!(await this.#fill())) return false;
    }
    return true;
  }

  // Reads more bytes; false at the end of the stream (or a reset). One read
  // at most is outstanding: one that timed out is awaited again next time.
  async #fill(): Promise<boolean> {
    this.#pending ??= (async () => {
      const chunk = new Uint8Array(64 * 1024);
      try {
        const n = await this.#conn.read(chunk);
        return n === null ? null : chunk.subarray(0, n);
      } catch (error) {
        if (error instanceof Deno.errors.ConnectionReset) return null;
        throw error;
      }
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), WAIT_MS);
    });
    const got = await Promise.race([this.#pending, timeout]);
    clearTimeout(timer);
    if (got === "timeout") throw new Error(`no bytes and no close within ${WAIT_MS} ms`);
    this.#pending = undefined;
    if (got === null) return false;
    const joined = new Uint8Array(this.#buffer.length + got.length);
    joined.set(this.#buffer);
    joined.set(got, this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  #take(n: number): Uint8Array {
    const taken = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return taken;
  }
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Options of {@linkcode frame}. */
export interface FrameOptions {
  readonly fin?: boolean;
  readonly masked?: boolean;
  /** RSV1-3 bits, as the top bits of the first byte (0x70 for all three). */
  readonly rsv?: number;
}

/** A client frame: masked (unless told otherwise), FIN set, with its real length. */
export function frame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): Uint8Array {
  const masked = options.masked ?? true;
  const head: number[] = [((options.fin ?? true) ? 0x80 : 0) | (options.rsv ?? 0) | opcode];
  const maskBit = masked ? 0x80 : 0;
  if (payload.length < 126) head.push(maskBit | payload.length);
  else if (payload.length < 65536) {
    head.push(maskBit | 126, payload.length >> 8, payload.length & 0xff);
  } else {
    head.push(maskBit | 127);
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(payload.length));
    head.push(...length);
  }
  const key = [0x37, 0xfa, 0x21, 0x3d];
  if (masked) head.push(...key);
  const body = masked ? payload.map((byte, i) => byte ^ key[i % 4]!) : payload;
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** A masked frame header that claims `length` bytes (64-bit form), with no payload after it. */
export function claimedLength(opcode: number, length: bigint): Uint8Array {
  const out = new Uint8Array(14);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | 127;
  new DataView(out.buffer).setBigUint64(2, length);
  out.set([1, 2, 3, 4], 10);
  return out;
}

export function closePayload(code: number, reason = ""): Uint8Array {
  const text = encoder.encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}
