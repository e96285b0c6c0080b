/**
 * Turns a byte stream and a framing into a message stream, coalescing the
 * frames that are ready into one write: one socket write per frame is about
 * five times slower than one write per batch of ready frames.
 *
 * @module
 */

import type { ByteStream, Frame, FrameSplitter, Framing, MessageStream } from "./types.ts";
import {
  type DirectBytes,
  directBytesOf,
  type DirectFrames,
  type DirectWrites,
  offerDirectFrames,
  offerDirectWrites,
} from "./_direct.ts";
import { copiesChunks, type HeaderFraming, headerFramingOf } from "./framing/_batch.ts";
import { concatBytes } from "./framing/_concat.ts";

/** Options of {@linkcode framedStream}. */
export interface FramedStreamOptions {
  /** Bytes queued before writers must wait (backpressure); 1 MiB by default. */
  readonly highWaterMark?: number;
  /** Describes the remote end, for logs and errors. */
  readonly remote?: string;
  /**
   * The codec's frames are text: with a framing defined on text (newline),
   * frames are read as strings and written joined, with one UTF-8
   * conversion per batch instead of one per frame.
   */
  readonly text?: boolean;
  /**
   * Called once, when the first complete frame has been read: a server's
   * first-frame timeout listens to it.
   */
  readonly onFirstFrame?: () => void;
}

const utf8 = new TextEncoder();

// Bytes past which a flush stops gathering and writes.
const GATHER_LIMIT = 64 * 1024;

/**
 * Wraps a byte stream as a stream of frames: reads go through the framing's
 * decoder; writes are framed and coalesced into as few writes as possible.
 *
 * @param bytes the byte stream, for example a `Deno.Conn`
 * @param framing how frames are delimited
 * @param options backpressure threshold and a description of the remote end
 * @returns the message stream
 *
 * @example Frames over an in-memory byte pipe
 * ```ts
 * import assert from "node:assert/strict";
 * import { framedStream } from "./framed.ts";
 * import { lengthPrefix } from "./framing/length_prefix.ts";
 *
 * // A loopback: what is written comes back to the reader.
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const stream = framedStream(
 *   { readable: pipe.readable, writable: pipe.writable, close: () => {} },
 *   lengthPrefix(),
 * );
 * const received = Array.fromAsync(stream.readable);
 * const writer = stream.writable.getWriter();
 * await writer.write("hi");
 * await writer.write(["two", "frames"]); // framed and written together
 * await writer.close();
 * const chunks = await received;
 * const text = chunks.flat().map((frame) => new TextDecoder().decode(frame as Uint8Array));
 * assert.deepEqual(text, ["hi", "two", "frames"]);
 * await stream.close();
 * ```
 */
export function framedStream(
  bytes: ByteStream,
  framing: Framing,
  options: FramedStreamOptions = {},
): MessageStream {
  // A socket of parley's own is read and written without its Web Streams.
  const direct = directBytesOf(bytes);
  // With a synchronous splitter, every frame of a read reaches the session
  // in one chunk: one stream step per read rather than one per frame.
  const splitter = (options.text ? framing.textSplitter?.() : undefined) ?? framing.splitter?.();
  // And a socket of parley's own is read without its ReadableStream: the
  // frames of a read go to a reader that asks (the peer) as one batch.
  const frames = direct !== undefined && splitter !== undefined
    ? new FrameReader(direct, splitter, options.onFirstFrame)
    : undefined;
  const stream = new Framed(
    bytes,
    framing,
    options,
    splitter,
    frames,
    new FrameWriter(bytes, direct, framing, options),
  );
  return frames === undefined ? stream : offerDirectFrames(stream, frames);
}

// The message stream. A class rather than a literal with getters (which
// V8 keeps in dictionary mode, several hundred bytes per connection); its
// Web Streams are made when first asked for: the peer reads the batches and
// writes through the writer directly, and each stream costs an idle
// connection memory (a writable, its controller, writer and promises: ~2 KB).
class Framed implements MessageStream {
  readonly remote?: string;
  readonly #bytes: ByteStream;
  readonly #framing: Framing;
  readonly #text: boolean;
  readonly #splitter: FrameSplitter | undefined;
  readonly #frames: FrameReader | undefined;
  readonly #writer: FrameWriter;
  readonly #onFirstFrame: (() => void) | undefined;
  #readable: ReadableStream<Frame | readonly Frame[]> | undefined;
  #writable: WritableStream<Frame | readonly Frame[]> | undefined;
  #closed = false;

