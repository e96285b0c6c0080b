/**
 * Framings whose frame is a fixed-size header then the payload (the length
 * prefix) tell `framedStream` so, and it frames a whole batch into one array:
 * one allocation and one copy per write instead of an array per frame and a
 * second copy to join them, and text frames encoded straight into place.
 *
 * Private to `rpc/` (the framings and `framedStream`).
 *
 * @module
 */

import type { FrameSplitter, Framing } from "../types.ts";

/** How a framing's frames start: a header of a fixed size that gives the payload's length. */
export interface HeaderFraming {
  /** The header's size in bytes. */
  readonly headerSize: number;
  /** The largest payload the header can give. */
  readonly largest: number;
  /** Writes the header of a payload of `length` bytes into `out` at `at`. */
  writeHeader(out: Uint8Array, at: number, length: number): void;
}

const offers = new WeakMap<Framing, HeaderFraming>();

/**
 * Says how `framing`'s frames start, and gives it back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headerFramingOf, offerHeaderFraming } from "./_batch.ts";
 * import { lengthPrefix } from "./length_prefix.ts";
 *
 * const header = { headerSize: 1, largest: 255, writeHeader: () => {} };
 * const framing = offerHeaderFraming({ ...lengthPrefix({ width: 1 }) }, header);
 * assert.equal(headerFramingOf(framing), header);
 * ```
 */
export function offerHeaderFraming(framing: Framing, header: HeaderFraming): Framing {
  offers.set(framing, header);
  return framing;
}

/**
 * How `framing`'s frames start, when it said so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headerFramingOf } from "./_batch.ts";
 * import { lengthPrefix } from "./length_prefix.ts";
 * import { newline } from "./delimiter.ts";
 *
 * assert.equal(headerFramingOf(lengthPrefix())?.headerSize, 4);
 * assert.equal(headerFramingOf(newline()), undefined);
 * ```
 */
export function headerFramingOf(framing: Framing): HeaderFraming | undefined {
  return offers.get(framing);
}

const lenders = new WeakSet<FrameSplitter>();

/**
 * Marks a splitter whose frames never share memory with the chunks it is
 * given, and which keeps nothing of a chunk but copies: a reader may then
 * hand it a view of a buffer it reuses for the next read, rather than a
 * copy of each read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copiesChunks, markCopiesChunks } from "./_batch.ts";
 *
 * const splitter = markCopiesChunks({ push: () => [], end() {} });
 * assert.equal(copiesChunks(splitter), true);
 * assert.equal(copiesChunks({ push: () => [], end() {} }), false);
 * ```
 */
export function markCopiesChunks(splitter: FrameSplitter): FrameSplitter {
  lenders.add(splitter);
  return splitter;
}

/**
 * Whether a splitter was marked by {@linkcode markCopiesChunks}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copiesChunks } from "./_batch.ts";
 *
 * assert.equal(copiesChunks({ push: () => [], end() {} }), false);
 * ```
 */
export function copiesChunks(splitter: FrameSplitter): boolean {
  return lenders.has(splitter);
}
