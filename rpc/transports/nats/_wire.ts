/**
 * What the NATS worker and client share: the part of a NATS connection
 * parley uses, the deadline header, payloads, and "no responders".
 *
 * @module
 */

import type { Frame } from "../../types.ts";

/** A message as a NATS subscription delivers it (the part parley reads). */
export interface NatsMessage {
  /** The payload: one frame. */
  readonly data: Uint8Array;
  /** Where the reply goes; absent for a publish (a notification). */
  readonly reply?: string;
  /** The message's headers. */
  readonly headers?: { get(name: string): string };
  /** Sends the reply. */
  respond(data: Uint8Array): boolean;
}

/**
 * The part of a NATS connection parley uses: the `NatsConnection` of
 * `@nats-io/nats-core` (what {@linkcode connectNats} returns) fits.
 */
export interface NatsConnectionLike {
  /** Subscribes to a subject, in a queue group. */
  subscribe(
    subject: string,
    options?: { queue?: string },
  ): AsyncIterable<NatsMessage> & { drain(): Promise<void> };
  /** Request/reply. */
  request(
    subject: string,
    payload: Uint8Array,
    options: { timeout: number; headers?: unknown },
  ): Promise<{ readonly data: Uint8Array }>;
  /** Publishes a message. */
  publish(subject: string, payload: Uint8Array, options?: { headers?: unknown }): void;
  /** Resolves when the server has seen everything sent so far (subscriptions included). */
  flush(): Promise<void>;
  /** Finishes what is pending and closes. */
  drain(): Promise<void>;
}

/** The header that carries a call's deadline, in milliseconds since the epoch. */
export const DEADLINE_HEADER = "Parley-Deadline";

const encoder = new TextEncoder();

/** Reads a text codec's frame out of a NATS payload; throws on bytes that are not UTF-8. */
export const utf8: TextDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * A frame as a NATS payload: text is sent as its UTF-8 bytes.
 *
 * @param frame the encoded message
 * @returns its bytes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bytesOf } from "./_wire.ts";
 *
 * assert.deepEqual(bytesOf("hi"), new Uint8Array([104, 105]));
 * ```
 */
export function bytesOf(frame: Frame): Uint8Array {
  return typeof frame === "string" ? encoder.encode(frame) : frame;
}

/**
 * No worker serves the subject: NATS answered "no responders".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NoRespondersError } from "./_wire.ts";
 *
 * const error = new NoRespondersError("calculator");
 * assert.equal(error.subject, "calculator");
 * assert.match(error.message, /No worker serves "calculator"/);
 * ```
 */
export class NoRespondersError extends Error {
  /** The subject nobody serves. */
  readonly subject: string;
  /**
   * Creates the error.
   *
   * @param subject the subject nobody serves
   * @param options standard error options, such as `cause`
   */
  constructor(subject: string, options?: ErrorOptions) {
    super(
      `No worker serves "${subject}" on NATS (no responders): start one, or check the subject`,
      options,
    );
    this.name = "NoRespondersError";
    this.subject = subject;
  }
}