  constructor(
    bytes: ByteStream,
    framing: Framing,
    options: FramedStreamOptions,
    splitter: FrameSplitter | undefined,
    frames: FrameReader | undefined,
    writer: FrameWriter,
  ) {
    this.#bytes = bytes;
    this.#framing = framing;
    this.#text = options.text === true;
    this.#splitter = splitter;
    this.#frames = frames;
    this.#writer = writer;
    this.#onFirstFrame = options.onFirstFrame;
    if (options.remote !== undefined) this.remote = options.remote;
    // The peer's outbox, which gathers a turn's frames itself, writes past
    // the WritableStream: a promise and a few ticks fewer per batch.
    offerDirectWrites(this, writer);
  }

  get readable(): ReadableStream<Frame | readonly Frame[]> {
    if (this.#readable !== undefined) return this.#readable;
    const splitter = this.#splitter;
    if (this.#frames !== undefined) return this.#readable = batchStream(this.#frames);
    // A framing error must not cancel the socket: the session still writes
    // its last word (why it is closing) before it closes the connection.
    const readable = splitter === undefined
      ? this.#bytes.readable.pipeThrough(
        (this.#text ? this.#framing.textDecoder?.() : undefined) ?? this.#framing.decoder(),
        { preventCancel: true },
      )
      : splitStream(this.#bytes.readable, splitter);
    return this.#readable = this.#onFirstFrame === undefined
      ? readable
      : noteFirst(readable, this.#onFirstFrame);
  }

  get writable(): WritableStream<Frame | readonly Frame[]> {
    if (this.#writable !== undefined) return this.#writable;
    const writable = this.#writer.writable();
    offerDirectWrites(writable, this.#writer);
    return this.#writable = writable;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#bytes.close();
    } catch (error) {
      // A socket that is closed already is what we wanted.
      if (!(error instanceof Error && error.name === "BadResource")) throw error;
    }
  }
}

// The writing side: frames are framed as they come and coalesced into as few
// writes as possible. The peer writes through it directly; the writable, when
// someone asks for it, is a thin front of it.
class FrameWriter implements DirectWrites {
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

  constructor(
    bytes: ByteStream,
    direct: DirectBytes | undefined,
    framing: Framing,
    options: FramedStreamOptions,
  ) {
    this.#framing = framing;
    this.#highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.#direct = direct;
    this.#output = direct === undefined ? bytes.writable.getWriter() : undefined;
    this.#text = options.text === true && framing.frameText !== undefined;
    this.#header = headerFramingOf(framing);
  }

  write(chunk: Frame | readonly Frame[]): Promise<void> {
    try {
      this.#addAll(chunk);
    } catch (error) {
      return Promise.reject(error);
    }
    // A direct write comes gathered already (the peer's outbox).
    return this.#flushing ??= this.#flush(false);
  }

  async close(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.#failure !== undefined) throw this.#failure.error;
    if (this.#direct === undefined) await this.#output!.close();
    else this.#direct.closeWrite();
  }

  // The Web Streams front, made when someone asks for the stream's writable.
  writable(): WritableStream<Frame | readonly Frame[]> {
    return new WritableStream<Frame | readonly Frame[]>({
      write: (chunk) => {
        this.#addAll(chunk);
        // One flush at a time; what comes meanwhile joins its next write.
        const flushing = this.#flushing ??= this.#flush(true);
        // Backpressure: past the threshold, the writer waits for the socket.
        return this.#queued > this.#highWaterMark ? flushing : undefined;
      },
      close: () => this.close(),
      abort: async (reason) => {
        await this.#output?.abort(reason);
      },
    });
  }

  async #flush(gather: boolean): Promise<void> {
    try {
      // Gather what this turn writes: a WritableStream hands its queued
      // chunks to the sink one per microtask, so the first frame of a turn
      // would otherwise leave alone, and each socket write costs far more
      // than a few microtasks. Two ticks outpace the stream's one.
      // Bounded: a producer that adds a frame every tick still gets written.
      for (
        let seen = gather ? -1 : this.#queue.length;
        seen !== this.#queue.length && this.#queued < GATHER_LIMIT;
      ) {
        seen = this.#queue.length;
        await undefined;
        await undefined;
      }
      const header = this.#header;
      while (this.#queue.length > 0) {
        const chunks = this.#queue;
        this.#queue = [];
        this.#queued = 0;
        const bytes = header === undefined ? toBytes(chunks) : headerFramed(chunks, header);
        await (this.#direct === undefined ? this.#output!.write(bytes) : this.#direct.write(bytes));
      }
    } catch (error) {
      // The socket failed: drop what is queued; the next write reports it.
      this.#failure = { error };
      this.#queue = [];
      this.#queued = 0;
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

// The read buffer's first and largest sizes: a waiting read holds its
// buffer, so an idle connection costs the first; a read that fills the
// buffer doubles it, up to the largest.
const FIRST_READ = 256;
const LARGEST_READ = 64 * 1024;

// Reads into one reused buffer; each read's bytes are copied once, to their
// exact size, because frames are views of them and a codec may keep those
// views (bytes values stay the bytes that came). A splitter that copies what
// it keeps (newline's text splitter) is lent the buffer itself: an array
// buffer per read is what the garbage collector spends most on.
class FrameReader implements DirectFrames {
  readonly #bytes: DirectBytes;
  readonly #splitter: FrameSplitter;
  readonly #lend: boolean;
  #scratch = new Uint8Array(FIRST_READ);
  #ended = false;
  #onFirstFrame: (() => void) | undefined;

  constructor(bytes: DirectBytes, splitter: FrameSplitter, onFirstFrame: (() => void) | undefined) {
    this.#bytes = bytes;
    this.#splitter = splitter;
    this.#lend = copiesChunks(splitter);
    this.#onFirstFrame = onFirstFrame;
  }

  // A promise chain rather than an async loop: a connection waits here most
  // of its life, and a suspended async frame costs it memory.
  read(): Promise<readonly Frame[] | null> {
    if (this.#ended) return Promise.resolve(null);
    return this.#bytes.read(this.#scratch).then(this.#took);
  }

  // What a read gave: its frames, or (a frame not yet complete) the next read's.
  readonly #took = (
    n: number | null,
  ): readonly Frame[] | null | Promise<readonly Frame[] | null> => {
    const frames = this.#split(n);
    // A frame not complete yet: read on in a loop, not a chain of promises
    // (one per read, each waiting on the next: a frame dripped a byte per
    // read would grow it without bound).
    return frames === undefined ? this.#readOn() : frames;
  };

  async #readOn(): Promise<readonly Frame[] | null> {
    for (;;) {
      if (this.#ended) return null;
      const frames = this.#split(await this.#bytes.read(this.#scratch));
      if (frames !== undefined) return frames;
    }
  }

  // The frames a read of `n` bytes completed; undefined when none.
  #split(n: number | null): readonly Frame[] | null | undefined {
    if (n === null) {
      this.#ended = true;
      this.#splitter.end();
      return null;
    }
    const scratch = this.#scratch;
    const chunk = this.#lend ? scratch.subarray(0, n) : scratch.slice(0, n);
    if (n === scratch.length && n < LARGEST_READ) this.#scratch = new Uint8Array(2 * n);
    const frames = this.#splitter.push(chunk);
    if (frames.length === 0) return undefined;
    if (this.#onFirstFrame !== undefined) this.#firstFrame();
    return frames;
  }

  #firstFrame(): void {
    const note = this.#onFirstFrame!;
    this.#onFirstFrame = undefined;
    note();
  }
}

// The frames of a readable, the first one told to `note`.
function noteFirst(
  readable: ReadableStream<Frame | readonly Frame[]>,
  note: () => void,
): ReadableStream<Frame | readonly Frame[]> {
  let first = true;
  return readable.pipeThrough(
    new TransformStream<Frame | readonly Frame[], Frame | readonly Frame[]>({
      transform(chunk, controller) {
        if (first) {
          first = false;
          note();
        }
        controller.enqueue(chunk);
      },
    }),
  );
}

// The batches as a ReadableStream, for readers other than the peer.
function batchStream(frames: DirectFrames): ReadableStream<Frame | readonly Frame[]> {
  return new ReadableStream<Frame | readonly Frame[]>({
    async pull(controller) {
      const batch = await frames.read();
      if (batch === null) controller.close();
      else controller.enqueue(batch.length === 1 ? batch[0]! : batch);
    },
    // The socket stays open: the session may still write its last word.
  }, { highWaterMark: 0 });
}

function splitStream(
  bytes: ReadableStream<Uint8Array>,
  splitter: FrameSplitter,
): ReadableStream<Frame | readonly Frame[]> {
  const reader = bytes.getReader();
  return new ReadableStream<Frame | readonly Frame[]>({
    async pull(controller) {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          splitter.end();
          controller.close();
          return;
        }
        const frames = splitter.push(value);
        if (frames.length === 0) continue;
        controller.enqueue(frames.length === 1 ? frames[0]! : frames);
        return;
      }
    },
    // The socket stays open: the session may still write its last word.
    cancel() {
      reader.releaseLock();
    },
  }, { highWaterMark: 0 });
}

// One write's bytes for a header framing: each payload behind its header,
// text encoded in place, in one array.
function headerFramed(chunks: readonly (Uint8Array | string)[], header: HeaderFraming): Uint8Array {
  const size = header.headerSize;
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
