/**
 * A session's limits, checked: like the codecs' limits, a value that is not a
 * positive integer is a mistake in the options, refused when they are given
 * rather than on the first value that reaches it.
 *
 * @module
 */

import { resolveLimits } from "../limits.ts";
import type { ObjectSessionOptions } from "./types.ts";

/** The limits a session enforces. */
export interface ObjectLimits {
  /** Most exports, and most kept answers, at once. */
  readonly maxExports: number;
  /** Deepest nesting of a value, either way. */
  readonly maxDepth: number;
}

/**
 * The session's limits from `options`, the defaults for those not given.
 *
 * @throws {RangeError} when `maxExports` or `maxDepth` is not a positive integer
 */
export function objectLimits(options: ObjectSessionOptions): ObjectLimits {
  const { maxExports, maxDepth } = resolveLimits({
    ...(options.maxExports === undefined ? {} : { maxExports: options.maxExports }),
    ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }),
  });
  return { maxExports, maxDepth };
}
