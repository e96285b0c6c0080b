/**
 * Byte-level mutations of valid frames: bit flips, inserted and deleted
 * bytes, truncation, duplicated runs, a corrupted length field and the
 * splice of two frames. Each returns the mutated bytes and says what it did,
 * so that a failure's report reads as what was sent.
 *
 * @module
 */

import { concat } from "../framing/conformance.ts";
import type { Prng } from "./_prng.ts";

/** Bytes that parsers treat specially somewhere (JSON, XML, msgpack, Thrift, HTTP). */
const SPECIAL_BYTES = [
  0x00,
  0x01,
  0x0a,
  0x0d,
  0x20,
  0x22,
  0x2c,
  0x30,
  0x3a,
  0x3c,
  0x3e,
  0x5b,
  0x5c,
  0x5d,
  0x7b,
  0x7d,
  0x7f,
  0x80,
  0x90,
  0xc0,
  0xc1,
  0xc3,
  0xdd,
  0xdf,
  0xef,
  0xfe,
  0xff,
];

/** 32-bit values that length fields choke on: zero, off by one, sign bits, the 16 MiB limit. */
const SPECIAL_LENGTHS = [
  0,
  1,
  0x7f,
  0x80,
  0xffff,
  0x10000,
  16 * 1024 * 1024 - 1,
  16 * 1024 * 1024,
  16 * 1024 * 1024 + 1,
  0x7fffffff,
  0x80000000,
  0xfffffffe,
  0xffffffff,
];

/** A mutated input and what was done to it. */
export interface Mutated {
  /** The mutated bytes. */
  readonly bytes: Uint8Array;
  /** What was done, such as `2 bit flip(s); truncated to 10 of 40`. */
  readonly label: string;
}

type Mutator = (rng: Prng, bytes: Uint8Array, other: Uint8Array) => Mutated;

const MUTATORS: readonly Mutator[] = [
  (rng, bytes) => {
    const out = bytes.slice();
    const flips = rng.range(1, 4);
    for (let i = 0; i < flips && out.length > 0; i++) out[rng.int(out.length)]! ^= 1 << rng.int(8);
    return { bytes: out, label: `${flips} bit flip(s)` };
  },
  (rng, bytes) => {
    const at = rng.int(bytes.length + 1);
    const insert = rng.chance(0.5)
      ? new Uint8Array(rng.range(1, 8)).map(() => rng.pick(SPECIAL_BYTES))
      : rng.bytes(rng.range(1, 32));
    return {
      bytes: concat([bytes.subarray(0, at), insert, bytes.subarray(at)]),
      label: `${insert.length} byte(s) inserted at ${at}`,
    };
  },
  (rng, bytes) => {
    const at = rng.int(bytes.length);
    const count = Math.min(rng.range(1, 16), bytes.length - at);
    return {
      bytes: concat([bytes.subarray(0, at), bytes.subarray(at + count)]),
      label: `${count} byte(s) deleted at ${at}`,
    };
  },
  (rng, bytes) => {
    const keep = rng.int(bytes.length);
    return { bytes: bytes.slice(0, keep), label: `truncated to ${keep} of ${bytes.length}` };
  },
  (rng, bytes) => {
    const at = rng.int(bytes.length);
    const run = bytes.subarray(at, at + rng.range(1, 64));
    const times = rng.range(2, 16);
    const copies = concat(Array.from({ length: times }, () => run));
    return {
      bytes: concat([bytes.subarray(0, at), copies, bytes.subarray(at + run.length)]),
      label: `${run.length} byte(s) at ${at} repeated ${times} times`,
    };
  },
  (rng, bytes) => {
    // A big-endian u32 written over the start (where the length prefixes
    // are) or anywhere (lengths nested in the payload).
    const out = concat([bytes, new Uint8Array(Math.max(0, 4 - bytes.length))]);
    const at = rng.chance(0.5) ? 0 : rng.int(out.length - 3);
    const value = rng.pick(SPECIAL_LENGTHS);
    new DataView(out.buffer).setUint32(at, value);
    return { bytes: out, label: `u32 ${value} written at ${at}` };
  },
  (rng, bytes, other) => {
    const cut = rng.int(bytes.length + 1);
    const from = rng.int(other.length + 1);
    return {
      bytes: concat([bytes.subarray(0, cut), other.subarray(from)]),
      label: `spliced: first ${cut} byte(s), then another frame from byte ${from}`,
    };
  },
  (rng, bytes) => {
    const out = bytes.slice();
    const count = rng.range(1, 4);
    for (let i = 0; i < count && out.length > 0; i++) {
      out[rng.int(out.length)] = rng.pick(SPECIAL_BYTES);
    }
    return { bytes: out, label: `${count} byte(s) replaced with special bytes` };
  },
];

/**
 * Applies one to three random mutations in a row.
 *
 * @param rng the input's PRNG
 * @param bytes a valid frame (or payload)
 * @param other another valid frame, for splicing
 * @returns the mutated bytes and the mutations, joined by "; "
 *
 * @example
 * ```ts
 * import { Prng } from "./_prng.ts";
 * import { mutate } from "./_mutate.ts";
 * const { bytes, label } = mutate(new Prng(7), new Uint8Array([1, 2, 3]), new Uint8Array([4, 5]));
 * console.log(bytes.length, label);
 * ```
 */
export function mutate(rng: Prng, bytes: Uint8Array, other: Uint8Array): Mutated {
  let current = bytes;
  const labels: string[] = [];
  const rounds = rng.range(1, 3);
  for (let i = 0; i < rounds; i++) {
    const mutated = rng.pick(MUTATORS)(rng, current, other);
    current = mutated.bytes;
    labels.push(mutated.label);
  }
  return { bytes: current, label: labels.join("; ") };
}

/**
 * Splits `bytes` into one to eight writes at random places, so that frame
 * and header boundaries fall anywhere in a read.
 *
 * @param rng the input's PRNG
 * @param bytes what to send
 * @returns the writes, in order
 *
 * @example
 * ```ts
 * import { Prng } from "./_prng.ts";
 * import { chunked } from "./_mutate.ts";
 * console.log(chunked(new Prng(1), new Uint8Array(10)).length);
 * ```
 */
export function chunked(rng: Prng, bytes: Uint8Array): Uint8Array[] {
  const cuts = new Set<number>();
  const count = rng.range(0, 7);
  for (let i = 0; i < count && bytes.length > 1; i++) cuts.add(1 + rng.int(bytes.length - 1));
  const sorted = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) out.push(bytes.subarray(sorted[i], sorted[i + 1]));
  return out;
}
