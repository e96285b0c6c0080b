/**
 * The conformance suite every framing runs, as named cases: give it a
 * function that makes the framing with a limit, and what it needs to know
 * about the framing (does an empty payload make a frame, how long is a
 * header, which bytes are special).
 *
 * @example Run the suite over a framing of your own, in a test file
 * ```ts
 * import { framingSuite } from "./framing_suite.ts";
 * import { varint } from "../rpc/framing/varint.ts";
 *
 * const cases = framingSuite("varint()", (limits) => varint(limits), { empty: true });
 * // In a test file: testCases(cases) from "./cases.ts"; here, one case by hand:
 * await cases.find((c) => c.name.includes("empty stream"))!.fn();
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import fc, { type Arbitrary } from "fast-check";
import { DecodeError, FrameSizeError } from "../rpc/errors.ts";
import type { Framing } from "../rpc/types.ts";
import { collector, type SuiteCase } from "./cases.ts";
import {
  type Chunking,
  concat,
  decodeAll,
  encodeAll,
  firstRead,
  frameBytes,
  rechunk,
} from "./framing_helpers.ts";

/** Makes a framing with the given limit (or its default). */
export type MakeFraming = (options: { maxFrameSize?: number }) => Framing;

/** What the suite needs to know about a framing. */
export interface FramingSuiteOptions {
  /**
   * Random payloads the framing carries, a fast-check `Arbitrary<Uint8Array>`
   * such as `fc.uint8Array()`. Default: any bytes, up to 300.
   *
   * @ignore
   */
  readonly payloads?: Arbitrary<Uint8Array>;
  /** A valid payload of exactly `size` bytes. Default: `size` times "a". */
  readonly sample?: (size: number) => Uint8Array;
  /** Whether an empty payload is a frame. */
  readonly empty: boolean;
  /** For framings with a length header: the header's length in a framed payload. */
  readonly headerLength?: (framed: Uint8Array) => number;
  /** Bytes with a meaning to the framing (delimiter, escape) that payloads must carry. */
  readonly special?: Uint8Array;
  /** The longest payload the framing can express. Default: no limit. */
  readonly largest?: number;
}

const LIMIT = 64;

const chunkings: Arbitrary<Chunking> = fc.oneof(
  fc.constant<Chunking>("bytes"),
  fc.constant<Chunking>("whole"),
  fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
);

/**
 * The conformance cases of a framing: round trips in any chunking, `frame()`
 * against `encoder()`, limits (a frame of exactly `maxFrameSize` passes, one
 * byte more is a `FrameSizeError`), the end of stream inside a frame, no
 * copies and no retained reads, and the text decoder when there is one. One
 * case needs the garbage collector (`--v8-flags=--expose-gc`).
 *
 * @param name how test names call the framing, such as `"lengthPrefix()"`
 * @param make makes the framing with a given limit
 * @param options what the suite needs to know about it
 * @returns the cases, for {@linkcode testCases} or any runner
 *
 * @example
 * ```ts
 * import { framingSuite } from "./framing_suite.ts";
 * import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
 *
 * const cases = framingSuite("lengthPrefix()", (limits) => lengthPrefix(limits), {
 *   empty: true,
 *   headerLength: () => 4,
 * });
 * const limit = cases.find((c) => c.name.includes("exactly maxFrameSize"))!;
 * await limit.fn();
 * ```
 */
