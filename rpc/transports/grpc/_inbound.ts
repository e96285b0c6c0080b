/**
 * The messages that arrive on one gRPC call's HTTP/2 stream, read with
 * `for await`, at the reader's pace: while the reader is behind by a window
 * of messages the stream is paused, so `node:http2` stops reading and
 * HTTP/2's flow control makes the sender wait (nothing piles up here). The
 * same on both sides: a server's request stream (`ctx.input`), a client's
 * reply stream (`messages`).
 *
 * @module
 */

import type { Duplex } from "node:stream";
import { GrpcWireError, MessageReader } from "../../../protocols/grpc/_wire.ts";

/** Whole messages held before reading is paused, by default. */
const WINDOW = 32;
/** Bytes of whole messages held before reading is paused. */
const WINDOW_BYTES = 64 * 1024;

/** How {@linkcode InboundMessages} reads one stream. */
export interface InboundOptions {
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
  /** The reader left its loop early (the call is given up). */
  readonly onReturn?: () => void;
  /** Messages the method takes at most (1 for a unary request or reply). */
  readonly maxMessages?: number;
  /** Whether the body's end ends the messages (a server's request); else `close()` does. */
  readonly closeOnEnd: boolean;
}

/**
 * The messages of one stream, in order, read once with `for await`.
 *
 * @example A server's request stream, read as it comes
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { InboundMessages } from "./_inbound.ts";
 *
 * const server = http2.createServer();
 * const read = new Promise<unknown[]>((resolve) =>
 *   server.on("stream", async (stream: http2.ServerHttp2Stream) => {
 *     const inbound = new InboundMessages(stream, {
 *       maxMessageSize: 1024,
 *       acceptCompressed: false,
 *       decode: (bytes) => bytes[0],
 *       onWireError: (error) => error,
 *       closeOnEnd: true,
 *     });
 *     const values = [];
 *     for await (const value of inbound) values.push(value);
 *     stream.respond({ ":status": 200 }, { endStream: true });
 *     resolve(values);
 *   })
 * );
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const session = http2.connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
 * const call = session.request({ ":method": "POST", ":path": "/" });
 * call.end(new Uint8Array([0, 0, 0, 0, 1, 7, 0, 0, 0, 0, 1, 9]));
 * call.resume();
 * assert.deepEqual(await read, [7, 9]);
 * await new Promise((resolve) => call.on("close", resolve));
 * session.close();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export class InboundMessages implements AsyncIterable<unknown> {
  readonly #stream: Duplex;
  readonly #options: InboundOptions;
  readonly #reader: MessageReader;
  #messages: Uint8Array[] = [];
  #compressed: boolean[] = [];
  #head = 0;
  #heldBytes = 0;
  #received = 0;
  #paused = false;
  #started = false;
  #closed = false;
  #failure: { reason: unknown } | undefined;
  #waiter: PromiseWithResolvers<void> | undefined;

  /**
   * Starts reading `stream`.
   *
   * @param stream the call's HTTP/2 stream
   * @param options limits, decoding, and what to tell of errors
   */
  constructor(stream: Duplex, options: InboundOptions) {
    this.#stream = stream;
    this.#options = options;
    this.#reader = new MessageReader(options.maxMessageSize, options.acceptCompressed);
    stream.on("data", (chunk: Uint8Array) => this.#push(chunk));
    stream.once("end", () => {
      // A stream reset by the peer ends its readable side too: not a whole body.
      if ((stream as { aborted?: boolean }).aborted) return;
      try {
        this.#reader.end();
      } catch (error) {
        return this.#wireError(error);
      }
      if (options.closeOnEnd) this.close();
    });
  }

  /** Messages received so far (read or held). */
  get received(): number {
    return this.#received;
  }

  /** Messages received and not yet read. */
  get held(): number {
    return this.#messages.length - this.#head;
  }

  /** No more messages: reading ends after those held. */
  close(): void {
    this.#closed = true;
    this.#wake();
  }

  /**
   * The call is over: what is held and what still comes is dropped (the
   * stream flows, so its sender is not held by flow control).
   */
  discard(): void {
    this.#closed = true;
    this.#messages = [];
    this.#compressed = [];
    this.#head = 0;
    this.#wake();
    this.#stream.resume();
  }

  /**
   * The stream failed: reading throws `reason` after the messages held.
   * Nothing more is read.
   */
  fail(reason: unknown): void {
    if (this.#failure !== undefined || this.#closed) return;
    this.#failure = { reason };
    this.#stream.pause();
    this.#wake();
  }

  #push(chunk: Uint8Array): void {
    if (this.#failure !== undefined || this.#closed) return;
    try {
      this.#reader.push(chunk);
    } catch (error) {
      return this.#wireError(error);
    }
    const { messages, compressed } = this.#reader.take();
    if (messages.length === 0) return;
    this.#received += messages.length;
    if (this.#received > (this.#options.maxMessages ?? Infinity)) {
      return this.#wireError(
        new GrpcWireError(13, "More than one message, where the method takes one"),
      );
    }
    for (let i = 0; i < messages.length; i++) {
      this.#messages.push(messages[i]!);
      this.#compressed.push(compressed[i]!);
      this.#heldBytes += messages[i]!.length;
    }
    if (!this.#paused && (this.held >= WINDOW || this.#heldBytes >= WINDOW_BYTES)) {
      // The reader is a window behind: HTTP/2's flow control holds the sender from here.
      this.#paused = true;
      this.#stream.pause();
    }
    this.#wake();
  }

  #wireError(error: unknown): void {
    if (!(error instanceof GrpcWireError)) throw error;
    if (this.#failure !== undefined) return;
    const reason = this.#options.onWireError(error);
    // Even after close(): a held message that does not decode fails the reading.
    this.#failure ??= { reason };
    this.#stream.pause();
    this.#wake();
  }

  #wake(): void {
    this.#waiter?.resolve();
    this.#waiter = undefined;
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
        const early = !this.#closed && this.#failure === undefined;
        this.#closed = true;
        this.#messages = [];
        this.#compressed = [];
        this.#head = 0;
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
        if (++this.#head === this.#messages.length) {
          this.#messages = [];
          this.#compressed = [];
          this.#head = 0;
        }
        this.#heldBytes -= message.length;
        if (this.#paused && this.held <= WINDOW / 2 && this.#heldBytes < WINDOW_BYTES / 2) {
          this.#paused = false;
          if (this.#failure === undefined) this.#stream.resume();
        }
        try {
          const decoded = this.#options.decode(message, compressed);
          return { value: decoded instanceof Promise ? await decoded : decoded, done: false };
        } catch (error) {
          this.#wireError(error);
          throw this.#failure!.reason;
        }
      }
      if (this.#failure !== undefined) throw this.#failure.reason;
      if (this.#closed) return { value: undefined, done: true };
      this.#waiter ??= Promise.withResolvers();
      await this.#waiter.promise;
    }
  }
}
