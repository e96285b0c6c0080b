/**
 * SETTINGS (RFC 9113 §6.5.2), the connection's options and their defaults,
 * and the per-second counters that catch floods.
 *
 * @module
 */

/** SETTINGS_HEADER_TABLE_SIZE. */
export const HEADER_TABLE_SIZE = 0x1;
/** SETTINGS_ENABLE_PUSH. */
export const ENABLE_PUSH = 0x2;
/** SETTINGS_MAX_CONCURRENT_STREAMS. */
export const MAX_CONCURRENT_STREAMS = 0x3;
/** SETTINGS_INITIAL_WINDOW_SIZE. */
export const INITIAL_WINDOW_SIZE = 0x4;
/** SETTINGS_MAX_FRAME_SIZE. */
export const MAX_FRAME_SIZE = 0x5;
/** SETTINGS_MAX_HEADER_LIST_SIZE. */
export const MAX_HEADER_LIST_SIZE = 0x6;

/** The largest flow-control window (RFC 9113 §6.9.1). */
export const MAX_WINDOW = 0x7fffffff;
/** The window both sides start with. */
export const DEFAULT_WINDOW = 65_535;

/** Options of an HTTP/2 connection; every one has a safe default. */
export interface Http2ConnectionOptions {
  /**
   * Streams the peer may have open at once (our
   * SETTINGS_MAX_CONCURRENT_STREAMS); one more is refused with RST_STREAM
   * REFUSED_STREAM. 100 by default.
   */
  readonly maxConcurrentStreams?: number;
  /**
   * Bytes of a stream's body the peer may send ahead of what is read (our
   * SETTINGS_INITIAL_WINDOW_SIZE); 1 MiB by default.
   */
  readonly initialWindowSize?: number;
  /** Bytes of all streams' bodies the peer may send ahead of what is read; 4 MiB by default. */
  readonly connectionWindowSize?: number;
  /**
   * The largest header list accepted (SETTINGS_MAX_HEADER_LIST_SIZE: names,
   * values and 32 per field); 64 KiB by default. A larger request is
   * answered 431, a larger response resets its stream. A header block's
   * compressed bytes (HEADERS and CONTINUATIONs) are held to the same
   * bound: past it the connection ends (ENHANCE_YOUR_CALM).
   */
  readonly maxHeaderListSize?: number;
  /**
   * Streams the peer may reset (RST_STREAM), or have refused, in one
   * second; past it the connection ends with GOAWAY ENHANCE_YOUR_CALM
   * ("rapid reset", CVE-2023-44487). 200 by default.
   */
  readonly maxResetsPerSecond?: number;
  /**
   * Frames that cost work and carry nothing for a stream (PING, SETTINGS,
   * PRIORITY, empty DATA or CONTINUATION, unknown types) the peer may send
   * in one second; past it GOAWAY ENHANCE_YOUR_CALM. 1000 by default.
   */
  readonly maxControlFramesPerSecond?: number;
  /** `:authority` of a client's requests when they do not say. */
  readonly authority?: string;
  /** `:scheme` of a client's requests when they do not say; `"http"` by default. */
  readonly scheme?: string;
}

/** The options with their defaults. */
export interface ResolvedOptions {
  readonly maxConcurrentStreams: number;
  readonly initialWindowSize: number;
  readonly connectionWindowSize: number;
  readonly maxHeaderListSize: number;
  readonly maxResetsPerSecond: number;
  readonly maxControlFramesPerSecond: number;
  readonly authority: string | undefined;
  readonly scheme: string;
}

/**
 * Fills in the defaults and checks the values.
 *
 * @param options as given
 * @returns every option
 * @throws {RangeError} for a value out of its range
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveOptions } from "./_settings.ts";
 *
 * assert.equal(resolveOptions({}).maxConcurrentStreams, 100);
 * assert.throws(() => resolveOptions({ initialWindowSize: 2 ** 31 }), RangeError);
 * ```
 */
export function resolveOptions(options: Http2ConnectionOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    maxConcurrentStreams: options.maxConcurrentStreams ?? 100,
    initialWindowSize: options.initialWindowSize ?? 1 << 20,
    connectionWindowSize: options.connectionWindowSize ?? 4 << 20,
    maxHeaderListSize: options.maxHeaderListSize ?? 65_536,
    maxResetsPerSecond: options.maxResetsPerSecond ?? 200,
    maxControlFramesPerSecond: options.maxControlFramesPerSecond ?? 1000,
    authority: options.authority,
    scheme: options.scheme ?? "http",
  };
  const ranges: [keyof ResolvedOptions, number, number][] = [
    ["maxConcurrentStreams", 0, 0xffffffff],
    ["initialWindowSize", 0, MAX_WINDOW],
    ["connectionWindowSize", DEFAULT_WINDOW, MAX_WINDOW],
    ["maxHeaderListSize", 0, 0xffffffff],
    ["maxResetsPerSecond", 1, Infinity],
    ["maxControlFramesPerSecond", 1, Infinity],
  ];
  for (const [name, low, high] of ranges) {
    const value = resolved[name] as number;
    if (!Number.isInteger(value) && value !== Infinity || value < low || value > high) {
      throw new RangeError(`${name} must be an integer from ${low} to ${high}, got ${value}`);
    }
  }
  return resolved;
}

/**
 * Counts events in one-second windows: `hit()` is true once more than
 * `limit` came within the current second.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RateCounter } from "./_settings.ts";
 *
 * const counter = new RateCounter(2);
 * assert.equal(counter.hit(), false);
 * assert.equal(counter.hit(), false);
 * assert.equal(counter.hit(), true);
 * ```
 */
export class RateCounter {
  readonly #limit: number;
  #count = 0;
  #since = performance.now();

  /** @param limit events allowed per second */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Counts one; true when the second's count passes the limit. */
  hit(): boolean {
    if (++this.#count <= this.#limit) return false;
    const now = performance.now();
    if (now - this.#since >= 1000) {
      // The count that passed the limit spans more than a second: start again.
      this.#since = now;
      this.#count = 1;
      return false;
    }
    return true;
  }
}
