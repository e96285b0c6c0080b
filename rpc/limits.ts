/**
 * Limits with safe defaults. A peer that sends more than these gets an error,
 * never unbounded memory use.
 *
 * @module
 */

/** Per-connection limits. */
export interface RpcLimits {
  /** Largest frame in bytes a framing accepts; checked before buffering. */
  readonly maxFrameSize: number;
  /**
   * Deepest nesting of arrays and objects a codec decodes or encodes, and a
   * remote-objects session boxes or unboxes (deeper is refused with
   * `ObjectErrorCode.TooDeep`).
   */
  readonly maxDepth: number;
  /** Most messages in one batch frame. */
  readonly maxBatchSize: number;
  /** Most incoming calls handled at once on one connection; more are refused. */
  readonly maxInFlight: number;
  /** Most outgoing calls awaiting a reply on one connection; more are refused. */
  readonly maxPending: number;
  /**
   * Most bytes of outgoing frames waiting to be written on one connection
   * (a peer that reads slowly). Beyond it the session stops reading until
   * the queue drains, and new calls and notifications fail with a
   * `LimitError`.
   */
  readonly maxQueuedBytes: number;
  /**
   * Milliseconds a WebSocket connection may go without a message either way
   * while no call is in flight; then it is closed (code 1001, "idle").
   */
  readonly idleTimeout: number;
  /**
   * Milliseconds from a WebSocket's opening to its first message either way;
   * a connection that says nothing is closed sooner than an idle one (code
   * 1001).
   */
  readonly firstFrameTimeout: number;
  /**
   * Milliseconds for the head of a connection's first HTTP request (a
   * WebSocket handshake) to arrive whole, on servers that accept WebSocket
   * connections; then the connection is closed with 408.
   */
  readonly headerTimeout: number;
  /**
   * Most items one message may hold: array elements and map (object) entries
   * counted at every depth (JSON: its separators and brackets; XML-RPC: its
   * elements), checked before the message is decoded. Decoding and handling
   * cost time and memory per item (~30–100 ns and tens of bytes to decode,
   * ~1 µs for the calculator's `sum` to validate and add), during which no
   * other caller is served: this bounds that stall. Codecs take it as an
   * option. Default 1,000,000.
   */
  readonly maxItems: number;
  /**
   * Most objects a remote-objects session exports on one connection at once,
   * and most outcomes of the other end's calls it keeps for pipelining; more
   * are refused with `ObjectErrorCode.TooManyExports`. Default 10,000.
   */
  readonly maxExports: number;
}

/**
 * The defaults: 16 MiB frames, depth 64, batches of 1000, 1024 calls in
 * flight, 32 MiB queued, 1,000,000 items per message, 10,000 remote objects
 * exported per connection; WebSocket connections idle for 5 minutes or
 * silent for 30 s after opening are closed, and a handshake's head has 10 s.
 *
 * @example Reading a default, which cannot be changed in place
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 *
 * assert.equal(DEFAULT_LIMITS.maxFrameSize, 16 * 1024 * 1024);
 * assert.ok(Object.isFrozen(DEFAULT_LIMITS));
 * ```
 */
export const DEFAULT_LIMITS: RpcLimits = Object.freeze({
  maxFrameSize: 16 * 1024 * 1024,
  maxDepth: 64,
  maxBatchSize: 1000,
  maxInFlight: 1024,
  maxPending: 65536,
  maxQueuedBytes: 32 * 1024 * 1024,
  idleTimeout: 5 * 60 * 1000,
  firstFrameTimeout: 30 * 1000,
  headerTimeout: 10 * 1000,
  maxItems: 1_000_000,
  maxExports: 10_000,
});

/**
 * Fills in the defaults for the limits not given.
 *
 * @param limits the limits to override
 * @returns a complete set of limits
 * @throws {RangeError} when a limit is not a positive integer (a timeout may
 * also be `Infinity`: off)
 *
 * @example Overriding one limit, keeping the others
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LIMITS, resolveLimits } from "./limits.ts";
 *
 * const limits = resolveLimits({ maxFrameSize: 1024, idleTimeout: Infinity });
 * assert.equal(limits.maxFrameSize, 1024);
 * assert.equal(limits.idleTimeout, Infinity);
 * assert.equal(limits.maxDepth, DEFAULT_LIMITS.maxDepth);
 * assert.throws(() => resolveLimits({ maxDepth: 0 }), RangeError);
 * ```
 */
export function resolveLimits(limits: Partial<RpcLimits> = {}): RpcLimits {
  const resolved = { ...DEFAULT_LIMITS, ...limits };
  for (const [name, value] of Object.entries(resolved)) {
    // A timeout may be Infinity: off.
    if (name.endsWith("Timeout") && value === Infinity) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`Limit ${name} must be a positive integer, got ${value}`);
    }
  }
  return resolved;
}
