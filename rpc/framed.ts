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
  const highWaterMark = options.highWaterMark ?? 1024 * 1024;
  // A socket of parley's own is written without its WritableStream.
  const direct = directBytesOf(bytes);
  const output = direct === undefined ? bytes.writable.getWriter() : undefined;
  const writeBytes = direct === undefined
    ? (chunk: Uint8Array) => output!.write(chunk)
    : (chunk: Uint8Array) => direct.write(chunk);
  const frameText = options.text ? framing.frameText?.bind(framing) : undefined;
  // A header framing's frames wait unframed and are framed together.
  const header = headerFramingOf(framing);
  // Text frames wait as strings and are converted to UTF-8 together.
  let queue: (Uint8Array | string)[] = [];
  let queued = 0;
  let flushing: Promise<void> | undefined;
  let failure: { error: unknown } | undefined;

  const flush = async (gather: boolean): Promise<void> => {
    try {
      // Gather what this turn writes: a WritableStream hands its queued
      // chunks to the sink one per microtask, so the first frame of a turn
      // would otherwise leave alone, and each socket write costs far more
      // than a few microtasks. Two ticks outpace the stream's one.
      // Bounded: a producer that adds a frame every tick still gets written.
      // A direct write comes gathered already (the peer's outbox).
      for (let seen = gather ? -1 : queue.length; seen !== queue.length && queued < GATHER_LIMIT;) {
        seen = queue.length;
        await undefined;
        await undefined;
      }
      while (queue.length > 0) {
        const chunks = queue;
        queue = [];
        queued = 0;
        await writeBytes(header === undefined ? toBytes(chunks) : headerFramed(chunks, header));
      }
    } catch (error) {
      // The socket failed: drop what is queued; the next write reports it.
      failure = { error };
      queue = [];
      queued = 0;
    } finally {
      flushing = undefined;
    }
  };

  const push = (framed: Uint8Array | readonly Uint8Array[]): void => {
    if (framed instanceof Uint8Array) {
      queue.push(framed);
      queued += framed.byteLength;
    } else {
      for (const part of framed) {
        queue.push(part);
        queued += part.byteLength;
      }
    }
  };

  const add = (frame: Frame): void => {
    if (header !== undefined) {
      // Whatever cannot be framed fails this write, as `frame()` would.
      if (typeof frame === "string" && 3 * frame.length > header.largest) {
        frame = utf8.encode(frame);
      }
      if (typeof frame !== "string" && frame.length > header.largest) framing.frame(frame);
      queue.push(frame);
      queued += frame.length;
      return;
    }
    if (frameText !== undefined && typeof frame === "string") {
      const text = frameText(frame);
      queue.push(text);
      // UTF-16 length: a lower bound of the bytes, close enough for backpressure.
      queued += text.length;
    } else {
      push(framing.frame(typeof frame === "string" ? utf8.encode(frame) : frame));
    }
  };

  const addAll = (chunk: Frame | readonly Frame[]): void => {
    if (failure !== undefined) throw failure.error;
    if (typeof chunk === "string" || chunk instanceof Uint8Array) add(chunk);
    else for (const frame of chunk) add(frame);
  };

  const writable = new WritableStream<Frame | readonly Frame[]>({
    write(chunk) {
      addAll(chunk);
      // One flush at a time; what comes meanwhile joins its next write.
      flushing ??= flush(true);
      // Backpressure: past the threshold, the writer waits for the socket.
      return queued > highWaterMark ? flushing : undefined;
    },
    async close() {
      while (flushing !== undefined) await flushing;
      if (failure !== undefined) throw failure.error;
      if (direct === undefined) await output!.close();
      else direct.closeWrite();
    },
    async abort(reason) {
      await output?.abort(reason);
    },
  });

  // The peer's outbox, which gathers a turn's frames itself, writes past the
  // WritableStream: a promise and a few ticks fewer per batch.
  offerDirectWrites(writable, {
    write(chunk) {
      try {
        addAll(chunk);
      } catch (error) {
        return Promise.reject(error);
      }
      return flushing ??= flush(false);
    },
  });

  // With a synchronous splitter, every frame of a read reaches the session
  // in one chunk: one stream step per read rather than one per frame.
  const splitter = (options.text ? framing.textSplitter?.() : undefined) ?? framing.splitter?.();
  // And a socket of parley's own is read without its ReadableStream: the
  // frames of a read go to a reader that asks (the peer) as one batch.
  const frames = direct !== undefined && splitter !== undefined
    ? directFrames(direct, splitter)
    : undefined;
  // A framing error must not cancel the socket: the session still writes
  // its last word (why it is closing) before it closes the connection.
  const open = () =>
    splitter === undefined
      ? bytes.readable.pipeThrough(
        (options.text ? framing.textDecoder?.() : undefined) ?? framing.decoder(),
        { preventCancel: true },
      )
      : frames === undefined
      ? splitStream(bytes.readable, splitter)
      : batchStream(frames);
  const stream = new Framed(open, writable, bytes, options.remote);
  return frames === undefined ? stream : offerDirectFrames(stream, frames);
}

// The message stream: a class rather than a literal with a getter (which
// V8 keeps in dictionary mode, several hundred bytes per connection).
class Framed implements MessageStream {
  readonly writable: WritableStream<Frame | readonly Frame[]>;
  readonly remote?: string;
  readonly #open: () => ReadableStream<Frame | readonly Frame[]>;
  readonly #bytes: ByteStream;
  #readable: ReadableStream<Frame | readonly Frame[]> | undefined;
  #closed = false;

  constructor(
    open: () => ReadableStream<Frame | readonly Frame[]>,
    writable: WritableStream<Frame | readonly Frame[]>,
    bytes: ByteStream,
    remote: string | undefined,
  ) {
    this.#open = open;
    this.writable = writable;
    this.#bytes = bytes;
    if (remote !== undefined) this.remote = remote;
  }

  // Made when first asked for: the peer reads the batches instead, and a
  // stream costs an idle connection memory.
  get readable(): ReadableStream<Frame | readonly Frame[]> {
    return this.#readable ??= this.#open();
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
const FIRST_READ = 1024;
const LARGEST_READ = 64 * 1024;

// Reads into one reused buffer; each read's bytes are copied once, to their
// exact size, because frames are views of them and a codec may keep those
// views (bytes values stay the bytes that came). A splitter that copies what
// it keeps (newline's text splitter) is lent the buffer itself: an array
// buffer per read is what the garbage collector spends most on.
function directFrames(bytes: DirectBytes, splitter: FrameSplitter): DirectFrames {
  let scratch = new Uint8Array(FIRST_READ);
  let ended = false;
  const lend = copiesChunks(splitter);
  return {
    async read() {
      while (!ended) {
        const n = await bytes.read(scratch);
        if (n === null) {
          ended = true;
          splitter.end();
          return null;
        }
        const chunk = lend ? scratch.subarray(0, n) : scratch.slice(0, n);
        if (n === scratch.length && n < LARGEST_READ) scratch = new Uint8Array(2 * n);
        const frames = splitter.push(chunk);
        if (frames.length > 0) return frames;
      }
      return null;
    },
  };
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
