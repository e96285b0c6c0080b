/**
 * The contracts every part of parley plugs into: the message model, codecs,
 * framings and message streams. Codecs, framings and transports import only
 * this file and `errors.ts`, never each other and never the session.
 *
 * @module
 */

/** A request id. JSON-RPC allows strings and numbers; other codecs use numbers. */
export type RpcId = string | number;

/** Parameters of a call: positional (an array) or named (a plain object). */
export type RpcParams = readonly unknown[] | { readonly [name: string]: unknown };

/** A call that expects a reply. */
export interface RpcRequest {
  /** Discriminant. */
  readonly kind: "request";
  /** Chosen by the caller, echoed by the reply. */
  readonly id: RpcId;
  /** The method's name as it travels on the wire. */
  readonly method: string;
  /** The arguments; absent when the method takes none. */
  readonly params?: RpcParams;
  /**
   * The request opens a streaming call (`Peer.openStream`), for codecs that
   * carry streams ({@linkcode CodecFeatures.streams}); others ignore it.
   */
  readonly stream?: true;
  /**
   * The call's metadata (lowercase keys, string values), for codecs with
   * room for it: JSON-RPC's optional `"meta"` member. Others drop it.
   */
  readonly meta?: Readonly<Record<string, string>>;
}

/** A call that expects no reply. */
export interface RpcNotification {
  /** Discriminant. */
  readonly kind: "notification";
  /** The method's name as it travels on the wire. */
  readonly method: string;
  /** The arguments; absent when the method takes none. */
  readonly params?: RpcParams;
  /**
   * The call's metadata (lowercase keys, string values), for codecs with
   * room for it: JSON-RPC's optional `"meta"` member. Others drop it.
   */
  readonly meta?: Readonly<Record<string, string>>;
}

/** A successful reply. */
export interface RpcResult {
  /** Discriminant. */
  readonly kind: "result";
  /** The id of the request it answers. */
  readonly id: RpcId;
  /** The method's return value (`null` for void). */
  readonly result: unknown;
}

/** The error carried by an error reply: a code, a message and optional data. */
export interface RpcErrorObject {
  /** A code from {@linkcode ErrorCode} or an application's own. */
  readonly code: number;
  /** A short description for humans. */
  readonly message: string;
  /** Anything else the server wants the caller to know. */
  readonly data?: unknown;
}

/** An error reply. `id` is `null` when the request's id could not be read. */
export interface RpcFailure {
  /** Discriminant. */
  readonly kind: "error";
  /** The id of the request it answers, or `null` when it cannot be known. */
  readonly id: RpcId | null;
  /** What went wrong. */
  readonly error: RpcErrorObject;
}

/**
 * The notification method that carries the events of streaming calls, for
 * codecs whose {@linkcode CodecFeatures.streams} is true (the protobuf
 * envelope writes them as its own frames: `docs/protocol.md`). No service
 * method can be called this.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { STREAM_EVENT } from "./types.ts";
 * assert.equal(STREAM_EVENT, "$/stream");
 * ```
 */
export const STREAM_EVENT = "$/stream";

/**
 * One event of a streaming call `id`, the params of a {@linkcode STREAM_EVENT}
 * notification. Which end sent it tells the ids apart: both ends number their
 * own calls, so id 1 of a call made and id 1 of a call served are two calls.
 *
 * @example The caller grants the server 16 more messages of call 7
 * ```ts
 * import type { RpcStreamEvent } from "./types.ts";
 * const event: RpcStreamEvent = { id: 7, from: "caller", credit: 16 };
 * console.assert(event.credit === 16);
 * ```
 */
export interface RpcStreamEvent {
  /** The call's id, as its caller numbered it. */
  readonly id: RpcId;
  /** Which end of the call sent it: the one that made it, or the one serving it. */
  readonly from: "caller" | "server";
  /** One message of the sender's stream (the caller's requests, the server's replies). */
  readonly message?: unknown;
  /** The sender may be sent this many more messages (flow control). */
  readonly credit?: number;
  /** From the caller: it has sent its last message (the server's end is its reply). */
  readonly end?: true;
  /** From the caller: it gives the call up; the server stops. */
  readonly cancel?: true;
}

/** Every message that travels between two peers. */
export type RpcMessage = RpcRequest | RpcNotification | RpcResult | RpcFailure;

/**
 * A message a codec could read but that is not a valid message (for example a
 * JSON-RPC object without `method`). The receiving peer answers it with
 * `error` under `id` (unless `id` is `undefined`, which means: send nothing).
 */
