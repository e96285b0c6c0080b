// How the socket servers keep accepting: a loop that survives a process out
// of file descriptors (EMFILE, ENFILE) or any other failed accept by backing
// off and trying again, that refuses connections over `maxConnections` by
// closing them at once, and that tells `onError` once per episode rather
// than once per failed accept. Deno only.

import { LimitError } from "../errors.ts";

/** The most connections a server holds at once unless told otherwise. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/**
 * A most-connections option as given, or its default.
 *
 * @throws {RangeError} when it is not a positive integer
 */
export function resolveMaxConnections(given: number | undefined, name = "maxConnections"): number {
  const value = given ?? DEFAULT_MAX_CONNECTIONS;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

// A failed accept is retried after 10 ms, then 20, 40… up to a second: soon
// enough to resume quickly when descriptors come back, rare enough not to
// spin while they do not.
const FIRST_BACKOFF = 10;
const MAX_BACKOFF = 1000;

/**
 * Tells apart the first failure of an episode from its repeats: a failure
 * starts a new episode when none came in the last `quiet` ms. An episode
 * goes on for as long as failures keep coming, however far apart the
 * backoff spaces them (at most a second), so it is reported once.
 */
export class Episodes {
  readonly #quiet: number;
  #last = -Infinity;

  /**
   * Creates the tracker.
   *
   * @param quiet ms without a failure after which the next one starts an episode
   */
  constructor(quiet = 5 * MAX_BACKOFF) {
    this.#quiet = quiet;
  }

  /** Notes a failure; true when it is the first of its episode. */
  begins(): boolean {
    const now = performance.now();
    const first = now - this.#last > this.#quiet;
    this.#last = now;
    return first;
  }
}

/** A backoff that doubles from 10 ms to 1 s, and starts over once things work. */
export class Backoff {
  #next = FIRST_BACKOFF;

  /** Waits for the next delay, or less when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    const ms = this.#next;
    this.#next = Math.min(this.#next * 2, MAX_BACKOFF);
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Starts over from the shortest delay. */
  reset(): void {
    this.#next = FIRST_BACKOFF;
  }
}

/** What {@linkcode acceptLoop} needs to know. */
export interface AcceptLoopOptions {
  /** The server's URL, for what the errors say. */
  readonly url: string;
  /** The most connections held at once; a new one beyond is closed at once. */
  readonly maxConnections: number;
  /** How many connections the server holds now. */
  readonly open: () => number;
  /** Aborted when the server shuts down: the loop ends. */
  readonly signal: AbortSignal;
  /** Told once per episode of failed accepts and of refusals. */
  readonly onError: (error: unknown) => void;
}

/**
 * Accepts connections until the listener is closed or `signal` aborts,
 * handing each to `accepted`. A failed accept never ends the loop: with no
 * file descriptor left (EMFILE, ENFILE) the server keeps serving the
 * connections it has, backs off, and accepts again once descriptors come
 * back; meanwhile new connections wait in the kernel's backlog.
 *
 * Over `maxConnections` a new connection is accepted and closed at once
 * rather than left in the backlog: its client learns at once that it was
 * refused (the connection ends before any reply) instead of waiting for a
 * connect or call timeout, and the backlog does not fill up with clients
 * that will not be served. It costs one descriptor for a moment, so set
 * `maxConnections` below the process's descriptor limit (`ulimit -n`).
 */
export async function acceptLoop(
  listener: Deno.Listener,
  accepted: (conn: Deno.Conn) => void,
  options: AcceptLoopOptions,
): Promise<void> {
  const { signal, onError } = options;
  const failures = new Episodes();
  const refusals = new Episodes();
  const backoff = new Backoff();
  while (!signal.aborted) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (signal.aborted || listenerClosed(error)) return;
      if (failures.begins()) onError(acceptFailed(options.url, error));
      await backoff.wait(signal);
      continue;
    }
    backoff.reset();
    if (signal.aborted) {
      closeQuietly(conn);
      return;
    }
    if (options.open() >= options.maxConnections) {
      closeQuietly(conn);
      if (refusals.begins()) {
        onError(
          new LimitError(
            "maxConnections",
            options.maxConnections,
            `${options.url} closes new connections at once while it holds ${options.open()}`,
          ),
        );
      }
      continue;
    }
    accepted(conn);
  }
}

/** Closes a connection that may be closed already. */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

/** Whether a server error means that the process is out of file descriptors. */
export function outOfDescriptors(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EMFILE" || code === "ENFILE" ||
    /too many open files|os error 2[34]\b/i.test(String((error as Error)?.message));
}

function listenerClosed(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

/** What a failed accept is reported as: what failed, what the server does, what to do. */
export function acceptFailed(url: string, error: unknown): Error {
  const hint = outOfDescriptors(error)
    ? "; raise the file descriptor limit (ulimit -n) or lower maxConnections below it"
    : "";
  return new Error(
    `Accepting connections on ${url} failed: ${
      (error as Error)?.message ?? String(error)
    }. The server keeps serving its connections and tries again, backing off up to 1 s${hint}`,
    { cause: error },
  );
}
