/**
 * One subscription of the NATS client: its messages go to a callback as
 * they are read (no promise per message), or wait in a bounded queue for an
 * iterator. A queue past its bounds drops what arrives and says so once
 * ("slow consumer"), as NATS's own clients do, rather than grow without end.
 *
 * @module
 */

import type { NatsCoreMessage } from "./_message.ts";

/** What a subscription asks of its connection. */
export interface SubscriptionHost {
  /** Sends `UNSUB sid [max]`. */
  unsubscribe(sid: number, max?: number): void;
  /** Forgets the subscription (no more messages will reach it). */
  forget(sid: number): void;
  /** Resolves when the server has seen everything sent so far. */
  flush(): Promise<void>;
  /** Told of a callback's exception, or of dropped messages. */
  report(type: "error" | "slowConsumer", data: unknown): void;
}

/** How a subscription takes its messages. */
export interface NatsSubscribeOptions {
  /** The queue group: each message goes to one subscriber of the group. */
  readonly queue?: string;
  /** Called with each message as it is read; without it, iterate the subscription. */
  readonly callback?: (error: Error | null, msg: NatsCoreMessage) => void;
  /** Ends the subscription after this many messages. */
  readonly max?: number;
}

/** The bounds of an iterated subscription's queue. */
export interface PendingLimits {
  /** Messages waiting at most. */
  readonly messages: number;
  /** Payload bytes waiting at most. */
  readonly bytes: number;
}

/**
 * A subscription, as `NatsCoreConnection.subscribe` returns it.
 *
 * @example Messages taken by an iterator, then the end
 * ```ts
 * import assert from "node:assert/strict";
 * import { NatsCoreMessage } from "./_message.ts";
 * import { NatsCoreSubscription } from "./_subscription.ts";
 *
 * const host = {
 *   unsubscribe() {},
 *   forget() {},
 *   flush: () => Promise.resolve(),
 *   report() {},
 * };
 * const sub = new NatsCoreSubscription(host, 1, "news", {}, { messages: 10, bytes: 1024 });
 * sub.deliver(new NatsCoreMessage("news", 1, undefined, 0, new Uint8Array([1]), () => {}));
 * sub.unsubscribe();
 * const got = [];
 * for await (const msg of sub) got.push(msg.data[0]);
 * assert.deepEqual(got, [1]);
 * ```
 */
export class NatsCoreSubscription implements AsyncIterable<NatsCoreMessage> {
  /** Its id on the connection. */
  readonly sid: number;
  /** Its subject (wildcards allowed). */
  readonly subject: string;
  /** Its queue group, if any. */
  readonly queue: string | undefined;
  /** Resolves when it has ended. */
  readonly closed: Promise<void>;
  readonly #host: SubscriptionHost;
  readonly #callback: NatsSubscribeOptions["callback"];
  readonly #limits: PendingLimits;
  readonly #ended = Promise.withResolvers<void>();
  #max: number | undefined;
  #received = 0;
  #done = false;
  #draining: Promise<void> | undefined;
  // The iterator's queue, and who waits on it.
  #queue: NatsCoreMessage[] = [];
  #head = 0;
  #queuedBytes = 0;
  #dropping = false;
  #waiter: PromiseWithResolvers<void> | undefined;

  /**
   * Creates the subscription (the connection sends its `SUB`).
   *
   * @param host the connection
   * @param sid its id
   * @param subject its subject
   * @param options queue group, callback, max
   * @param limits the iterator queue's bounds
   */
  constructor(
    host: SubscriptionHost,
    sid: number,
    subject: string,
    options: NatsSubscribeOptions,
    limits: PendingLimits,
  ) {
    this.#host = host;
    this.sid = sid;
    this.subject = subject;
    this.queue = options.queue;
    this.#callback = options.callback;
    this.#max = options.max;
    this.#limits = limits;
    this.closed = this.#ended.promise;
  }

  /** Whether messages wait in its queue (no callback): they should not hold a whole read. */
  get queued(): boolean {
    return this.#callback === undefined;
  }

  /** Messages taken so far. */
  get received(): number {
    return this.#received;
  }

  /** What is left of `max`, for a `SUB` sent again after a reconnection. */
  get remaining(): number | undefined {
    return this.#max === undefined ? undefined : this.#max - this.#received;
  }

  /** Its `SUB` line (and `UNSUB` with what is left of `max`), as sent on each connection. */
  subscribeLine(): string {
    const queue = this.queue === undefined ? "" : ` ${this.queue}`;
    const line = `SUB ${this.subject}${queue} ${this.sid}`;
    const remaining = this.remaining;
    return remaining === undefined ? line : `${line}\r\nUNSUB ${this.sid} ${remaining}`;
  }

  /** Whether it has ended. */
  isClosed(): boolean {
    return this.#done;
  }

  /**
   * Takes a message read for it.
   *
   * @param msg the message
   */
  deliver(msg: NatsCoreMessage): void {
    if (this.#done) return;
    this.#received++;
    if (this.#callback !== undefined) {
      try {
        this.#callback(null, msg);
      } catch (error) {
        this.#host.report("error", error);
      }
    } else if (
      this.#queue.length - this.#head >= this.#limits.messages ||
      this.#queuedBytes + msg.data.length > this.#limits.bytes
    ) {
      if (!this.#dropping) this.#host.report("slowConsumer", this.subject);
      this.#dropping = true;
    } else {
      this.#dropping = false;
      this.#queue.push(msg);
      this.#queuedBytes += msg.data.length;
      this.#waiter?.resolve();
    }
    if (this.#max !== undefined && this.#received >= this.#max) this.end();
  }

  /**
   * Stops at once, or after `max` messages in all.
   *
   * @param max the messages to take in all before it ends
   */
  unsubscribe(max?: number): void {
    if (this.#done) return;
    this.#host.unsubscribe(this.sid, max);
    if (max !== undefined && max > this.#received) {
      this.#max = max;
      return;
    }
    this.end();
  }

  /**
   * Takes no more messages once the server has seen the `UNSUB`; the ones
   * read before are still delivered.
   *
   * @returns resolves when it has ended
   */
  drain(): Promise<void> {
    if (this.#done) return this.closed;
    return this.#draining ??= (async () => {
      this.#host.unsubscribe(this.sid);
      try {
        await this.#host.flush();
      } finally {
        this.end();
      }
    })();
  }

  /** Ends it: no more messages; an iterator ends once its queue is empty. */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#host.forget(this.sid);
    this.#waiter?.resolve();
    this.#ended.resolve();
  }

  /** Its messages in order, ending when it ends; leaving the loop early unsubscribes. */
  async *[Symbol.asyncIterator](): AsyncIterator<NatsCoreMessage> {
    if (this.#callback !== undefined) {
      throw new TypeError("A subscription with a callback cannot be iterated");
    }
    try {
      yield* this.#messages();
    } finally {
      // A loop left early takes no more: nothing would read the queue.
      this.unsubscribe();
    }
  }

  async *#messages(): AsyncGenerator<NatsCoreMessage> {
    for (;;) {
      if (this.#head < this.#queue.length) {
        const msg = this.#queue[this.#head]!;
        this.#queue[this.#head++] = undefined!;
        this.#queuedBytes -= msg.data.length;
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        yield msg;
        continue;
      }
      if (this.#done) return;
      this.#waiter = Promise.withResolvers<void>();
      await this.#waiter.promise;
      this.#waiter = undefined;
    }
  }
}
