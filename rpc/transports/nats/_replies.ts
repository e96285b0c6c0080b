/**
 * A NATS client's replies on one subscription: every request goes out with
 * the reply subject `INBOX.token` and one wildcard subscription `INBOX.*`
 * takes every answer, found by its last token (what nats.js's own "mux"
 * request does, without its per-request stack captures and timer races,
 * which its profile showed as a fifth of the client's time).
 *
 * @module
 */

import { createInbox } from "@nats-io/nats-core";
import type { NatsConnectionLike, NatsMessage, NatsSubscription } from "./_wire.ts";

/** What came back for one request: its payload, or "no responders". */
export type ReplyOutcome =
  | { readonly kind: "reply"; readonly data: Uint8Array; readonly msg: NatsMessage }
  | { readonly kind: "no-responders" }
  | { readonly kind: "timeout" };

interface Waiting {
  resolve(outcome: ReplyOutcome): void;
  reject(error: unknown): void;
  // The bucket it times out with.
  readonly due: number;
}

// Requests time out in buckets of up to 10 ms, one timer per bucket: a
// timer per request was a tenth of the client's profile. A request gives up
// at most a sixteenth of its wait (10 ms at most) before the wait ends, never
// after: a worker stops a call at its deadline, and its "aborted" reply must
// not beat the caller's timeout.
const BUCKET_MS = 10;

// A bucket's requests, and how many still wait: one answered stays listed
// (the timer passes over it), so an answer costs a count, not a set
// removal; the timer goes when the count reaches 0, so nothing outlives
// the requests.
interface Bucket {
  readonly tokens: number[];
  readonly timer: ReturnType<typeof setTimeout>;
  live: number;
}

// NATS's status for "nobody subscribes to the subject", sent to the reply subject.
const NO_RESPONDERS = 503;

/**
 * The replies of one client, on one wildcard subscription made at the first
 * request.
 *
 * @example A request answered by a worker that echoes
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "../../../testing/nats_server.ts";
 * import { connectNats } from "../nats.ts";
 * import { Replies } from "./_replies.ts";
 *
 * await using natsServer = await startNatsServer(); // Debian package nats-server
 * const nc = await connectNats(natsServer.url);
 * nc.subscribe("echo", { callback: (_error, msg) => msg.respond(msg.data) });
 * const replies = new Replies(nc);
 * const outcome = await replies.request("echo", new Uint8Array([1, 2]), undefined, 5_000);
 * assert.equal(outcome.kind, "reply");
 * assert.deepEqual([...(outcome.kind === "reply" ? outcome.data : [])], [1, 2]);
 * assert.deepEqual(await replies.request("nobody", new Uint8Array(), undefined, 5_000), {
 *   kind: "no-responders",
 * });
 * replies.close(new Error("closed"));
 * await nc.drain();
 * ```
 */
export class Replies {
  readonly #connection: NatsConnectionLike;
  readonly #waiting = new Map<number, Waiting>();
  readonly #buckets = new Map<number, Bucket>();
  #inbox = "";
  #subscription: NatsSubscription | undefined;
  #next = 0;

  /**
   * Takes the connection; subscribes at the first request.
   *
   * @param connection the connection to NATS
   */
  constructor(connection: NatsConnectionLike) {
    this.#connection = connection;
  }

  /**
   * Publishes `payload` to `subject` and waits for its reply, at most `wait`
   * milliseconds.
   *
   * @param subject where the request goes
   * @param payload the request (text is sent as UTF-8)
   * @param headers the NATS headers it carries
   * @param wait milliseconds before it gives up
   * @returns the reply, "no responders", or "timeout"
   */
  request(
    subject: string,
    payload: Uint8Array | string,
    headers: unknown,
    wait: number,
  ): Promise<ReplyOutcome> {
    if (this.#subscription === undefined) this.#subscribe();
    // Tokens are numbers: a map keyed by small integers, the subject's last token in decimal.
    const token = this.#next++;
    const { promise, resolve, reject } = Promise.withResolvers<ReplyOutcome>();
    const due = this.#expireAfter(token, wait);
    this.#waiting.set(token, { resolve, reject, due });
    try {
      const reply = this.#inbox + token;
      this.#connection.publish(
        subject,
        payload,
        headers === undefined ? { reply } : { reply, headers },
      );
    } catch (error) {
      this.#waiting.delete(token);
      this.#settled(due);
      return Promise.reject(error);
    }
    return promise;
  }

  /**
   * Fails every waiting request with `error` and unsubscribes.
   *
   * @param error why: what each waiting request rejects with
   */
  close(error: unknown): void {
    for (const bucket of this.#buckets.values()) clearTimeout(bucket.timer);
    this.#buckets.clear();
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
    try {
      this.#subscription?.unsubscribe();
    } catch {
      // The connection is closed already: so is the subscription.
    }
  }

  #subscribe(): void {
    // The connection's own inbox prefix, where permissions allow replies.
    const prefix = (this.#connection as { options?: { inboxPrefix?: string } }).options
      ?.inboxPrefix;
    this.#inbox = `${createInbox(prefix)}.`;
    const start = this.#inbox.length;
    this.#subscription = this.#connection.subscribe(`${this.#inbox}*`, {
      callback: (error, msg) => {
        if (error !== null || msg === undefined) return; // the connection closing: timers tell
        this.#take(Number(msg.subject.slice(start)), msg);
      },
    });
  }

  #take(token: number, msg: NatsMessage): void {
    const waiting = this.#waiting.get(token);
    if (waiting === undefined) return; // late, after its timeout: nobody waits for it
    this.#waiting.delete(token);
    this.#settled(waiting.due);
    if (msg.data.length === 0 && msg.headers?.code === NO_RESPONDERS) {
      waiting.resolve({ kind: "no-responders" });
    } else waiting.resolve({ kind: "reply", data: msg.data, msg });
  }

  // Files the request under the bucket its wait ends in; returns the bucket.
  #expireAfter(token: number, wait: number): number {
    const now = Date.now();
    const end = now + Math.max(1, Math.floor(wait));
    const size = Math.min(BUCKET_MS, Math.max(1, Math.floor(wait / 16)));
    let due = Math.floor(end / size) * size;
    if (due <= now) due = end; // a short wait: a bucket of its own
    let bucket = this.#buckets.get(due);
    if (bucket === undefined) {
      bucket = { tokens: [], timer: setTimeout(() => this.#expire(due), due - now), live: 0 };
      this.#buckets.set(due, bucket);
    }
    bucket.tokens.push(token);
    bucket.live++;
    return due;
  }

  // A request of the bucket answered: the bucket's timer goes with its last.
  #settled(due: number): void {
    const bucket = this.#buckets.get(due);
    if (bucket === undefined || --bucket.live > 0) return;
    clearTimeout(bucket.timer);
    this.#buckets.delete(due);
  }

  #expire(due: number): void {
    const bucket = this.#buckets.get(due);
    if (bucket === undefined) return;
    this.#buckets.delete(due);
    for (const token of bucket.tokens) {
      const waiting = this.#waiting.get(token);
      // Answered already, or a token of this bucket's that waits on another.
      if (waiting === undefined || waiting.due !== due) continue;
      this.#waiting.delete(token);
      waiting.resolve({ kind: "timeout" });
    }
  }
}
