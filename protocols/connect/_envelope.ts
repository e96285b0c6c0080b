/**
 * Connect's enveloped messages, what its streaming calls are made of: a
 * flags byte (0x01 compressed, 0x02 end of stream), a 4-byte big-endian
 * length, the message. gRPC's length prefix with more flags; read here
 * lazily, one envelope when the reader asks for it, so that a body is read
 * no faster than its messages are used.
 *
 * @module
 */

import { type ConnectCode, ConnectError } from "./errors.ts";
import { concatBytes } from "../../rpc/framing/_concat.ts";

/** The flag of a compressed message (by the agreed `connect-content-encoding`). */
export const FLAG_COMPRESSED = 0x01;
/** The flag of the end-of-stream message (a JSON object) that ends a reply stream. */
export const FLAG_END_STREAM = 0x02;

const PREFIX = 5;

/**
 * `data` with its envelope.
 *
 * @param flags the flags byte
 * @param data the message
 * @returns the enveloped message
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { envelope, FLAG_END_STREAM } from "./_envelope.ts";
 *
 * assert.deepEqual(envelope(0, new Uint8Array([8, 3])), new Uint8Array([0, 0, 0, 0, 2, 8, 3]));
 * assert.deepEqual(envelope(FLAG_END_STREAM, new Uint8Array([123, 125]))[0], 2);
 * ```
 */
export function envelope(flags: number, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(PREFIX + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, PREFIX);
  return out;
}

/** One envelope as it was read. */
export interface Envelope {
  /** The flags byte. */
  readonly flags: number;
  /** The message, as sent (compressed when the flag says so). */
  readonly data: Uint8Array;
}

/** What an {@linkcode EnvelopeReader} answers for a body it cannot read. */
export interface EnvelopeReaderOptions {
  /** The largest message, in bytes, as sent: a larger prefix is refused before its bytes are kept. */
  readonly maxSize: number;
  /** The code of a body that ends inside an envelope; `invalid_argument` by default. */
  readonly truncated?: ConnectCode;
  /**
   * Milliseconds the reader may wait for an envelope while none comes;
   * `Infinity` (the default): no limit. Past it, `deadline_exceeded`.
   */
  readonly idleTimeout?: number;
  /**
   * Read the body as it arrives rather than as envelopes are asked for,
   * keeping at most this many bytes beyond one whole message that the
   * reader has not taken yet; past it, `resource_exhausted`. For a body
   * read while a streaming reply is open (see `_stream_call.ts` for why).
   * Off by default: a chunk is read only when an envelope is wanted.
   */
  readonly readAhead?: number;
}

/**
 * Reads envelopes from a body. By default a chunk is read only when the
 * envelopes already read are used up, so a body is read no faster than its
 * reader goes; with `readAhead`, as it arrives, up to that many bytes ahead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EnvelopeReader } from "./_envelope.ts";
 *
 * const body = new Blob([new Uint8Array([0, 0, 0, 0, 1, 7, 2, 0, 0, 0, 2, 123, 125])]).stream();
 * const reader = new EnvelopeReader(body, { maxSize: 1024 });
 * assert.deepEqual(await reader.next(), { flags: 0, data: new Uint8Array([7]) });
 * assert.deepEqual(await reader.next(), { flags: 2, data: new Uint8Array([123, 125]) });
 * assert.equal(await reader.next(), undefined);
 * ```
 *
 * @example A caller too far ahead of its reader
 * ```ts
 * import assert from "node:assert/strict";
 * import { EnvelopeReader } from "./_envelope.ts";
 *
 * const body = new Blob([new Uint8Array(5 * 100)]).stream(); // 100 empty messages
 * const reader = new EnvelopeReader(body, { maxSize: 8, readAhead: 64 });
 * await new Promise((resolve) => setTimeout(resolve, 10)); // the body arrives meanwhile
 * await assert.rejects(reader.next(), { connectCode: "resource_exhausted" });
 * ```
 */
export class EnvelopeReader {
  readonly #chunks: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #options: EnvelopeReaderOptions;
  // The bytes read and not yet taken, in the chunks they came in: joined
  // only when a whole envelope is there, so a large message arriving in
  // many chunks is copied once.
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #ended = false;
  #failed: unknown;
  // Read-ahead: resolved when the pump has brought more (or the end).
  #arrived: PromiseWithResolvers<void> | undefined;

