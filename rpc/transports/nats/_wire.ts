/**
 * What the NATS worker and client share: the part of a NATS connection
 * parley uses, the deadline header, payloads, and "no responders".
 *
 * @module
 */

/** A message as a NATS subscription delivers it (the part parley reads). */
export interface NatsMessage {
  /** The subject it was published to. */
  readonly subject: string;
  /** The payload: one frame. */
  readonly data: Uint8Array;
  /** Where the reply goes; absent for a publish (a notification). */
  readonly reply?: string | undefined;
  /** The message's headers, and NATS's status code (503: no responders). */
  readonly headers?:
    | { get(name: string): string; keys?(): string[]; readonly code?: number }
    | undefined;
  /**
   * The payload as UTF-8 text, throwing when it is not (parley's own
   * client has it, cheaper than a decoder call per message); absent, the
   * payload is decoded.
   */
  text?(): string;
  /** Sends the reply (text is sent as UTF-8). */
  respond(data: Uint8Array | string): boolean;
}

/** A subscription, as `NatsConnectionLike.subscribe` returns it. */
export interface NatsSubscription {
  /** Stops taking messages; the ones delivered already are still handled. */
  drain(): Promise<void>;
  /** Stops at once. */
  unsubscribe(): void;
  /** Resolves when the subscription has ended. */
  readonly closed: Promise<unknown>;
}

/**
 * The part of a NATS connection parley uses: the `NatsConnection` of
 * `@nats-io/nats-core` (what {@linkcode connectNats} returns) fits.
 */
export interface NatsConnectionLike {
  /**
   * Subscribes to a subject, in a queue group; every message goes to the
   * callback as it is read (no promise per message).
   */
  subscribe(
    subject: string,
    options: {
      queue?: string;
      callback: (error: Error | null, msg: NatsMessage) => void;
    },
  ): NatsSubscription;
  /** Subscribes, and hands the messages out one by one. */
  subscribe(subject: string, options?: { queue?: string }): AsyncIterable<NatsMessage>;
  /** Publishes a message (text as UTF-8), with a reply subject for a request. */
  publish(
    subject: string,
    payload: Uint8Array | string,
    options?: { headers?: unknown; reply?: string },
  ): void;
  /** Resolves when the server has seen everything sent so far (subscriptions included). */
  flush(): Promise<void>;
  /** Finishes what is pending and closes. */
  drain(): Promise<void>;
}

/**
 * The header that carries a call's deadline, in milliseconds since the epoch.
 *
 * @example A worker without parley reads it
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "../../../testing/nats_server.ts";
 * import { connectNats, DEADLINE_HEADER, natsClient } from "../nats.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * await using natsServer = await startNatsServer(); // Debian package nats-server
 * const nc = await connectNats(natsServer.url);
 * const requests = nc.subscribe("calculator");
 * await nc.flush();
 * const client = natsClient({ connection: nc, subject: "calculator", codec: jsonRpc() });
 * const sent = Date.now();
 * const call = client.call("add", [1, 2], { timeout: 5_000 });
 * for await (const message of requests) {
 *   assert.ok(Number(message.headers?.get(DEADLINE_HEADER)) >= sent + 5_000);
 *   const { id, params: [a, b] } = JSON.parse(new TextDecoder().decode(message.data));
 *   message.respond(new TextEncoder().encode(JSON.stringify({ jsonrpc: "2.0", id, result: a + b })));
 *   break;
 * }
 * assert.equal(await call, 3);
 * await nc.drain();
 * ```
 */
export const DEADLINE_HEADER = "Parley-Deadline";

/** Reads a text codec's frame out of a NATS payload; throws on bytes that are not UTF-8. */
export const utf8: TextDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * No worker serves the subject: NATS answered "no responders".
 *
 * @example A call before any worker has started
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "../../../testing/nats_server.ts";
 * import { connectNats, natsClient, NoRespondersError } from "../nats.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * await using natsServer = await startNatsServer(); // Debian package nats-server
 * const nc = await connectNats(natsServer.url);
 * const client = natsClient({ connection: nc, subject: "calculator", codec: jsonRpc() });
 * await assert.rejects(
 *   client.call("add", [1, 2]),
 *   (error) => error instanceof NoRespondersError && error.subject === "calculator",
 * );
 * await nc.drain();
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
