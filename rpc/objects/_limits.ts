/**
 * A session's limits, checked: like the codecs' limits, a value that is not a
 * positive integer is a mistake in the options, refused when they are given
 * rather than on the first value that reaches it.
 *
 * @module
 */

import { resolveLimits } from "../limits.ts";
import type { ObjectSessionOptions } from "./types.ts";
import { MAX_GRANT } from "./_exported_iterator.ts";

/** Items of credit a stream grants at once, by default. */
export const DEFAULT_STREAM_WINDOW = 1024;

/** The limits a session enforces. */
export interface ObjectLimits {
  /** Most exports, and most kept answers, at once. */
  readonly maxExports: number;
  /** Deepest nesting of a value, either way. */
  readonly maxDepth: number;
  /** Items of credit a stream grants at once; 0 pulls one item per call. */
  readonly streamWindow: number;
}

/**
 * The session's limits from `options`, the defaults for those not given.
 *
 * @throws {RangeError} when `maxExports` or `maxDepth` is not a positive
 * integer, or `streamWindow` not an integer from 0 to 65,536
 */
export function objectLimits(options: ObjectSessionOptions): ObjectLimits {
  const { maxExports, maxDepth } = resolveLimits({
    ...(options.maxExports === undefined ? {} : { maxExports: options.maxExports }),
    ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }),
  });
  const streamWindow = options.streamWindow ?? DEFAULT_STREAM_WINDOW;
  if (!Number.isSafeInteger(streamWindow) || streamWindow < 0 || streamWindow > MAX_GRANT) {
    throw new RangeError(
      `Cannot use streamWindow ${streamWindow}: expected an integer from 0 to ${MAX_GRANT}`,
    );
  }
  return { maxExports, maxDepth, streamWindow };
}
