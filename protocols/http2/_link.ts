/**
 * What the receiving half (_receive.ts) and the sending half (_send.ts) of
 * a connection share: the state the connection (connection.ts) holds, and
 * the few things each asks of the other through it. An interface, so that
 * the halves import neither the connection nor each other.
 *
 * @module
 */

import type { FrameWriter } from "./_frames.ts";
import type { HpackDecoder, HpackEncoder } from "./hpack.ts";
import type { ResolvedOptions } from "./_settings.ts";
import type { Stream, StreamHost } from "./_stream.ts";
import type { Http2Stream } from "./stream.ts";

/** What a connection tells its transport and its application. */
export interface Http2ConnectionEvents {
  /** Output is waiting: call `takeOutput()` (soon; once per turn is enough). */
  readonly onOutput: () => void;
  /** A server's new stream: its request headers have arrived. */
  readonly onStream?: (stream: Http2Stream) => void;
  /**
   * The connection has ended (GOAWAY and its streams done, a connection
   * error, the socket's end, or `destroy()`): write what output is left,
   * then close the socket. `error` says why when it was not graceful.
   */
  readonly onClose?: (error: Error | undefined) => void;
  /** The peer sent GOAWAY: no new streams on this connection. */
  readonly onGoaway?: (code: number, lastStreamId: number) => void;
  /** The peer's first SETTINGS arrived: it speaks HTTP/2. */
  readonly onEstablished?: () => void;
}

/** The peer's SETTINGS that govern what this side sends. */
export interface PeerSettings {
  /** SETTINGS_INITIAL_WINDOW_SIZE: each new stream's send window. */
  initialWindow: number;
  /** SETTINGS_MAX_FRAME_SIZE: the largest frame this side may send. */
  maxFrameSize: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams this side may open. */
  maxStreams: number;
}

/** The connection as its two halves see it. */
export interface Link extends StreamHost {
  readonly server: boolean;
  readonly options: ResolvedOptions;
  readonly events: Http2ConnectionEvents;
  readonly writer: FrameWriter;
  readonly encoder: HpackEncoder;
  readonly decoder: HpackDecoder;
  /** Open streams by id. */
  readonly streams: Map<number, Stream>;
  /** A client's requests waiting for a slot, in order. */
  readonly waiting: Stream[];
  readonly peer: PeerSettings;
  /** What the peer lets this side send on the connection, all streams together. */
  connSendWindow: number;
  /** Client: the next stream id to open. */
  nextStreamId: number;
  /** The highest stream id the peer has opened. */
  lastPeerStream: number;
  /** Streams open that the peer opened. */
  peerStreams: number;
  /** Streams open that this side opened. */
  localStreams: number;
  goawaySent: boolean;
  /** The last stream id of the peer's GOAWAY; -1 before one. */
  goawayReceived: number;
  closed: boolean;

  /** Output was written: tell the transport (once per batch). */
  wake(): void;
  /**
   * Sends RST_STREAM and remembers the id for a while: frames the peer sent
   * before it saw the reset are dropped, not taken for errors.
   */
  sendReset(id: number, code: number): void;
  /** Whether `id` was reset (either way) recently: its late frames are dropped. */
  wasReset(id: number): boolean;
  /** Remembers a stream the peer reset. */
  noteReset(id: number): void;
  /** Takes a stream off the connection: done, or failed with `error`. */
  closeStream(stream: Stream, error: Error | undefined): void;
  /** Closes a stream whose both sides are done. */
  maybeDone(stream: Stream): void;
  /** A stream error (RFC 9113 §5.4.2): RST_STREAM with `code`, the stream fails. */
  streamError(stream: Stream, code: number, message: string): void;
  /** A connection error (RFC 9113 §5.4.1): GOAWAY with `code`, then the end. */
  fail(code: number, message: string): void;
  /** Ends the connection if it is going away and nothing is left in flight. */
  finishIfDrained(): void;
  /** A PING's acknowledgement arrived. */
  pong(payload: Uint8Array): void;
  /**
   * Sends what streams have queued, as the windows now allow: those that
   * waited for the connection's window, or all (the peer's initial window grew).
   */
  flushAll(all: boolean): void;
  /** A client's waiting requests: open those the server's limit now allows. */
  openWaiting(): void;
}
