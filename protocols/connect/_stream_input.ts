/**
 * The caller's messages of a Connect streaming call, read from the request
 * body as the handler asks for them: one envelope at a time, checked,
 * inflated and decoded.
 *
 * @module
 */

import { type EnvelopeReader, FLAG_COMPRESSED, FLAG_END_STREAM } from "./_envelope.ts";
import { ConnectError } from "./errors.ts";
import type { StreamInput } from "./_stream_run.ts";

/** Decodes one request message (inflating it first when `compressed`). */
export type DecodeMessage = (
  data: Uint8Array,
  compressed: boolean,
) => Promise<Record<string, unknown>>;

/**
 * The request messages of one call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EnvelopeReader } from "./_envelope.ts";
 * import { RequestMessages } from "./_stream_input.ts";
 *
 * const body = new Blob([new Uint8Array([0, 0, 0, 0, 1, 65, 0, 0, 0, 0, 1, 66])]).stream();
 * const messages = new RequestMessages(
 *   new EnvelopeReader(body, { maxSize: 64 }),
 *   (data) => Promise.resolve({ text: new TextDecoder().decode(data) }),
 * );
 * const read = [];
 * for await (const message of messages) read.push(message);
 * assert.deepEqual(read, [{ text: "A" }, { text: "B" }]);
 * ```
 */
export class RequestMessages implements StreamInput {
  readonly #reader: EnvelopeReader;
  readonly #decode: DecodeMessage;

  /**
   * Creates the messages of a body.
   *
   * @param reader the body's envelopes
   * @param decode how a message's bytes become the message
   */
  constructor(reader: EnvelopeReader, decode: DecodeMessage) {
    this.#reader = reader;
    this.#decode = decode;
  }

  /**
   * The next message, or `undefined` when the caller has sent its last.
   *
   * @throws {ConnectError} `invalid_argument` for a message flagged as the
   *   end of a stream or with flags Connect does not define, or one that
   *   does not decode; `canceled` when the body broke off; what the
   *   envelopes' reader throws
   */
  async next(): Promise<Record<string, unknown> | undefined> {
    let envelope;
    try {
      envelope = await this.#reader.next();
    } catch (error) {
      if (error instanceof ConnectError) throw error;
      // The body broke off: the client went away (HTTP/1.1 says nothing else).
      throw new ConnectError("canceled", `The request body broke off: ${error}`, [], {
        cause: error,
      });
    }
    if (envelope === undefined) return undefined;
    const { flags, data } = envelope;
    if ((flags & ~FLAG_COMPRESSED) !== 0) {
      const why = (flags & FLAG_END_STREAM) !== 0
        ? "a request message flagged as the end of a stream"
        : `a request message with flags ${flags}`;
      throw this.#fail(new ConnectError("invalid_argument", `Protocol error: ${why}`));
    }
    try {
      return await this.#decode(data, (flags & FLAG_COMPRESSED) !== 0);
    } catch (error) {
      throw this.#fail(error);
    }
  }

  /**
   * The one request message of a call whose reply alone streams.
   *
   * @throws {ConnectError} `invalid_argument` when none came, or more than one
   */
  async single(): Promise<Record<string, unknown>> {
    const message = await this.next();
    if (message === undefined) {
      throw this.#fail(
        new ConnectError("invalid_argument", "The call takes one request message, and none came"),
      );
    }
    if (await this.next() !== undefined) {
      throw this.#fail(
        new ConnectError("invalid_argument", "The call takes one request message, and more came"),
      );
    }
    return message;
  }

  /** Stops reading: the body is cancelled, and reading throws `reason`. */
  fail(reason: unknown): void {
    this.#reader.fail(reason);
  }

  /** The messages, in order; leaving the loop early stops reading the body. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Record<string, unknown>> {
    let ended = false;
    try {
      for (;;) {
        const message = await this.next();
        if (message === undefined) {
          ended = true;
          return;
        }
        yield message;
      }
    } finally {
      if (!ended) this.fail(new ConnectError("canceled", "The handler stopped reading"));
    }
  }

  #fail(reason: unknown): unknown {
    this.#reader.fail(reason);
    return reason;
  }
}
