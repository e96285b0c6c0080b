import { concatBytes } from "../../rpc/framing/_concat.ts";
/**
 * gRPC's bytes, whatever carries them: length-prefixed messages (a 1-byte
 * compressed flag, a 4-byte big-endian length, the message), `grpc-timeout`
 * and `grpc-message`'s percent-encoding. Web-standard: no HTTP/2 here.
 *
 * @module
 */

/** The 5 bytes before each message: the compressed flag and the length. */
export const PREFIX_SIZE = 5;

/**
 * A message with its prefix; `compressed` sets the flag (the message is
 * already compressed by the agreed `grpc-encoding`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameMessage } from "./_wire.ts";
 *
 * assert.deepEqual(frameMessage(new Uint8Array([8, 3])), new Uint8Array([0, 0, 0, 0, 2, 8, 3]));
 * ```
 */
export function frameMessage(message: Uint8Array, compressed = false): Uint8Array {
  const framed = new Uint8Array(PREFIX_SIZE + message.length);
  framed[0] = compressed ? 1 : 0;
  new DataView(framed.buffer).setUint32(1, message.length);
  framed.set(message, PREFIX_SIZE);
  return framed;
}

/** Why a request's messages cannot be read; `status` is the gRPC status to answer. */
export class GrpcWireError extends Error {
  /**
   * Creates the error.
   *
   * @param status the gRPC status code (8 RESOURCE_EXHAUSTED, 13 INTERNAL, …)
   * @param message what was wrong
   */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "GrpcWireError";
  }
}

/**
 * Reads length-prefixed messages from the chunks of a body as they arrive.
 * A message's length is checked against `maxMessageSize` as soon as its
 * prefix is in, before a byte of it is kept: a prefix claiming 2 GiB costs
 * nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageReader } from "./_wire.ts";
 *
 * const reader = new MessageReader(1024);
 * reader.push(new Uint8Array([0, 0, 0, 0, 2, 8]));
 * assert.deepEqual(reader.messages, []);
 * reader.push(new Uint8Array([3]));
 * assert.deepEqual(reader.messages, [new Uint8Array([8, 3])]);
 * reader.end(); // whole: nothing left over
 * assert.throws(() => reader.push(new Uint8Array([0, 0x80, 0, 0, 0])), /exceeds the limit/);
 * ```
 */
export class MessageReader {
  /** The messages read whole so far, in order. */
  readonly messages: Uint8Array[] = [];
  /** Whether each of `messages` came compressed (its flag was 1), in order. */
  readonly compressed: boolean[] = [];
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  /**
   * Creates the reader.
   *
   * @param maxMessageSize the largest message accepted, in bytes (as sent)
   * @param acceptCompressed whether a compressed flag is allowed (a
   *   `grpc-encoding` was agreed); its messages are kept as they came
   */
  constructor(readonly maxMessageSize: number, readonly acceptCompressed = false) {}

  /**
   * Takes the next chunk of the body.
   *
   * @throws {GrpcWireError} status 8 over the limit, 13 for a compressed
   *   message when none was agreed, or a flag other than 0 and 1
   */
  push(chunk: Uint8Array): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    while (this.#pendingBytes >= PREFIX_SIZE) {
      const head = this.#peek(PREFIX_SIZE);
      const length = new DataView(head.buffer, head.byteOffset).getUint32(1);
      if (length > this.maxMessageSize) {
        throw new GrpcWireError(
          8,
          `A message of ${length} bytes exceeds the limit of ${this.maxMessageSize} bytes`,
        );
      }
      const flag = head[0]!;
      if (flag > 1) throw new GrpcWireError(13, `A message flag of ${flag}`);
      if (flag === 1 && !this.acceptCompressed) {
        throw new GrpcWireError(13, "A compressed message, but no grpc-encoding was agreed");
      }
      if (this.#pendingBytes < PREFIX_SIZE + length) return;
      const whole = this.#take(PREFIX_SIZE + length);
      this.messages.push(whole.subarray(PREFIX_SIZE));
      this.compressed.push(flag === 1);
    }
  }

