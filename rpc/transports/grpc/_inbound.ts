/**
 * The messages that arrive on one gRPC call's HTTP/2 stream, read with
 * `for await`, at the reader's pace: the stream is read only when the
 * reader asks for a message that has not arrived whole, so a reader that
 * stops leaves the bytes in HTTP/2's window, and its flow control holds the
 * sender (nothing piles up here beyond one read's chunk). The same on both
 * sides: a server's request stream (`ctx.input`), a client's reply stream
 * (`messages`).
 *
 * @module
 */

import { GrpcWireError, MessageReader } from "../../../protocols/grpc/_wire.ts";

/** How {@linkcode InboundMessages} reads one stream. */
export interface InboundOptions {
  /** The next chunk of the body, `null` at its end; rejects when the stream fails. */
  readonly read: () => Promise<Uint8Array | null>;
  /** The largest message, as sent: a longer prefix is 8 RESOURCE_EXHAUSTED at once. */
  readonly maxMessageSize: number;
  /** Whether a compressed flag is allowed (a `grpc-encoding` was agreed). */
  readonly acceptCompressed: boolean;
  /**
   * A message's bytes as the value read (inflating them first when
   * `compressed`); throws a `GrpcWireError` for bytes that are not one.
   */
  readonly decode: (message: Uint8Array, compressed: boolean) => unknown;
  /**
   * Told, once, the first thing wrong with what arrived (framing, size,
   * too many messages, a message that does not decode); returns what the
   * reader throws. The call fails with it.
   */
  readonly onWireError: (error: GrpcWireError) => unknown;
  /** `read` failed (a reset, the connection lost): returns what the reader throws. */
  readonly onReadError: (error: unknown) => unknown;
  /** The body ended whole: returns what the reader throws then, or `undefined` to end well. */
  readonly onEnd?: () => unknown;
  /** The reader left its loop early (the call is given up). */
  readonly onReturn?: () => void;
  /** Messages the method takes at most (1 for a unary request or reply). */
  readonly maxMessages?: number;
}

/**
 * The messages of one stream, in order, read once with `for await`.
 *
 * @example Two messages, read from chunks as they come
 * ```ts
 * import assert from "node:assert/strict";
 * import { InboundMessages } from "./_inbound.ts";
 *
 * const chunks = [new Uint8Array([0, 0, 0, 0, 1, 7, 0, 0]), new Uint8Array([0, 0, 1, 9]), null];
 * const inbound = new InboundMessages({
 *   read: () => Promise.resolve(chunks.shift()!),
 *   maxMessageSize: 1024,
 *   acceptCompressed: false,
 *   decode: (bytes) => bytes[0],
 *   onWireError: (error) => error,
 *   onReadError: (error) => error,
 * });
 * assert.deepEqual(await Array.fromAsync(inbound), [7, 9]);
 * ```
 */
export class InboundMessages implements AsyncIterable<unknown> {
  readonly #options: InboundOptions;
  readonly #reader: MessageReader;
  #messages: Uint8Array[] = [];
  #compressed: boolean[] = [];
  #head = 0;
  #received = 0;
  #started = false;
  /** The body has ended: no more reads. */
  #ended = false;
  /** The reader is done (left, or the call is over): what is held is dropped. */
  #closed = false;
  #failure: { reason: unknown } | undefined;

  /**
   * Reads through `options.read`, when asked.
   *
   * @param options the reading, limits, decoding, and what to tell of errors
   */
  constructor(options: InboundOptions) {
    this.#options = options;
    this.#reader = new MessageReader(options.maxMessageSize, options.acceptCompressed);
  }

  /** Messages received so far (read or held). */
  get received(): number {
    return this.#received;
  }

  /** Messages received and not yet read. */
  get held(): number {
    return this.#messages.length - this.#head;
  }

  /** The call is over: what is held is dropped, nothing more is read. */
  discard(): void {
    this.#closed = true;
    this.#messages = [];
    this.#compressed = [];
    this.#head = 0;
  }

  /**
   * The stream failed: reading throws `reason` after the messages held.
   * Nothing more is read.
   */
  fail(reason: unknown): void {
    if (this.#failure !== undefined || this.#closed) return;
    this.#failure = { reason };
  }

  #wireError(error: unknown): void {
    if (!(error instanceof GrpcWireError)) throw error;
    if (this.#failure !== undefined) return;
    // Even after the end: a held message that does not decode fails the reading.
    this.#failure = { reason: this.#options.onWireError(error) };
  }

  #push(chunk: Uint8Array): void {
    try {
      this.#reader.push(chunk);
    } catch (error) {
      return this.#wireError(error);
    }
    const { messages, compressed } = this.#reader;
    if (messages.length === 0) return;
    this.#received += messages.length;
    if (this.#received > (this.#options.maxMessages ?? Infinity)) {
      return this.#wireError(
        new GrpcWireError(13, "More than one message, where the method takes one"),
      );
    }
    if (this.#head === this.#messages.length) {
      // The common case: all read before; take the reader's arrays whole.
      this.#messages = messages.splice(0);
      this.#compressed = compressed.splice(0);
      this.#head = 0;
      return;
    }
    for (let i = 0; i < messages.length; i++) {
      this.#messages.push(messages[i]!);
      this.#compressed.push(compressed[i]!);
    }
    messages.length = 0;
    compressed.length = 0;
  }

  /**
   * Reads the messages, once; leaving the loop early calls `onReturn`.
   *
   * @returns the messages, decoded, in order; then the stream's error if it failed
   */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    if (this.#started) throw new TypeError("A stream's messages can be read only once");
    this.#started = true;
    return {
      next: () => this.#next(),
      return: (value?: unknown) => {
        const early = !this.#closed && !this.#ended && this.#failure === undefined;
        this.discard();
        if (early) this.#options.onReturn?.();
        return Promise.resolve({ done: true, value });
      },
    };
  }

  async #next(): Promise<IteratorResult<unknown>> {
    while (true) {
      if (this.#head < this.#messages.length) {
        const message = this.#messages[this.#head]!;
        const compressed = this.#compressed[this.#head]!;
        this.#messages[this.#head++] = EMPTY;
        try {
          const decoded = this.#options.decode(message, compressed);
          return { value: decoded instanceof Promise ? await decoded : decoded, done: false };
        } catch (error) {
          this.#wireError(error);
          throw this.#failure!.reason;
        }
      }
      if (this.#failure !== undefined) throw this.#failure.reason;
      if (this.#closed || this.#ended) return { value: undefined, done: true };
      let chunk: Uint8Array | null;
      try {
        chunk = await this.#options.read();
      } catch (error) {
        this.#failure ??= { reason: this.#options.onReadError(error) };
        continue;
      }
      if (this.#failure !== undefined || this.#closed) continue;
      if (chunk !== null) {
        this.#push(chunk);
        continue;
      }
      this.#ended = true;
      try {
        this.#reader.end();
      } catch (error) {
        this.#wireError(error);
        continue;
      }
      const reason = this.#options.onEnd?.();
      if (reason !== undefined) this.#failure = { reason };
    }
  }
}

const EMPTY = new Uint8Array(0);
