/**
 * The writing side of `framedStream` (./framed.ts): frames are framed as
 * they come and coalesced into as few socket writes as possible. Private to
 * `rpc/`.
 *
 * @module
 */

import type { ByteStream, Frame, Framing } from "./types.ts";
import type { DirectBytes, DirectWrites } from "./_direct.ts";
import { type HeaderFraming, headerFramingOf } from "./framing/_batch.ts";
import { concatBytes } from "./framing/_concat.ts";

const utf8 = new TextEncoder();

// Bytes past which a flush stops gathering and writes.
const GATHER_LIMIT = 64 * 1024;

/**
 * The writing side of `framedStream`: frames are framed as they come and
 * coalesced into as few writes as possible. The peer writes through it
 * directly; the writable, when someone asks for it, is a thin front of it.
 *
 * @example Frames written directly, then through the writable, in order
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameWriter } from "./_frame_writer.ts";
 * import { newline } from "./framing/delimiter.ts";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const bytes = { readable: pipe.readable, writable: pipe.writable, close() {} };
 * const writer = new FrameWriter(bytes, undefined, newline(), 1024, true);
 * const received = new Response(pipe.readable).text();
 * await writer.write(["one", "two"]);
 * const front = writer.writable().getWriter();
 * await front.write("three");
 * await front.close();
 * assert.equal(await received, "one\ntwo\nthree\n");
 * ```
 */
export class FrameWriter implements DirectWrites {
  readonly #framing: Framing;
  readonly #highWaterMark: number;
  readonly #direct: DirectBytes | undefined;
  readonly #output: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #text: boolean;
  // A header framing's frames wait unframed and are framed together.
  readonly #header: HeaderFraming | undefined;
  // Text frames wait as strings and are converted to UTF-8 together.
  #queue: (Uint8Array | string)[] = [];
  #queued = 0;
  #flushing: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;

  /**
   * Writes to `direct` when the byte stream offers it, else to its writable.
   *
   * @param bytes the byte stream
   * @param direct its shortcut, if it offers one
   * @param framing how frames are delimited
   * @param highWaterMark bytes queued before the writable's writers must wait
   * @param text whether text frames are framed as text (a framing defined on text)
   */
  constructor(
    bytes: ByteStream,
    direct: DirectBytes | undefined,
    framing: Framing,
    highWaterMark: number,
    text: boolean,
  ) {
    this.#framing = framing;
    this.#highWaterMark = highWaterMark;
    this.#direct = direct;
    this.#output = direct === undefined ? bytes.writable.getWriter() : undefined;
    this.#text = text && framing.frameText !== undefined;
    this.#header = headerFramingOf(framing);
  }

  /** Frames `chunk` and writes it with whatever else waits (see {@linkcode DirectWrites}). */
  write(chunk: Frame | readonly Frame[]): Promise<void> {
    try {
      this.#addAll(chunk);
    } catch (error) {
      return Promise.reject(error);
    }
    // A direct write comes gathered already (the peer's outbox): written at
    // once, in a promise chain rather than an async function (a lone frame
    // is a few promises, and each costs as much as framing it).
    if (this.#flushing !== undefined) return this.#flushing;
    const writing = this.#writeNext();
    if (writing === undefined) return Promise.resolve();
    return this.#flushing = writing;
  }

  // Writes what is queued, then what was queued meanwhile, until nothing
  // waits; undefined when nothing did.
  #writeNext(): Promise<void> | undefined {
    if (this.#queue.length === 0) {
      this.#flushing = undefined;
      return undefined;
    }
    let bytes;
    try {
      bytes = this.#take();
    } catch (error) {
      this.#failed(error);
      return undefined;
    }
    const written = this.#direct === undefined
      ? this.#output!.write(bytes)
      : this.#direct.write(bytes);
    // Closures per write rather than per connection: an idle connection
    // keeps none of them.
    return written.then(() => this.#writeNext(), (error) => this.#failed(error));
  }

  // The socket failed: drop what is queued; the next write reports it.
  #failed(error: unknown): void {
    this.#failure = { error };
    this.#queue = [];
    this.#queued = 0;
    this.#flushing = undefined;
  }

