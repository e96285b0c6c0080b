/**
 * What a NATS client sends, gathered in one buffer per turn: `PUB`, `HPUB`,
 * `SUB`, `UNSUB`, `PING` and `PONG` lines with their payloads copied in
 * behind them, taken whole for one socket write. Control lines are written
 * byte by byte when ASCII (the subjects and numbers of nearly every line),
 * cheaper than an encoder call each; two buffers take turns, so that one is
 * filled while the other is being written.
 *
 * @module
 */

const encoder = new TextEncoder();
const FIRST_SIZE = 16 * 1024;
// A buffer that grew past this is not kept for the next turn.
const KEEP_SIZE = 1024 * 1024;

/**
 * The bytes waiting to be written.
 *
 * @example A publish and a ping, taken as one write
 * ```ts
 * import assert from "node:assert/strict";
 * import { Output } from "./_output.ts";
 *
 * const output = new Output();
 * output.publish("add", "INBOX.1", undefined, new TextEncoder().encode("[1,2]"));
 * output.line("PING");
 * assert.equal(new TextDecoder().decode(output.take()), "PUB add INBOX.1 5\r\n[1,2]\r\nPING\r\n");
 * assert.equal(output.size, 0);
 * ```
 */
export class Output {
  #buf: Uint8Array<ArrayBuffer> = new Uint8Array(FIRST_SIZE);
  #spare: Uint8Array<ArrayBuffer> | undefined;
  #length = 0;

  /** Bytes waiting. */
  get size(): number {
    return this.#length;
  }

  /**
   * Adds a control line; CRLF is added.
   *
   * @param text the line
   */
  line(text: string): void {
    this.#text(text);
    this.#crlf();
  }

  /**
   * Adds a `PUB` (or `HPUB`, with headers) and its payload. A text payload
   * is written straight into the buffer (ASCII by hand, cheaper in Deno
   * than an encoder's new array), in UTF-8.
   *
   * @param subject where it goes
   * @param reply where its answer should go
   * @param headers the encoded header block (`NATS/1.0\r\n…\r\n\r\n`)
   * @param payload the message
   * @returns the bytes of headers and payload
   */
  publish(
    subject: string,
    reply: string | undefined,
    headers: Uint8Array | undefined,
    payload: Uint8Array | string,
  ): number {
    const start = this.#length;
    const size = payload.length + (headers?.length ?? 0);
    this.#text(headers === undefined ? "PUB " : "HPUB ");
    this.#text(subject);
    if (reply !== undefined) {
      this.#byte(32);
      this.#text(reply);
    }
    if (headers !== undefined) {
      this.#byte(32);
      this.#number(headers.length);
    }
    this.#byte(32);
    this.#number(size);
    this.#crlf();
    if (headers !== undefined) this.#bytes(headers);
    if (typeof payload !== "string") this.#bytes(payload);
    else if (!this.#ascii(payload)) {
      // Not ASCII: its UTF-8 length differs, and so does the line before it.
      this.#length = start;
      return this.publish(subject, reply, headers, encoder.encode(payload));
    }
    this.#crlf();
    return size;
  }

  /**
   * Adds bytes as they are.
   *
   * @param bytes the bytes
   */
  raw(bytes: Uint8Array): void {
    this.#bytes(bytes);
  }

  /**
   * Takes everything waiting, to be written now; the next lines go to
   * another buffer. Hand the bytes back with `release()` once written.
   *
   * @returns the bytes
   */
  take(): Uint8Array {
    const taken = this.#buf.subarray(0, this.#length);
    this.#buf = this.#spare ?? new Uint8Array(FIRST_SIZE);
    this.#spare = undefined;
    this.#length = 0;
    return taken;
  }

  /**
   * Gives back the bytes of a `take()` once written, to be filled again.
   *
   * @param taken what `take()` returned
   */
  release(taken: Uint8Array): void {
    const buffer = taken.buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength <= KEEP_SIZE) {
      this.#spare = new Uint8Array(buffer);
    }
  }

  /**
   * Drops what was added after the buffer held `length` bytes.
   *
   * @param length the size to go back to
   */
  truncate(length: number): void {
    this.#length = Math.min(this.#length, length);
  }

  #room(n: number): void {
    if (this.#length + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#length + n));
    grown.set(this.#buf.subarray(0, this.#length));
    this.#buf = grown;
  }

  #byte(byte: number): void {
    this.#room(1);
    this.#buf[this.#length++] = byte;
  }

  #crlf(): void {
    this.#room(2);
    this.#buf[this.#length++] = 13;
    this.#buf[this.#length++] = 10;
  }

  #bytes(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  #text(text: string): void {
    if (!this.#ascii(text)) this.#bytes(encoder.encode(text));
  }

  // Copies an ASCII string; false (and nothing added) when it is not ASCII.
  #ascii(text: string): boolean {
    const n = text.length;
    this.#room(n);
    const buf = this.#buf;
    const at = this.#length;
    for (let i = 0; i < n; i++) {
      const code = text.charCodeAt(i);
      if (code > 127) return false;
      buf[at + i] = code;
    }
    this.#length = at + n;
    return true;
  }

  #number(n: number): void {
    this.#text(String(n));
  }
}
