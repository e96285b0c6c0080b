// The clocks of a socket server's connection: a first-frame timeout (a
// connection that has not completed its first frame, TLS handshake included,
// within N ms is closed: slowloris) and an idle timeout (a connection that
// moved no byte either way for N ms while no call was in flight either way
// is closed). Re-armed lazily: a read or a write only notes the time, and
// the deadline, when it comes, is set again for what is left. Every clock
// shares one timer (./_deadlines.ts).

import { LimitError } from "../errors.ts";
import { Deadline, deadlines } from "./_deadlines.ts";
import type { Frame, MessageStream } from "../types.ts";
import {
  type DirectFrames,
  directFramesOf,
  directWritesOf,
  offerDirectFrames,
  offerDirectWrites,
} from "../_direct.ts";

/** The timeouts of a socket server's connections, in milliseconds. */
export interface ConnectionTimeouts {
  /** From accept to the first complete frame; `Infinity` turns it off. */
  readonly firstFrameTimeout: number;
  /** Without a byte either way while no call is in flight; `Infinity` turns it off. */
  readonly idleTimeout: number;
}

/** 30 s for the first frame, 5 minutes idle. */
export const DEFAULT_TIMEOUTS: ConnectionTimeouts = Object.freeze({
  firstFrameTimeout: 30_000,
  idleTimeout: 300_000,
});

/**
 * The timeouts given, the defaults for the others.
 *
 * @throws {RangeError} for a timeout that is not a positive number or `Infinity`
 */
export function resolveTimeouts(given: Partial<ConnectionTimeouts>): ConnectionTimeouts {
  const resolved = {
    firstFrameTimeout: given.firstFrameTimeout ?? DEFAULT_TIMEOUTS.firstFrameTimeout,
    idleTimeout: given.idleTimeout ?? DEFAULT_TIMEOUTS.idleTimeout,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (typeof value !== "number" || !(value > 0)) {
      throw new RangeError(`${name} must be a positive number of ms or Infinity, got ${value}`);
    }
  }
  return resolved;
}

/** What tells whether calls are in flight on the connection: its peer. */
export interface Busy {
  /** Incoming calls being handled. */
  readonly inFlight: number;
  /** Outgoing calls awaiting their reply. */
  readonly pending: number;
}

/**
 * A connection's clock. It starts at accept with the first-frame timeout;
 * the first frame through {@linkcode ConnectionClock.frames} switches it to
 * the idle timeout. When one runs out, `expire` is called once with a
 * `LimitError` that says which. The clocks share one timer (`deadlines`).
 */
export class ConnectionClock extends Deadline {
  readonly #timeouts: ConnectionTimeouts;
  readonly #remote: string;
  readonly #expire: (error: LimitError) => void;
  #last = performance.now();
  #framed = false;
  #done = false;
  #busy: Busy | undefined;
  #expiredBy: LimitError | undefined;

  /**
   * Starts the first-frame timeout (the idle timeout when there is none).
   *
   * @param timeouts the connection's timeouts
   * @param remote the connection's remote end, for what the errors say
   * @param expire called once when a timeout runs out
   */
  constructor(
    timeouts: ConnectionTimeouts,
    remote: string,
    expire: (error: LimitError) => void,
  ) {
    super();
    this.#timeouts = timeouts;
    this.#remote = remote;
    this.#expire = expire;
    // Without a first-frame timeout, a connection that sends nothing is idle.
    if (timeouts.firstFrameTimeout === Infinity) {
      this.#framed = true;
      this.#arm(timeouts.idleTimeout);
    } else this.#arm(timeouts.firstFrameTimeout);
  }

  /** Whether a timeout ran out. */
  get expired(): boolean {
    return this.#expiredBy !== undefined;
  }

  /** Notes bytes read or written: the connection is not idle. */
  readonly touch = (): void => {
    this.#last = performance.now();
  };

  /** Tells the clock what says whether calls are in flight (the connection's peer). */
  watch(busy: Busy): void {
    this.#busy = busy;
  }