  /**
   * Creates the reader.
   *
   * @param body the body to read; `null` has no envelopes
   * @param options the limits
   */
  constructor(body: ReadableStream<Uint8Array> | null, options: EnvelopeReaderOptions) {
    this.#chunks = body?.getReader();
    this.#options = options;
    if (this.#chunks === undefined) this.#ended = true;
    else if (options.readAhead !== undefined) this.#pump(options.readAhead);
  }

  /**
   * The next envelope, or `undefined` at the end of the body.
   *
   * @throws {ConnectError} `resource_exhausted` for a length over
   *   `maxSize` (or a body past `readAhead`), the `truncated` code for a
   *   body that ends inside an envelope, `deadline_exceeded` past
   *   `idleTimeout`, or the reason {@linkcode EnvelopeReader.fail} was given
   */
  async next(): Promise<Envelope | undefined> {
    for (;;) {
      if (this.#failed !== undefined) throw this.#failed;
      if (this.#pendingBytes >= PREFIX) {
        const head = this.#take(PREFIX, false);
        const length = new DataView(head.buffer, head.byteOffset).getUint32(1);
        if (length > this.#options.maxSize) {
          throw this.#fail(
            new ConnectError(
              "resource_exhausted",
              `A message of ${length} bytes exceeds the limit of ${this.#options.maxSize} bytes`,
            ),
          );
        }
        if (this.#pendingBytes >= PREFIX + length) {
          const whole = this.#take(PREFIX + length, true);
          return { flags: whole[0]!, data: whole.subarray(PREFIX) };
        }
      }
      if (this.#ended) {
        if (this.#pendingBytes === 0) return undefined;
        throw this.#fail(
          new ConnectError(
            this.#options.truncated ?? "invalid_argument",
            `The body ends inside a message (${this.#pendingBytes} bytes of it)`,
          ),
        );
      }
      await this.#more();
    }
  }

  /**
   * Stops reading: the body is cancelled, and `next` throws `reason` from
   * now on.
   *
   * @param reason what `next` throws
   */
  fail(reason: unknown): void {
    this.#fail(reason);
  }

  #push(chunk: Uint8Array | undefined): void {
    if (chunk === undefined) {
      this.#ended = true;
      return;
    }
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
  }

  // The next chunk (or the end): read now, or brought by the pump; at most
  // `idleTimeout` ms of waiting.
  async #more(): Promise<void> {
    const idle = this.#options.idleTimeout ?? Infinity;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waiting = this.#options.readAhead === undefined
      ? this.#chunks!.read().then(({ done, value }) => this.#push(done ? undefined : value))
      : (this.#arrived ??= Promise.withResolvers()).promise;
    try {
      await (idle === Infinity ? waiting : Promise.race([
        waiting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() =>
            reject(
              new ConnectError(
                "deadline_exceeded",
                `No request message for ${idle} ms (limit idleTimeout)`,
              ),
            ), idle);
        }),
      ]));
    } catch (error) {
      // A failure of ours (fail(), the idle limit) is its own reason; the body's is the peer's.
      throw this.#fail(this.#failed ?? error);
    } finally {
      clearTimeout(timer);
    }
  }

  // Reads the body as it arrives, failing past `readAhead` bytes beyond one message.
  async #pump(readAhead: number): Promise<void> {
    const limit = readAhead + this.#options.maxSize + PREFIX;
    try {
      while (this.#failed === undefined && !this.#ended) {
        const { done, value } = await this.#chunks!.read();
        this.#push(done ? undefined : value);
        if (this.#pendingBytes > limit) {
          this.#fail(
            new ConnectError(
              "resource_exhausted",
              `The caller is ${this.#pendingBytes} bytes ahead of the handler (limit ${limit})`,
            ),
          );
        }
        this.#wake();
      }
    } catch (error) {
      this.#fail(error);
      this.#wake();
    }
  }

  #wake(): void {
    this.#arrived?.resolve();
    this.#arrived = undefined;
  }

  // The first `n` pending bytes (joined when they span chunks), removed
  // from the pending ones when `remove`.
  #take(n: number, remove: boolean): Uint8Array {
    let first = this.#pending[0]!;
    if (first.length < n) {
      first = concatBytes(this.#pending, this.#pendingBytes);
      this.#pending = [first];
    }
    if (!remove) return first.subarray(0, n);
    const rest = first.subarray(n);
    if (rest.length > 0) this.#pending[0] = rest;
    else this.#pending.shift();
    this.#pendingBytes -= n;
    return first.subarray(0, n);
  }

  #fail(reason: unknown): unknown {
    this.#failed ??= reason;
    this.#chunks?.cancel(reason).catch(() => {});
    return this.#failed;
  }
}
