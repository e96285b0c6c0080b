/**
 * The producer's side of a remote stream: an exported async iterable, which
 * the other end either pulls one item per call (`next`, `return`: older
 * peers, Python's client) or grants credit to (`pull`), items then being
 * pushed as `$/items` notifications, several per frame, never beyond the
 * credit granted: the iterator is not pulled further than that, so a slow
 * consumer holds the producer back (backpressure).
 *
 * Each `pull [n]` call adds `n` items of credit and is answered once its
 * items have been sent (`{"sent": total}`) or the stream has ended
 * (`{"done": true, "value": v, "sent": total}`, to every grant still open);
 * an error of the iterator is the error reply of the open grants, sent after
 * the items that came before it.
 *
 * @module
 */

import { invalidParams } from "./_errors.ts";

/**
 * The members of an {@linkcode ExportedIterator} the other end may call as
 * methods; `pull` is served apart (`_handlers.ts`), on a `{"$you": N}` target only.
 */
export const ITERATOR_MEMBERS: ReadonlySet<string> = new Set(["next", "return"]);

/** The most credit one `pull` may grant: a bound on a batch, not on the stream. */
export const MAX_GRANT = 65_536;

/** Sends a batch of items (as they are, before boxing); settles when handed to the transport. */
export type SendItems = (items: unknown[]) => Promise<void>;

interface Grant {
  remaining: number;
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

/** What a grant is answered with when the stream has ended. */
interface Ended {
  readonly done: true;
  readonly value: unknown;
}

/** Exports async iterables: pulled with `next`, or pushed under credit granted with `pull`. */
export class ExportedIterator {
  readonly #iterator: AsyncIterator<unknown>;
  readonly #grants: Grant[] = [];
  #pumping = false;
  #stopped = false;
  #sent = 0;
  // A batch that could not be sent, found after the pump went on.
  #failed: { readonly error: unknown } | undefined;
  #ended: Ended | { readonly error: unknown } | undefined;

  /** @param iterable what the other end iterates */
  constructor(iterable: AsyncIterable<unknown>) {
    this.#iterator = iterable[Symbol.asyncIterator]();
  }

  /** The next step (the pull protocol). */
  next(): Promise<IteratorResult<unknown>> {
    return this.#iterator.next();
  }

  /** Stops the iteration early: the iterator's `return` runs (its `finally`). */
  async return(): Promise<IteratorResult<unknown>> {
    this.#stopped = true;
    this.#end({ done: true, value: undefined });
    return await this.#iterator.return?.() ?? { done: true, value: undefined };
  }

  /** Stops the iteration because its connection is gone; never throws. */
  stop(): void {
    if (this.#stopped) return;
    this.return().catch(() => {});
  }

  /**
   * Grants `credit` more items, pushed through `send`.
   *
   * @param credit items the consumer has room for
   * @param signal the grant's call's signal: the connection is gone when it fires
   * @param send pushes a batch of items
   * @returns `{sent}` once the credit is used, `{done, value, sent}` at the end
   */
  pull(credit: unknown, signal: AbortSignal, send: SendItems): Promise<unknown> {
    if (!Number.isSafeInteger(credit) || (credit as number) < 1 || (credit as number) > MAX_GRANT) {
      throw invalidParams(`Invalid params: pull takes a credit from 1 to ${MAX_GRANT}`);
    }
    const ended = this.#ended;
    if (ended !== undefined) {
      if ("error" in ended) return Promise.reject(ended.error);
      return Promise.resolve({ ...ended, sent: this.#sent });
    }
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    this.#grants.push({ remaining: credit as number, resolve, reject });
    signal.addEventListener("abort", () => this.stop(), { once: true });
    if (!this.#pumping) void this.#pump(send);
    return promise;
  }

  // Pulls while there is credit, batching the items that are ready in the
  // same turn: the batch goes out when its grant is used up, or when the
  // iterator makes the pump wait beyond this turn (a timer).
  async #pump(send: SendItems): Promise<void> {
    this.#pumping = true;
    let batch: unknown[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let sending: Promise<void> = Promise.resolve();
    const flush = (): Promise<void> => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (batch.length === 0) return sending;
      const items = batch;
      batch = [];
      sending = send(items);
      return sending;
    };
    try {
      while (!this.#stopped && this.#grants.length > 0) {
        this.#throwFailure();
        const grant = this.#grants[0]!;
        const step = await this.#iterator.next();
        this.#throwFailure();
        if (this.#stopped) break;
        if (step.done) {
          await flush();
          this.#end({ done: true, value: step.value });
          break;
        }
        batch.push(step.value);
        this.#sent++;
        // A slow producer's items go out without waiting for a full batch.
        timer ??= setTimeout(() => void flush().catch((error) => this.#fail(error)), 0);
        if (--grant.remaining === 0) {
          // Not awaited: the credit already bounds what waits in the
          // transport, and the next batch is made while this one is written.
          flush().catch((error) => this.#fail(error));
          this.#grants.shift();
          grant.resolve({ sent: this.#sent });
        }
      }
    } catch (error) {
      // An item that could not be sent, or the iterator's own error: the
      // stream fails after what was sent before it.
      await flush().catch(() => {});
      this.#end({ error });
      this.#iterator.return?.()?.catch(() => {});
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      this.#pumping = false;
    }
  }

  #throwFailure(): void {
    if (this.#failed !== undefined) throw this.#failed.error;
  }

  // A batch sent without waiting failed: the pump fails the stream, or,
  // when it is not running, this does.
  #fail(error: unknown): void {
    this.#failed ??= { error };
    if (this.#pumping) return;
    this.#end({ error });
    this.#iterator.return?.()?.catch(() => {});
  }

  // Answers every open grant with the end of the stream.
  #end(ended: Ended | { readonly error: unknown }): void {
    this.#ended ??= ended;
    for (const grant of this.#grants.splice(0)) {
      if ("error" in ended) grant.reject(ended.error);
      else grant.resolve({ ...ended, sent: this.#sent });
    }
  }
}