export interface RpcInvalid {
  /** Discriminant. */
  readonly kind: "invalid";
  /** The id to answer under; `null` when unknown, `undefined` for no answer. */
  readonly id: RpcId | null | undefined;
  /** The error to answer with. */
  readonly error: RpcErrorObject;
  /**
   * For a malformed reply whose id could be read: the call it belongs to,
   * which the receiving peer fails with a `ProtocolError`.
   */
  readonly inReplyTo?: RpcId;
}

/** Several messages carried in one frame (a JSON-RPC batch). */
export interface RpcBatch {
  /** Discriminant. */
  readonly kind: "batch";
  /** The batch's members, in order. */
  readonly messages: readonly (RpcMessage | RpcInvalid)[];
}

/** What {@linkcode Codec.decode} returns for one frame. */
export type DecodedFrame = RpcMessage | RpcInvalid | RpcBatch;

/**
 * One frame: bytes for binary codecs, a string for text codecs. Byte-stream
 * transports encode strings as UTF-8; WebSockets send them as text messages.
 */
export type Frame = Uint8Array | string;

/**
 * What a connection's codec instance is for ({@linkcode Codec.fork}).
 *
 * @example
 * ```ts
 * import type { CodecForkOptions } from "./types.ts";
 * const forPeer: CodecForkOptions = { streams: true };
 * console.assert(forPeer.streams);
 * ```
 */
export interface CodecForkOptions {
  /**
   * The session carries streaming calls (a `Peer` does; a one-frame
   * exchange does not): a codec that can carry them encodes and decodes
   * them, and says so in {@linkcode CodecFeatures.streams}.
   */
  readonly streams?: boolean;
}

/** What a codec can express; the session adapts to it. */
export interface CodecFeatures {
  /** Several messages per frame ({@linkcode RpcBatch}). */
  readonly batch: boolean;
  /** Messages that expect no reply. */
  readonly notifications: boolean;
  /**
   * A frame that cannot be parsed is answered with an error whose id is
   * `null` and the connection goes on (JSON-RPC's -32700). When false, an
   * unreadable frame closes the connection (msgpack-rpc cannot resynchronise).
   */
  readonly replyToParseError: boolean;
  /**
   * Streaming calls: {@linkcode STREAM_EVENT} notifications carry their
   * messages, and a peer serves handlers that take and return async iterables.
   */
  readonly streams?: boolean;
}

/**
 * Turns messages into frames and back. A codec is stateless and may be shared
 * by many connections; limits are set when it is created.
 */
export interface Codec {
  /** A short name, such as `"jsonrpc"`. */
  readonly name: string;
  /** The media type for HTTP, such as `"application/json"`. */
  readonly mediaType: string;
  /** What the codec can express. */
  readonly features: CodecFeatures;
  /**
   * Whether frames are text (`encode` returns strings). Transports that
   * carry text natively use it; text framings skip a bytes round trip.
   */
  readonly text?: boolean;
  /**
   * For codecs that keep per-connection state (XML-RPC matches responses to
   * calls by order): a fresh instance for one connection. A peer calls it
   * once when it starts; stateless codecs leave it out and are shared.
   */
  fork?(options?: CodecForkOptions): Codec;
  /**
   * Encodes one message, or several as one batch frame.
   *
   * @throws {TypeError} when a value cannot be represented (for example a
   * `bigint` beyond what the codec can carry exactly).
   */
  encode(message: RpcMessage | readonly RpcMessage[]): Frame;
  /**
   * Decodes one frame.
   *
   * @throws {DecodeError} when the frame cannot be read at all.
   */
  decode(frame: Frame): DecodedFrame;
  /**
   * For codecs whose messages delimit themselves: the length in bytes of the
   * first complete message at the start of `buffer`, or `undefined` when more
   * bytes are needed.
   *
   * A framing that waits for the rest of a message passes `state`: the same
   * object for every call about one message, `buffer` holding that message
   * from its start and longer each time. The codec may keep in it where it
   * stopped and resume there, so that a message arriving in many reads costs
   * work in its length rather than its length times the reads. A codec that
   * ignores `state` still works: it reads the message from its start again.
   *
   * @throws {DecodeError} when the bytes cannot start a valid message.
   */
  measure?(buffer: Uint8Array, state?: MeasureState): number | undefined;
  /**
   * Builds the notification that tells the server a call was cancelled, for
   * codecs with such a convention (JSON-RPC uses LSP's `$/cancelRequest`).
   */
  cancelNotification?(id: RpcId): RpcNotification;
  /**
   * Reads a cancellation built by {@linkcode Codec.cancelNotification}: the
   * id of the cancelled call, or `undefined` when `message` is not one.
   */
  readCancellation?(message: RpcNotification): RpcId | undefined;
}

