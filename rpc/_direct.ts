/**
 * Shortcuts past the Web Streams between parley's own layers. A byte stream
 * that parley made from a socket (`connByteStream`) can be read and written
 * without its `ReadableStream`/`WritableStream`, and a message stream that
 * `framedStream` made can hand its reader whole batches of frames: each
 * stream step costs several promises, and a small call is a few of them.
 *
 * The public shapes stay what they are: a stream that offers a shortcut
 * still works through `readable` and `writable`, and one made elsewhere
 * (or wrapped, even by a spread: the offer is held by the object itself, in
 * a `WeakMap`) is simply read through its streams. A stream is read one way
 * or the other, never both.
 *
 * Private to `rpc/`.
 *
 * @module
 */

import type { ByteStream, Frame, MessageStream } from "./types.ts";

/** A byte stream read and written without Web Streams. */
export interface DirectBytes {
  /**
   * Reads into `buffer`.
   *
   * @returns how many bytes, or `null` when the stream has ended
   */
  read(buffer: Uint8Array): Promise<number | null>;
  /**
   * Reads as {@linkcode DirectBytes.read} does, and tells `receiver` the
   * outcome rather than a promise of its own: one promise fewer per read,
   * and no closure of the reader's.
   *
   * @param buffer where the bytes go
   * @param receiver told how many bytes (`null` at the end), or the error
   */
  readTo?(buffer: Uint8Array, receiver: BytesReceiver): void;
  /** Writes all of `bytes`; settles once they are written. */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the writing direction (the peer reads the end). */
  closeWrite(): void;
}

/** Who is told the outcome of {@linkcode DirectBytes.readTo}. */
export interface BytesReceiver {
  /** Told how many bytes were read, or `null` when the stream has ended. */
  bytesRead(n: number | null): void;
  /** Told the read's error. */
  readFailed(error: unknown): void;
}

/** Who is told the outcome of {@linkcode DirectFrames.readTo}. */
export interface FramesReceiver {
  /** Told the frames that arrived together, or `null` when the stream has ended. */
  framesRead(frames: readonly Frame[] | null): void;
  /** Told the framing's error. */
  readFailed(error: unknown): void;
}

/** A message stream's frames, read a batch at a time without Web Streams. */
export interface DirectFrames {
  /**
   * Reads the frames that arrived together.
   *
   * @returns at least one frame, in order; or `null` when the stream has ended
   * @throws the framing's error (`FrameSizeError`, `DecodeError`)
   */
  read(): Promise<readonly Frame[] | null>;
  /**
   * Reads as {@linkcode DirectFrames.read} does, and tells `receiver` the
   * outcome rather than a promise of its own (the peer's read loop).
   *
   * @param receiver told the frames (`null` at the end), or the framing's error
   */
  readTo?(receiver: FramesReceiver): void;
}

/** A message stream's frames, written a batch at a time without Web Streams. */
export interface DirectWrites {
  /**
   * Frames `frames` and writes them at once, with whatever else waits for
   * the socket: the caller has gathered its turn's frames already.
   *
   * @returns when they have been written
   * @throws (as a rejection) what framing them throws, or the failure of an
   * earlier write
   */
  write(frames: Frame | readonly Frame[]): Promise<void>;
  /**
   * Writes what waits, then ends the writing direction, as closing the
   * writable would: a reader of these writes needs no writer of its own.
   *
   * @returns when the end has been written
   * @throws (as a rejection) the failure of an earlier write
   */
  close(): Promise<void>;
}

const bytesOffers = new WeakMap<ByteStream, DirectBytes>();
const frameOffers = new WeakMap<MessageStream, DirectFrames>();
// By the message stream (its writable is made only when asked for) and by
// its writable once made, which wrappers of a message stream share as it is.
const writeOffers = new WeakMap<WritableStream | MessageStream, DirectWrites>();

/**
 * Offers a byte stream's shortcut, and gives the stream back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directBytesOf, offerDirectBytes } from "./_direct.ts";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const direct = { read: () => Promise.resolve(null), write: async () => {}, closeWrite() {} };
 * const bytes = offerDirectBytes({ ...pipe, close() {} }, direct);
 * assert.equal(directBytesOf(bytes), direct);
 * assert.equal(directBytesOf({ ...bytes }), undefined); // a copy is not the stream
 * ```
 */
export function offerDirectBytes<S extends ByteStream>(stream: S, direct: DirectBytes): S {
  bytesOffers.set(stream, direct);
  return stream;
}

/**
 * The shortcut a byte stream offers, if any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directBytesOf } from "./_direct.ts";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * assert.equal(directBytesOf({ ...pipe, close() {} }), undefined);
 * ```
 */
export function directBytesOf(stream: ByteStream): DirectBytes | undefined {
  return bytesOffers.get(stream);
}

/**
 * Offers a message stream's batch reader, and gives the stream back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directFramesOf, offerDirectFrames } from "./_direct.ts";
 *
 * const pipe = new TransformStream<string, string>();
 * const direct = { read: () => Promise.resolve(["a frame"]) };
 * const stream = offerDirectFrames({ ...pipe, close: async () => {} }, direct);
 * assert.deepEqual(await directFramesOf(stream)?.read(), ["a frame"]);
 * ```
 */
export function offerDirectFrames<S extends MessageStream>(stream: S, direct: DirectFrames): S {
  frameOffers.set(stream, direct);
  return stream;
}

/**
 * The batch reader a message stream offers, if any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directFramesOf } from "./_direct.ts";
 *
 * const pipe = new TransformStream<string, string>();
 * assert.equal(directFramesOf({ ...pipe, close: async () => {} }), undefined);
 * ```
 */
export function directFramesOf(stream: MessageStream): DirectFrames | undefined {
  return frameOffers.get(stream);
}

/**
 * Offers the batch writer of a message stream, or of its writable: what is
 * written through it goes out as if written through the writable, one
 * stream step fewer per batch, and a stream offering it need not make its
 * writable at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directWritesOf, offerDirectWrites } from "./_direct.ts";
 *
 * const pipe = new TransformStream<string, string>();
 * const direct = { write: async () => {}, close: async () => {} };
 * offerDirectWrites(pipe.writable, direct);
 * assert.equal(directWritesOf(pipe.writable), direct);
 * ```
 */
export function offerDirectWrites(
  target: WritableStream | MessageStream,
  direct: DirectWrites,
): void {
  writeOffers.set(target, direct);
}

/**
 * The batch writer a message stream or a writable offers, if any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directWritesOf } from "./_direct.ts";
 *
 * assert.equal(directWritesOf(new WritableStream()), undefined);
 * ```
 */
export function directWritesOf(target: WritableStream | MessageStream): DirectWrites | undefined {
  return writeOffers.get(target);
}