export function framingSuite(
  name: string,
  make: MakeFraming,
  options: FramingSuiteOptions,
): SuiteCase[] {
  const { test, skip, cases } = collector();
  const framing = make({});
  const small = make({ maxFrameSize: LIMIT });
  const largest = options.largest ?? Infinity;
  const payloads = options.payloads ?? fc.uint8Array({ maxLength: Math.min(300, largest) });
  const sample = options.sample ?? ((size: number) => new Uint8Array(size).fill(0x61));

  test(`${name} round-trips random payloads through encoder and decoder in any chunks`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(payloads, { maxLength: 8 }), chunkings, async (list, chunking) => {
        const bytes = await encodeAll(framing, list);
        assert.deepEqual(await decodeAll(framing, rechunk(bytes, chunking)), list);
      }),
      { numRuns: 100 },
    );
  });

  test(`${name} frame() produces the same bytes as encoder()`, async () => {
    await fc.assert(
      fc.asyncProperty(payloads, async (payload) => {
        assert.deepEqual(frameBytes(framing, payload), await encodeAll(framing, [payload]));
      }),
      { numRuns: 100 },
    );
  });

  test(`${name} decodes many frames from one chunk and one frame from many chunks`, async () => {
    const list = Array.from({ length: 50 }, (_, i) => sample(4 + (i % 7) * 11));
    const bytes = concat(list.map((p) => frameBytes(framing, p)));
    assert.deepEqual(await decodeAll(framing, [bytes]), list);
    assert.deepEqual(await decodeAll(framing, rechunk(bytes, "bytes")), list);
  });

  test(`${name} round-trips a large payload split over many chunks`, async () => {
    const payload = sample(Math.min(200_000, largest));
    const bytes = frameBytes(framing, payload);
    assert.deepEqual(await decodeAll(framing, rechunk(bytes, [999, 1])), [payload]);
    assert.deepEqual(await encodeAll(framing, [payload]), bytes);
  });

  test(`${name} emits a frame as soon as its last byte arrives`, async () => {
    const payload = sample(20);
    const chunks = rechunk(frameBytes(framing, payload), "bytes");
    assert.deepEqual(await firstRead(framing, chunks), { done: false, value: payload });
  });

  test(`${name} hands out a frame that lies in one chunk without copying it`, async () => {
    const chunk = concat([frameBytes(framing, sample(10)), frameBytes(framing, sample(12))]);
    const frames = await decodeAll(framing, [chunk]);
    assert.equal(frames.length, 2);
    for (const frame of frames) assert.equal(frame.buffer, chunk.buffer);
  });

  // Counting the arrays kept needs the collector run on demand.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    skip(
      `${name} keeps none of the arrays read while a frame is unfinished`,
      "needs the garbage collector: run with --v8-flags=--expose-gc (deno task test does)",
    );
  } else {
    test(`${name} keeps none of the arrays read while a frame is unfinished`, async () => {
      // Held as read, a frame dripped one byte per read cost ~400 bytes of
      // memory per byte (one array each); copied into one buffer, ~2.
      const payload = sample(Math.min(3000, largest));
      const bytes = frameBytes(framing, payload);
      const decoders = [framing.decoder(), ...(framing.textDecoder ? [framing.textDecoder()] : [])];
      for (const decoder of decoders) {
        const writer = decoder.writable.getWriter();
        const frames = Array.fromAsync(decoder.readable);
        // The memory of each read: its buffer, which a view of it would keep.
        const reads: WeakRef<ArrayBufferLike>[] = [];
        for (let i = 0; i < bytes.length - 1; i++) {
          const chunk = bytes.slice(i, i + 1);
          reads.push(new WeakRef(chunk.buffer));
          await writer.write(chunk);
        }
        await new Promise((resolve) => setTimeout(resolve, 0));
        gc();
        const kept = reads.filter((read) => read.deref() !== undefined).length;
        assert.ok(kept <= 2, `${kept} of ${reads.length} reads kept`);
        await writer.write(bytes.slice(bytes.length - 1));
        await writer.close();
        const [frame] = await frames;
        assert.deepEqual(
          typeof frame === "string" ? new TextEncoder().encode(frame) : frame,
          payload,
        );
      }
    });
  }

  test(`${name} decodes an empty stream to no frames`, async () => {
    assert.deepEqual(await decodeAll(framing, []), []);
    assert.deepEqual(await decodeAll(framing, [new Uint8Array(0)]), []);
  });

  if (options.empty) {
    test(`${name} round-trips empty payloads`, async () => {
      const empty = new Uint8Array(0);
      const list = [empty, sample(3), empty, empty];
      const bytes = await encodeAll(framing, list);
      assert.deepEqual(await decodeAll(framing, [bytes]), list);
      assert.deepEqual(await decodeAll(framing, rechunk(bytes, "bytes")), list);
    });
  } else {
    test(`${name} refuses to frame an empty payload`, async () => {
      assert.throws(() => framing.frame(new Uint8Array(0)), TypeError);
      await assert.rejects(encodeAll(framing, [new Uint8Array(0)]), TypeError);
    });
  }

  test(`${name} accepts a frame of exactly maxFrameSize`, async () => {
    const payload = sample(LIMIT);
    const bytes = frameBytes(framing, payload);
    assert.deepEqual(await decodeAll(small, [bytes]), [payload]);
    assert.deepEqual(await decodeAll(small, rechunk(bytes, "bytes")), [payload]);
  });

  test(`${name} rejects a frame over maxFrameSize with FrameSizeError`, async () => {
    const bytes = frameBytes(framing, sample(LIMIT + 1));
    const error = await decodeAll(small, [bytes]).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof FrameSizeError, String(error));
    assert.equal(error.limit, LIMIT);
    assert.ok(error.size > LIMIT);
  });

  const { headerLength } = options;
  if (headerLength !== undefined) {
    test(`${name} rejects a frame over maxFrameSize before buffering it (header only)`, async () => {
      const bytes = frameBytes(framing, sample(LIMIT + 1));
      const header = bytes.subarray(0, headerLength(bytes));
      for (const chunking of ["whole", "bytes"] as const) {
        await assert.rejects(firstRead(small, rechunk(header, chunking)), (e: unknown) => {
          assert.ok(e instanceof FrameSizeError, String(e));
          assert.equal(e.size, LIMIT + 1);
          return true;
        });
      }
    });
  } else {
    test(`${name} rejects bytes over maxFrameSize before the frame's end arrives`, async () => {
      const bytes = frameBytes(framing, sample(LIMIT + 8));
      const unfinished = bytes.subarray(0, bytes.length - 1);
      for (const chunking of ["whole", "bytes"] as const) {
        await assert.rejects(firstRead(small, rechunk(unfinished, chunking)), FrameSizeError);
      }
    });
  }

  test(`${name} errors with DecodeError when the stream ends inside a frame`, async () => {
    const bytes = concat([frameBytes(framing, sample(5)), frameBytes(framing, sample(10))]);
    for (const cut of [bytes.length - 1, bytes.length - 5]) {
      const chunks = rechunk(bytes.subarray(0, cut), [3]);
      await assert.rejects(decodeAll(framing, chunks), (e: unknown) => {
        assert.ok(e instanceof DecodeError, String(e));
        assert.match(e.message, /unexpected end of stream/);
        return true;
      });
    }
    const header = headerLength?.(bytes) ?? 0;
    if (header > 1) {
      await assert.rejects(decodeAll(framing, [bytes.subarray(0, header - 1)]), DecodeError);
    }
  });

  const { textDecoder, frameText } = framing;
  if (textDecoder !== undefined) {
    const utf8 = new TextEncoder();
    const asBytes = (frame: Uint8Array | string) =>
      typeof frame === "string" ? utf8.encode(frame) : frame;
    const decodeText = (target: Framing, chunks: readonly Uint8Array[]) =>
      Array.fromAsync(ReadableStream.from(chunks).pipeThrough(target.textDecoder!()));

    test(`${name} textDecoder() yields the frames of decoder(), valid UTF-8 as strings`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(payloads, { maxLength: 8 }),
          chunkings,
          async (list, chunking) => {
            const chunks = rechunk(await encodeAll(framing, list), chunking);
            const frames = await decodeText(framing, chunks);
            assert.deepEqual(frames.map(asBytes), await decodeAll(framing, chunks));
          },
        ),
        { numRuns: 100 },
      );
      const word = utf8.encode("h\u00e9llo \u2713");
      const frames = await decodeText(framing, rechunk(frameBytes(framing, word), "bytes"));
      assert.deepEqual(frames, ["h\u00e9llo \u2713"]);
    });

    test(`${name} textDecoder() enforces maxFrameSize and errors at the end of stream like decoder()`, async () => {
      assert.deepEqual(
        (await decodeText(small, [frameBytes(framing, sample(LIMIT))])).map(asBytes),
        [sample(LIMIT)],
      );
      const over = frameBytes(framing, sample(LIMIT + 8));
      for (const chunking of ["whole", "bytes"] as const) {
        await assert.rejects(decodeText(small, rechunk(over, chunking)), FrameSizeError);
      }
      await assert.rejects(decodeText(framing, [over.subarray(0, over.length - 1)]), DecodeError);
    });
  } else {
    skip(
      `${name} textDecoder() yields the frames of decoder()`,
      "the framing has no textDecoder()",
    );
  }
  if (frameText !== undefined) {
    test(`${name} frameText() agrees with frame() on the UTF-8 bytes`, () => {
      fc.assert(
        fc.property(fc.string({ unit: "binary", minLength: 1 }), (payload) => {
          const bytes = new TextEncoder().encode(payload);
          let expected: Uint8Array | undefined;
          try {
            expected = frameBytes(framing, bytes);
          } catch (error) {
            assert.throws(() => frameText(payload), (error as Error).constructor as typeof Error);
            return;
          }
          assert.deepEqual(new TextEncoder().encode(frameText(payload)), expected);
        }),
        { numRuns: 100 },
      );
    });
  } else {
    skip(
      `${name} frameText() agrees with frame() on the UTF-8 bytes`,
      "the framing has no frameText()",
    );
  }

  const { special } = options;
  if (special !== undefined) {
    test(`${name} carries payloads made of its delimiter and escape bytes`, async () => {
      const bytesOf = fc.array(
        fc.oneof(fc.constantFrom(...special), fc.integer({ min: 0, max: 255 })),
        { maxLength: 40 },
      ).map((a) => Uint8Array.from(a));
      await fc.assert(
        fc.asyncProperty(fc.array(bytesOf, { maxLength: 6 }), chunkings, async (list, chunking) => {
          const bytes = await encodeAll(framing, list);
          assert.deepEqual(await decodeAll(framing, rechunk(bytes, chunking)), list);
        }),
        { numRuns: 100 },
      );
      const all = concat([special, special, special]);
      assert.deepEqual(await decodeAll(framing, rechunk(frameBytes(framing, all), "bytes")), [all]);
    });
  }
  return cases;
}