  // The queue's bytes, framed, and an empty queue.
  #take(): Uint8Array {
    const chunks = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    const header = this.#header;
    return header === undefined ? toBytes(chunks) : headerFramed(chunks, header);
  }

  /** Writes what waits, then ends the writing direction. */
  async close(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.#failure !== undefined) throw this.#failure.error;
    if (this.#direct === undefined) await this.#output!.close();
    else this.#direct.closeWrite();
  }

  /**
   * A Web Streams front of this writer, made when someone asks for the
   * stream's writable.
   *
   * @returns a writable whose chunks are written as {@linkcode FrameWriter.write} does
   */
  writable(): WritableStream<Frame | readonly Frame[]> {
    return new WritableStream<Frame | readonly Frame[]>({
      write: (chunk) => {
        this.#addAll(chunk);
        // One flush at a time; what comes meanwhile joins its next write.
        const flushing = this.#flushing ??= this.#flush();
        // Backpressure: past the threshold, the writer waits for the socket.
        return this.#queued > this.#highWaterMark ? flushing : undefined;
      },
      close: () => this.close(),
      abort: async (reason) => {
        await this.#output?.abort(reason);
      },
    });
  }

  async #flush(): Promise<void> {
    try {
      // Gather what this turn writes: a WritableStream hands its queued
      // chunks to the sink one per microtask, so the first frame of a turn
      // would otherwise leave alone, and each socket write costs far more
      // than a few microtasks. Two ticks outpace the stream's one.
      // Bounded: a producer that adds a frame every tick still gets written.
      for (
        let seen = -1;
        seen !== this.#queue.length && this.#queued < GATHER_LIMIT;
      ) {
        seen = this.#queue.length;
        await undefined;
        await undefined;
      }
      while (this.#queue.length > 0) {
        const bytes = this.#take();
        await (this.#direct === undefined ? this.#output!.write(bytes) : this.#direct.write(bytes));
      }
    } catch (error) {
      this.#failed(error);
    } finally {
      this.#flushing = undefined;
    }
  }

  #push(framed: Uint8Array | readonly Uint8Array[]): void {
    if (framed instanceof Uint8Array) {
      this.#queue.push(framed);
      this.#queued += framed.byteLength;
    } else {
      for (const part of framed) {
        this.#queue.push(part);
        this.#queued += part.byteLength;
      }
    }
  }

  #add(frame: Frame): void {
    const header = this.#header;
    if (header !== undefined) {
      // Whatever cannot be framed fails this write, as `frame()` would.
      if (typeof frame === "string" && 3 * frame.length > header.largest) {
        frame = utf8.encode(frame);
      }
      if (typeof frame !== "string" && frame.length > header.largest) this.#framing.frame(frame);
      this.#queue.push(frame);
      this.#queued += frame.length;
      return;
    }
    if (this.#text && typeof frame === "string") {
      const text = this.#framing.frameText!(frame);
      this.#queue.push(text);
      // UTF-16 length: a lower bound of the bytes, close enough for backpressure.
      this.#queued += text.length;
    } else {
      this.#push(this.#framing.frame(typeof frame === "string" ? utf8.encode(frame) : frame));
    }
  }

  #addAll(chunk: Frame | readonly Frame[]): void {
    if (this.#failure !== undefined) throw this.#failure.error;
    if (typeof chunk === "string" || chunk instanceof Uint8Array) this.#add(chunk);
    else for (const frame of chunk) this.#add(frame);
  }
}

// One write's bytes for a header framing: each payload behind its header,
// text encoded in place, in one array.
function headerFramed(chunks: readonly (Uint8Array | string)[], header: HeaderFraming): Uint8Array {
  const size = header.headerSize;
  if (chunks.length > 1 && chunks.every((chunk) => typeof chunk === "string")) {
    const ascii = asciiFramed(chunks as readonly string[], header);
    if (ascii !== undefined) return ascii;
  }
  let most = 0;
  for (const chunk of chunks) {
    most += size + (typeof chunk === "string" ? 3 * chunk.length : chunk.length);
  }
  const out = new Uint8Array(most);
  let at = 0;
  for (const chunk of chunks) {
    let length = chunk.length;
    if (typeof chunk === "string") length = utf8.encodeInto(chunk, out.subarray(at + size)).written;
    else out.set(chunk, at + size);
    header.writeHeader(out, at, length);
    at += size + length;
  }
  return at === most ? out : out.subarray(0, at);
}

// Text frames that are all ASCII, encoded in one call (a call per frame
// costs several times the frame's bytes): the texts joined are encoded at
// the end of the array, then each moves forward behind its header (a frame
// never lands on bytes not yet moved). Undefined when the text is not ASCII.
function asciiFramed(texts: readonly string[], header: HeaderFraming): Uint8Array | undefined {
  const size = header.headerSize;
  const n = texts.length;
  const joined = texts.join("");
  const out = new Uint8Array(joined.length + n * size);
  const { read, written } = utf8.encodeInto(joined, out.subarray(n * size));
  // Every character read, as one byte each: ASCII.
  if (read !== joined.length || written !== joined.length) return undefined;
  for (let i = 0, from = n * size, at = 0; i < n; i++) {
    const length = texts[i]!.length;
    out.copyWithin(at + size, from, from + length);
    header.writeHeader(out, at, length);
    from += length;
    at += size + length;
  }
  return out;
}

// One write's bytes: runs of text frames are joined and encoded at once.
function toBytes(chunks: readonly (Uint8Array | string)[]): Uint8Array {
  if (chunks.length === 1) {
    const only = chunks[0]!;
    return typeof only === "string" ? utf8.encode(only) : only;
  }
  if (chunks.every((chunk) => typeof chunk === "string")) return utf8.encode(chunks.join(""));
  const parts: Uint8Array[] = [];
  let text: string[] = [];
  let total = 0;
  const flushText = () => {
    if (text.length === 0) return;
    const bytes = utf8.encode(text.join(""));
    parts.push(bytes);
    total += bytes.byteLength;
    text = [];
  };
  for (const chunk of chunks) {
    if (typeof chunk === "string") {
      text.push(chunk);
    } else {
      flushText();
      parts.push(chunk);
      total += chunk.byteLength;
    }
  }
  flushText();
  return concatBytes(parts, total);
}
