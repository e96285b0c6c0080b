// Packets out, in the order they were sent, the ready ones of a turn in
// one write: a reply and the DELs behind it, or the replies to a burst of
// Python's requests, cost one socket write instead of one each. A packet
// still being compressed holds back the ones sent after it, so order is
// kept. A failed write fails every packet waiting and every later one.
// `backlog` counts the bytes not yet written, so that a reader can stop
// taking requests while their replies cannot leave (see channel.ts).

import { concatBytes } from "../../rpc/framing/_concat.ts";

interface Queued {
  packet: Uint8Array | Promise<Uint8Array>;
  readonly done: PromiseWithResolvers<void>;
}

/** Writes packets, coalesced per turn and in order, through `write`. */
export class PacketWriter {
  readonly #write: (bytes: Uint8Array) => Promise<void>;
  #queue: Queued[] = [];
  #flushing = false;
  #failed: unknown = undefined;
  #hasFailed = false;
  #backlog = 0;
  #drained: PromiseWithResolvers<void> | undefined;

  /** @param write writes all of the bytes, settling once they are written */
  constructor(write: (bytes: Uint8Array) => Promise<void>) {
    this.#write = write;
  }

  /** Bytes queued or being written (packets still being made not counted). */
  get backlog(): number {
    return this.#backlog;
  }

  /** Settles once the backlog is at most `limit` bytes, or writing has failed. */
  below(limit: number): Promise<void> {
    if (this.#backlog <= limit || this.#hasFailed) return Promise.resolve();
    this.#drained ??= Promise.withResolvers();
    const drained = this.#drained.promise;
    return drained.then(() => this.below(limit));
  }

  /**
   * Queues one packet (or one being made).
   *
   * @returns settles once the packet is written; rejects when it or a write fails
   */
  push(packet: Uint8Array | Promise<Uint8Array>): Promise<void> {
    if (this.#hasFailed) return Promise.reject(this.#failed);
    const done = Promise.withResolvers<void>();
    if (!(packet instanceof Promise)) this.#backlog += packet.length;
    this.#queue.push({ packet, done });
    if (!this.#flushing) {
      this.#flushing = true;
      // After this turn's other sends: they join the same write.
      queueMicrotask(() => this.#flush());
    }
    return done.promise;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const head = this.#queue[0]!;
        if (head.packet instanceof Promise) {
          try {
            head.packet = await head.packet;
            this.#backlog += head.packet.length;
          } catch (e) {
            // Only this packet is lost (it never reached the wire).
            this.#queue.shift();
            head.done.reject(e);
          }
          continue;
        }
        let ready = 0;
        let size = 0;
        while (ready < this.#queue.length) {
          const packet = this.#queue[ready]!.packet;
          if (packet instanceof Promise) break;
          size += packet.length;
          ready++;
        }
        const batch = this.#queue.splice(0, ready);
        const bytes = concatBytes(batch.map(({ packet }) => packet as Uint8Array), size);
        try {
          await this.#write(bytes);
        } catch (e) {
          this.#hasFailed = true;
          this.#failed = e;
          for (const { done } of [...batch, ...this.#queue.splice(0)]) done.reject(e);
          this.#wake();
          return;
        }
        this.#backlog -= size;
        for (const { done } of batch) done.resolve();
        this.#wake();
      }
    } finally {
      this.#flushing = false;
    }
  }

  #wake(): void {
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.resolve();
  }
}
