// The clocks of a socket server's connection: a first-frame timeout (a
// connection that has not completed its first frame, TLS handshake included,
// within N ms is closed: slowloris) and an idle timeout (a connection that
// moved no byte either way for N ms while no call was in flight either way
// is closed). Re-armed lazily: a read or a write only notes the time, and
// the deadline, when it comes, is set again for what is left. Every clock
// shares one timer (./_deadlines.ts).

import { LimitError } from "../errors.ts";
import { Deadline, deadlines } from "./_deadlines.ts";

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
 * the first frame ({@linkcode ConnectionClock.frame}, which `framedStream`'s
 * `onFirstFrame` calls) switches it to the idle timeout. When one runs out,
 * `expire` is called once with a `LimitError` that says which. The clocks
 * share one timer (`deadlines`).
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
   * Notes a complete frame: the first one switches to the idle timeout, each
   * one after is activity (RPyC's packets tell every one; `framedStream`
   * tells the first only, its reads and writes tell the rest).
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
