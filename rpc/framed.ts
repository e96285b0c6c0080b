/**
 * Turns a byte stream and a framing into a message stream, coalescing the
 * frames that are ready into one write: one socket write per frame is about
 * five times slower than one write per batch of ready frames.
 *
 * @module
 */

import type { ByteStream, Frame, FrameSplitter, Framing, MessageStream } from "./types.ts";
import {
  type BytesReceiver,
  type DirectBytes,
  directBytesOf,
  type DirectFrames,
  type FramesReceiver,
  offerDirectFrames,
  offerDirectWrites,
} from "./_direct.ts";
import { copiesChunks } from "./framing/_batch.ts";
import { FrameWriter } from "./_frame_writer.ts";

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
    new FrameWriter(
      bytes,
      direct,
      framing,
      options.highWaterMark ?? 1024 * 1024,
      options.text === true,
    ),
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
class FrameReader implements DirectFrames, BytesReceiver {
  readonly #bytes: DirectBytes;
  readonly #splitter: FrameSplitter;
  readonly #lend: boolean;
  #scratch = new Uint8Array(FIRST_READ);
  #ended = false;
  #onFirstFrame: (() => void) | undefined;
  #receiver: FramesReceiver | undefined;

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

  // read() for the peer's read loop: the frames go to it straight from the
  // socket read's reaction (no promise of ours, no closure per read).
  readTo(receiver: FramesReceiver): void {
    if (this.#ended) return receiver.framesRead(null);
    this.#receiver = receiver;
    const bytes = this.#bytes;
    if (bytes.readTo !== undefined) bytes.readTo(this.#scratch, this);
    else bytes.read(this.#scratch).then((n) => this.bytesRead(n), (e) => this.readFailed(e));
  }

  /** A read's outcome, for {@linkcode FrameReader.readTo}. Not for callers. */
  bytesRead(n: number | null): void {
    const receiver = this.#receiver!;
    let frames;
    try {
      frames = this.#split(n);
    } catch (error) {
      return receiver.readFailed(error);
    }
    if (frames !== undefined) return receiver.framesRead(frames);
    this.#readOn().then((frames) => receiver.framesRead(frames), (e) => receiver.readFailed(e));
  }

  /** A read's error, for {@linkcode FrameReader.readTo}. Not for callers. */
  readFailed(error: unknown): void {
    this.#receiver!.readFailed(error);
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