  /**
   * Takes the messages read whole so far, leaving none: how a stream's
   * reader hands them on as they come, holding nothing twice.
   *
   * @returns the messages and their compressed flags, in order
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MessageReader } from "./_wire.ts";
   *
   * const reader = new MessageReader(1024);
   * reader.push(new Uint8Array([0, 0, 0, 0, 1, 7, 0, 0, 0, 0, 1, 9]));
   * assert.deepEqual(reader.take(), {
   *   messages: [new Uint8Array([7]), new Uint8Array([9])],
   *   compressed: [false, false],
   * });
   * assert.deepEqual(reader.messages, []);
   * ```
   */
  take(): { messages: Uint8Array[]; compressed: boolean[] } {
    return { messages: this.messages.splice(0), compressed: this.compressed.splice(0) };
  }

  /**
   * Says the body has ended.
   *
   * @throws {GrpcWireError} status 13 when it ends inside a message
   */
  end(): void {
    if (this.#pendingBytes > 0) {
      throw new GrpcWireError(13, `The body ends inside a message (${this.#pendingBytes} bytes)`);
    }
  }

  // The first `n` pending bytes, joined only when they span chunks.
  #peek(n: number): Uint8Array {
    const first = this.#pending[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const joined = concatBytes(this.#pending, this.#pendingBytes);
    this.#pending = [joined];
    return joined.subarray(0, n);
  }

  #take(n: number): Uint8Array {
    const whole = this.#peek(n);
    const rest = this.#pending[0]!.subarray(n);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingBytes -= n;
    return whole;
  }
}

const TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};
// AbortSignal.timeout's delay is a 32-bit signed count of milliseconds.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A `grpc-timeout` header (`1..8 digits` + a unit of `H M S m u n`) in
 * milliseconds, rounded up and at most ~24.8 days (a timer's limit);
 * `undefined` for no header.
 *
 * @throws {GrpcWireError} status 3 for a malformed value
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTimeout } from "./_wire.ts";
 *
 * assert.equal(parseTimeout("250m"), 250);
 * assert.equal(parseTimeout("2S"), 2000);
 * assert.equal(parseTimeout("1u"), 1);
 * assert.equal(parseTimeout(undefined), undefined);
 * assert.throws(() => parseTimeout("soon"));
 * ```
 */
export function parseTimeout(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = TIMEOUT.exec(header);
  if (match === null) throw new GrpcWireError(3, `Malformed grpc-timeout: ${header}`);
  const ms = Math.ceil(Number(match[1]) * UNIT_MS[match[2]!]!);
  return Math.min(ms, MAX_TIMER_MS);
}

const encoder = new TextEncoder();

/**
 * `grpc-message`'s encoding: UTF-8, with bytes outside printable ASCII and
 * `%` itself percent-encoded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentEncode } from "./_wire.ts";
 *
 * assert.equal(percentEncode("100% sure"), "100%25 sure");
 * assert.equal(percentEncode("é\n"), "%C3%A9%0A");
 * ```
 */
export function percentEncode(message: string): string {
  let out = "";
  for (const byte of encoder.encode(message)) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * `grpc-message` decoded: percent-escapes as UTF-8; a malformed escape is
 * kept as it came (the spec asks receivers not to fail on it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentDecode } from "./_wire.ts";
 *
 * assert.equal(percentDecode("100%25 sure %C3%A9"), "100% sure é");
 * assert.equal(percentDecode("50%"), "50%");
 * ```
 */
export function percentDecode(message: string): string {
  try {
    return decodeURIComponent(message);
  } catch {
    return message;
  }
}

/**
 * A deadline in milliseconds as `grpc-timeout` (at most 8 digits: whole
 * milliseconds, or seconds and minutes past that).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTimeout } from "./_wire.ts";
 *
 * assert.equal(formatTimeout(250), "250m");
 * assert.equal(formatTimeout(0.4), "1m");
 * assert.equal(formatTimeout(200_000_000), "200000S");
 * ```
 */
export function formatTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  if (whole < 1e8) return `${whole}m`;
  const seconds = Math.ceil(whole / 1000);
  return seconds < 1e8 ? `${seconds}S` : `${Math.min(Math.ceil(seconds / 60), 99_999_999)}M`;
}
