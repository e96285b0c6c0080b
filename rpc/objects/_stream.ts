/**
 * The consumer's side of a remote stream: the async iterable standing for
 * the other end's exported iterator. With a window (the default), it grants
 * credit (`pull [n]`) and reads the items the producer pushes (`$/items`),
 * granting more each time half a window has been read, so it never holds
 * more than one window; a producer that pushes beyond the credit fails the
 * stream. A producer that does not know `pull` (an older peer) answers
 * -32002, and the stream falls back to pulling one item per call (`next`),
 * as it does with a window of 0.
 *
 * @module
 */

import { ConnectionClosedError, ProtocolError, RpcError } from "../errors.ts";
import { ObjectErrorCode } from "./errors.ts";
import { type ProxyHost, registerProxy, type Target } from "./_remote.ts";

type End = { readonly done: true; readonly value: unknown; readonly sent: number } | {
  readonly error: unknown;
};

/** The async iterable standing for the other end's exported iterator `id`. */
export function remoteIterable(host: ProxyHost, id: number): object {
  const target = { $you: id };
  const iterable = {
    [Symbol.asyncIterator]: (): AsyncIterator<unknown> =>
      host.streamWindow > 0
        ? new PushedIterator(host, target, id, host.streamWindow, () => host.release(iterable))
        : pulledIterator(host, target, () => host.release(iterable)),
    [Symbol.dispose]: () => host.release(iterable),
  };
  registerProxy(iterable, { host, target, path: [], kind: "import", id });
  return iterable;
}

// One item per call: the other end's `next` and `return`.
function pulledIterator(host: ProxyHost, target: Target, release: () => void) {
  let done = false;
  return {
    next: async (): Promise<IteratorResult<unknown>> => {
      if (done) return { done: true, value: undefined };
      const step = host.received(await host.step(target, "next")) as IteratorResult<unknown>;
      if (step.done) {
        done = true;
        release();
      }
      return step;
    },
    return: async (value?: unknown): Promise<IteratorResult<unknown>> => {
      if (!done) {
        done = true;
        // Leaving the loop tells the other end to stop.
        await host.step(target, "return").catch(() => {});
        release();
      }
      return { done: true, value };
    },
  };
}

// Items pushed under credit, read from a buffer of at most one window.
class PushedIterator implements AsyncIterator<unknown> {
  readonly #host: ProxyHost;
  readonly #target: Target;
  readonly #id: number;
  readonly #window: number;
  readonly #release: () => void;
  #buffer: unknown[] = [];
  #head = 0;
  #granted = 0;
  #received = 0;
  #readSinceGrant = 0;
  #started = false;
  #fallback: AsyncIterator<unknown> | undefined;
  #end: End | undefined;
  #finished = false;
  // Reads waiting for an item or the end (several when next() is not awaited in turn).
  #waiting: (() => void)[] = [];
  #unlisten: (() => void) | undefined;

  constructor(
    host: ProxyHost,
    target: Target,
    id: number,
    window: number,
    release: () => void,
  ) {
    this.#host = host;
    this.#target = target;
    this.#id = id;
    this.#window = window;
    this.#release = release;
  }

  async next(): Promise<IteratorResult<unknown>> {
    if (!this.#started) {
      this.#started = true;
      this.#unlisten = this.#host.listen(this.#id, {
        items: (items) => this.#receive(items),
        close: (error) => this.#stop({ error }),
      });
      this.#grant(this.#window, true);
    }
    for (;;) {
      if (this.#fallback !== undefined) return await this.#fallback.next();
      if (this.#head < this.#buffer.length) return { done: false, value: this.#take() };
      if (this.#finished) return { done: true, value: undefined };
      const end = this.#end;
      // The end of the stream, once every item sent before it has arrived.
      if (end !== undefined && ("error" in end || this.#received >= end.sent)) {
        this.#finish();
        if ("error" in end) throw end.error;
        return { done: true, value: end.value };
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  async return(value?: unknown): Promise<IteratorResult<unknown>> {
    if (this.#fallback !== undefined) return await this.#fallback.return!(value);
    if (!this.#finished) {
      const told = this.#started && this.#end === undefined;
      this.#finish();
      // Leaving the loop tells the other end to stop.
      if (told) await this.#host.step(this.#target, "return").catch(() => {});
    }
    return { done: true, value };
  }

  #take(): unknown {
    const value = this.#buffer[this.#head];
    this.#buffer[this.#head++] = undefined;
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    }
    // Half a window read: room for that many more.
    if (++this.#readSinceGrant * 2 >= this.#window && this.#end === undefined) {
      this.#grant(this.#readSinceGrant, false);
      this.#readSinceGrant = 0;
    }
    return value;
  }

  #grant(credit: number, first: boolean): void {
    this.#granted += credit;
    this.#host.pull(this.#target, credit).then((reply) => {
      const { done, value, sent } = (reply ?? {}) as Record<string, unknown>;
      if (done === true && typeof sent === "number") {
        this.#stop({ done: true, value: this.#host.received(value), sent });
      }
    }, (error) => {
      if (first && this.#received === 0 && isOlderPeer(error)) {
        // An older producer: pull one item per call instead.
        this.#fallback = pulledIterator(this.#host, this.#target, this.#release);
        this.#unlisten?.();
        this.#wakeUp();
        return;
      }
      this.#stop({ error });
    });
  }

  #receive(items: unknown[]): void {
    if (this.#finished || this.#end !== undefined) return;
    this.#received += items.length;
    if (this.#received > this.#granted) {
      this.#stop({
        error: new ProtocolError(
          `The producer of stream ${this.#id} pushed ${this.#received} items, over the ${this.#granted} granted`,
        ),
      });
      this.#buffer = [];
      this.#head = 0;
      this.#host.step(this.#target, "return").catch(() => {});
      return;
    }
    try {
      const values = this.#host.received(items) as unknown[];
      for (const value of values) this.#buffer.push(value);
    } catch (error) {
      this.#stop({ error });
    }
    this.#wakeUp();
  }

  #stop(end: End): void {
    this.#end ??= end;
    this.#wakeUp();
  }

  #finish(): void {
    this.#finished = true;
    this.#unlisten?.();
    this.#buffer = [];
    this.#head = 0;
    this.#release();
    this.#wakeUp();
  }

  #wakeUp(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }
}

// An older producer answers `pull` with -32002, naming the member.
function isOlderPeer(error: unknown): boolean {
  return error instanceof RpcError && error.code === ObjectErrorCode.NotExposed &&
    error.message.includes('"pull"');
}

/** The connection of a stream is gone. */
export function streamClosed(): ConnectionClosedError {
  return new ConnectionClosedError("The connection of this stream is closed");
}