/**
 * Where a {@linkcode Codec.measure} stopped in a message that is not complete
 * yet. A framing makes one per connection and sets `resume` back to
 * `undefined` whenever a new message starts; only the codec reads what it
 * stores there.
 *
 * @example Measuring a message as its bytes arrive
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 * import type { MeasureState } from "./types.ts";
 *
 * const codec = jsonRpc();
 * const bytes = new TextEncoder().encode('{"method":"echo","params":["}"]}');
 * const state: MeasureState = { resume: undefined };
 * assert.equal(codec.measure(bytes.subarray(0, 20), state), undefined);
 * assert.notEqual(state.resume, undefined); // the next call starts at byte 20
 * assert.equal(codec.measure(bytes, state), bytes.length);
 * ```
 */
export interface MeasureState {
  /** The codec's own record of where it stopped; `undefined` at a message's start. */
  resume: unknown;
}

/**
 * Turns a byte stream into a stream of frames and back. Each call of
 * `encoder()` / `decoder()` returns a fresh `TransformStream` for one
 * connection. Decoders enforce their maximum frame size before buffering.
 */
export interface Framing {
  /** A short name, such as `"length-prefix"`. */
  readonly name: string;
  /** Frames payloads: each chunk written is one frame. */
  encoder(): TransformStream<Uint8Array, Uint8Array>;
  /** Splits bytes into frames: each chunk read is one whole frame. */
  decoder(): TransformStream<Uint8Array, Uint8Array>;
  /**
   * Frames one payload at once, for writers that coalesce many frames into
   * one socket write. Must produce the same bytes as `encoder()`.
   */
  frame(payload: Uint8Array): Uint8Array | readonly Uint8Array[];
  /**
   * For framings defined on text (newline): the framed form of a text
   * payload, so that a writer can join many text frames and encode them to
   * UTF-8 once. Must agree with `frame()` on the UTF-8 bytes.
   */
  frameText?(payload: string): string;
  /**
   * For framings defined on text: a decoder whose frames are strings,
   * decoded from UTF-8 once per chunk rather than once per frame. A frame
   * that is not valid UTF-8 is passed on as its bytes, for the codec to
   * reject as it would any bad frame.
   */
  textDecoder?(): TransformStream<Uint8Array, Frame>;
  /**
   * A synchronous splitter for one connection, so that a transport can hand
   * the session every frame of a read at once instead of one stream chunk
   * per frame. Must split exactly as `decoder()` does.
   */
  splitter?(): FrameSplitter;
  /** The splitter of `textDecoder()`: frames as strings where valid UTF-8. */
  textSplitter?(): FrameSplitter;
}

/** Splits the bytes of one connection into frames, synchronously. */
export interface FrameSplitter {
  /**
   * Takes the next bytes read.
   *
   * @returns the frames they complete, in order (often none, often many)
   * @throws {FrameSizeError} when a frame exceeds the maximum size
   * @throws {DecodeError} when the bytes cannot be framed
   */
  push(chunk: Uint8Array): Frame[];
  /**
   * Says the stream has ended.
   *
   * @throws {DecodeError} when it ended inside a frame
   */
  end(): void;
}

/** A bidirectional stream of bytes; `Deno.Conn` fits. */
export interface ByteStream {
  /** Bytes from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  readonly writable: WritableStream<Uint8Array>;
  /** Closes both directions. */
  close(): void | Promise<void>;
}

/**
 * A bidirectional stream of frames: one chunk is one frame. Byte-stream
 * transports become one through a {@linkcode Framing}; a WebSocket already
 * is one; HTTP adapts request and response to one.
 */
export interface MessageStream {
  /**
   * Frames from the peer; ends when the peer closes. A chunk is one frame,
   * or an array of the frames that arrived together, in order.
   */
  readonly readable: ReadableStream<Frame | readonly Frame[]>;
  /** Frames to the peer: one frame, or an array of frames to send together. */
  readonly writable: WritableStream<Frame | readonly Frame[]>;
  /** Closes both directions and releases the underlying resource. */
  close(reason?: unknown): Promise<void>;
  /** A human-readable description of the remote end, for logs and errors. */
  readonly remote?: string;
}

export type { CallOptions, RpcStream, StreamCallOptions } from "./call_types.ts";