  /**
   * The same stream, its first frame noted. Without any timeout there is
   * nothing to note, and the stream is given back as it is.
   */
  frames(stream: MessageStream): MessageStream {
    const { firstFrameTimeout, idleTimeout } = this.#timeouts;
    if (firstFrameTimeout === Infinity && idleTimeout === Infinity) return stream;
    const direct = directFramesOf(stream);
    if (direct !== undefined) {
      // The peer reads the batches directly: note the first one there.
      const noted: DirectFrames = {
        read: async () => {
          const batch = await direct.read();
          if (batch !== null && !this.#framed) this.#firstFrame();
          return batch;
        },
      };
      return offerDirectFrames(new Noting(stream, () => noted.read(), undefined), noted);
    }
    const reader = stream.readable.getReader();
    return new Noting(stream, async () => {
      const { value, done } = await reader.read();
      if (done) return null;
      if (!this.#framed) this.#firstFrame();
      return value;
    }, (reason) => reader.cancel(reason));
  }

  /**
   * Notes a complete frame read from a stream that is not a
   * {@linkcode MessageStream} (RPyC's packets): the first one switches to
   * the idle timeout, each one is activity.
   */
  readonly frame = (): void => {
    if (this.#framed) this.touch();
    else this.#firstFrame();
  };

  /** Stops the clock: the connection has closed. */
  stop(): void {
    this.#done = true;
    deadlines.remove(this);
  }

  /** The deadline came: the timeout ran out, or it looks again later. Not for callers. */
  fire(): void {
    if (!this.#framed) {
      const ms = this.#timeouts.firstFrameTimeout;
      return this.#end(
        new LimitError(
          "firstFrameTimeout",
          ms,
          `${this.#remote} sent no complete frame within ${ms} ms of connecting`,
        ),
      );
    }
    const ms = this.#timeouts.idleTimeout;
    const quiet = performance.now() - this.#last;
    if (quiet < ms) return this.#arm(ms - quiet);
    // A slow call is not idleness: look again a whole timeout later.
    const busy = this.#busy;
    if (busy !== undefined && (busy.inFlight > 0 || busy.pending > 0)) return this.#arm(ms);
    this.#end(
      new LimitError(
        "idleTimeout",
        ms,
        `${this.#remote} sent and received nothing for ${ms} ms with no call in flight`,
      ),
    );
  }

  #firstFrame(): void {
    this.#framed = true;
    this.touch();
    this.#arm(this.#timeouts.idleTimeout);
  }

  #arm(ms: number): void {
    if (this.#done) return;
    if (ms === Infinity) deadlines.remove(this);
    else deadlines.add(this, ms);
  }

  #end(error: LimitError): void {
    if (this.#done) return;
    this.#done = true;
    this.#expiredBy = error;
    this.#expire(error);
  }
}

// A stream whose readable is made of `next`'s chunks (null at the end), made
// when first asked for: a peer reading batches directly never does. A class:
// a literal with a getter stays in V8's dictionary mode, larger per connection.
class Noting implements MessageStream {
  readonly remote?: string;
  readonly #stream: MessageStream;
  readonly #next: () => Promise<Frame | readonly Frame[] | null>;
  readonly #cancel: ((reason: unknown) => Promise<void>) | undefined;
  #readable: ReadableStream<Frame | readonly Frame[]> | undefined;

  constructor(
    stream: MessageStream,
    next: () => Promise<Frame | readonly Frame[] | null>,
    cancel: ((reason: unknown) => Promise<void>) | undefined,
  ) {
    this.#stream = stream;
    this.#next = next;
    this.#cancel = cancel;
    if (stream.remote !== undefined) this.remote = stream.remote;
    // Written as the stream is: through its batch writer, when it has one,
    // without making its writable.
    const writes = directWritesOf(stream);
    if (writes !== undefined) offerDirectWrites(this, writes);
  }

  get writable(): WritableStream<Frame | readonly Frame[]> {
    return this.#stream.writable;
  }

  get readable(): ReadableStream<Frame | readonly Frame[]> {
    const next = this.#next;
    const cancel = this.#cancel;
    return this.#readable ??= new ReadableStream<Frame | readonly Frame[]>({
      pull: async (controller) => {
        const value = await next();
        if (value === null) controller.close();
        else controller.enqueue(value);
      },
      ...(cancel === undefined ? {} : { cancel }),
    }, { highWaterMark: 0 });
  }

  close(reason?: unknown): Promise<void> {
    return this.#stream.close(reason);
  }
}
