/**
 * Header blocks as they arrive (RFC 9113 §4.3, §6.2, §6.10, §8): a HEADERS
 * frame's padding and priority fields taken off, CONTINUATIONs gathered
 * into one buffer within a bound (bytes and frames: a CONTINUATION flood
 * ends the connection, ENHANCE_YOUR_CALM), every block decoded (even a
 * refused stream's, so that HPACK's table stays in step), then what the
 * block is: a new stream (a server's, refused past the limits), a
 * response, or trailers.
 *
 * @module
 */

import * as F from "./_frames.ts";
import { type Http2Headers, toHeaders } from "./_headers.ts";
import type { Link } from "./_link.ts";
import { Stream } from "./_stream.ts";
import { Http2ErrorCode as E } from "./errors.ts";

/** What the receiver lends the header blocks. */
export interface BlockHooks {
  /** Whether `id` names a stream never opened. */
  idle(id: number): boolean;
  /** A frame on a closed stream: dropped or a connection error. */
  closed(id: number, type: string): void;
  /** A stream refused: counted against rapid resets. */
  refused(): void;
}

/**
 * The header blocks of one connection.
 *
 * @example Used by the receiver, not on its own
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2Connection } from "./connection.ts";
 *
 * let error: Error | undefined;
 * const server = new Http2Connection("server", { onOutput: () => {}, onClose: (e) => error = e });
 * const preface = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
 * server.receive(preface);
 * server.receive(new Uint8Array([0, 0, 0, 4, 0, 0, 0, 0, 0])); // SETTINGS
 * server.receive(new Uint8Array([0, 0, 1, 1, 5, 0, 0, 0, 1, 0xbe])); // HEADERS: index 62, no table yet
 * assert.match(String(error), /COMPRESSION_ERROR/);
 * ```
 */
export class HeaderBlocks {
  readonly #link: Link;
  readonly #hooks: BlockHooks;
  // A header block spread over CONTINUATIONs.
  #blockStream = 0;
  #blockFlags = 0;
  #blockSelfDependent = false;
  #block = new Uint8Array(0);
  #blockLength = 0;
  #continuations = 0;
  readonly #maxBlock: number;

  /**
   * @param link the connection
   * @param hooks what the receiver lends
   */
  constructor(link: Link, hooks: BlockHooks) {
    this.#link = link;
    this.#hooks = hooks;
    this.#maxBlock = Math.max(link.options.maxHeaderListSize, 16_384) * 2;
  }

  /** Whether a block waits for its CONTINUATIONs (no other frame may come). */
  get open(): boolean {
    return this.#blockStream !== 0;
  }

  /** Bytes of an unfinished block. */
  get buffered(): number {
    return this.#blockLength;
  }

  /** A HEADERS frame. */
  headers(flags: number, id: number, payload: Uint8Array): void {
    const link = this.#link;
    if (id === 0) return link.fail(E.PROTOCOL_ERROR, "HEADERS on stream 0");
    let start = 0;
    let end = payload.length;
    if (flags & F.PADDED) {
      if (end === 0) return link.fail(E.FRAME_SIZE_ERROR, "Padded HEADERS without a pad length");
      end -= payload[0]!;
      start = 1;
    }
    let selfDependent = false;
    if (flags & F.PRIORITY_FLAG) {
      if (end - start < 5) {
        return link.fail(E.FRAME_SIZE_ERROR, "HEADERS too short for its priority");
      }
      selfDependent = (F.u32(payload, start) & 0x7fffffff) === id;
      start += 5;
    }
    if (end < start) return link.fail(E.PROTOCOL_ERROR, "HEADERS padding longer than the frame");
    if (flags & F.END_HEADERS) {
      return this.#headerBlock(
        id,
        (flags & F.END_STREAM) !== 0,
        selfDependent,
        payload,
        start,
        end,
      );
    }
    this.#blockStream = id;
    this.#blockFlags = flags;
    this.#blockSelfDependent = selfDependent;
    this.#blockLength = 0;
    this.#continuations = 0;
    this.#append(payload.subarray(start, end));
  }

  /** A CONTINUATION frame. */
  continuation(flags: number, id: number, payload: Uint8Array): void {
    const link = this.#link;
    if (this.#blockStream === 0 || id !== this.#blockStream) {
      return link.fail(E.PROTOCOL_ERROR, `CONTINUATION on stream ${id} without its HEADERS`);
    }
    if (++this.#continuations > 64 || this.#blockLength + payload.length > this.#maxBlock) {
      return link.fail(
        E.ENHANCE_YOUR_CALM,
        `A header block over ${this.#maxBlock} bytes or 64 CONTINUATION frames`,
      );
    }
    this.#append(payload);
    if ((flags & F.END_HEADERS) === 0) return;
    this.#blockStream = 0;
    const block = this.#block;
    const length = this.#blockLength;
    this.#blockLength = 0;
    if (this.#block.length > 65_536) this.#block = new Uint8Array(0);
    this.#headerBlock(
      id,
      (this.#blockFlags & F.END_STREAM) !== 0,
      this.#blockSelfDependent,
      block,
      0,
      length,
    );
  }

  #append(bytes: Uint8Array): void {
    const need = this.#blockLength + bytes.length;
    if (need > this.#block.length) {
      const grown = new Uint8Array(Math.max(need, this.#block.length * 2, 4096));
      grown.set(this.#block.subarray(0, this.#blockLength));
      this.#block = grown;
    }
    this.#block.set(bytes, this.#blockLength);
    this.#blockLength = need;
  }

  #headerBlock(
    id: number,
    endStream: boolean,
    selfDependent: boolean,
    block: Uint8Array,
    start: number,
    end: number,
  ): void {
    const link = this.#link;
    let fields: string[];
    try {
      fields = link.decoder.decode(block, start, end);
    } catch (error) {
      return link.fail(E.COMPRESSION_ERROR, (error as Error).message);
    }
    const exceeded = link.decoder.exceeded;
    const stream = link.streams.get(id);
    if (stream === undefined) {
      // A stream already closed: its fields only kept HPACK in step.
      if (!this.#hooks.idle(id)) return this.#hooks.closed(id, "HEADERS");
      if (!link.server || (id & 1) === 0) {
        return link.fail(E.PROTOCOL_ERROR, `HEADERS on stream ${id}, which the peer may not open`);
      }
      return this.#newStream(id, fields, endStream, selfDependent, exceeded);
    }
    stream.touched = true;
    if (stream.remoteEnded) {
      return link.streamError(stream, E.STREAM_CLOSED, `HEADERS after END_STREAM on stream ${id}`);
    }
    if (exceeded) {
      return link.streamError(stream, E.PROTOCOL_ERROR, "A header list over maxHeaderListSize");
    }
    if (!link.server && !stream.headersReceived) {
      const headers = toHeaders(fields, "response");
      if (headers === undefined) {
        return link.streamError(stream, E.PROTOCOL_ERROR, `Malformed response on stream ${id}`);
      }
      if (headers[":status"]![0] === "1") {
        // Informational (1xx): the final response is still to come.
        if (endStream) link.streamError(stream, E.PROTOCOL_ERROR, "1xx response ends its stream");
        return;
      }
      stream.received(headers);
      if (endStream) this.#remoteEnd(stream, undefined);
      return;
    }
    const trailers = endStream ? toHeaders(fields, "trailers") : undefined;
    if (trailers === undefined) {
      return link.streamError(stream, E.PROTOCOL_ERROR, `Malformed trailers on stream ${id}`);
    }
    this.#remoteEnd(stream, trailers);
  }

  #newStream(
    id: number,
    fields: string[],
    endStream: boolean,
    selfDependent: boolean,
    exceeded: boolean,
  ): void {
    const link = this.#link;
    link.lastPeerStream = id;
    const refuse = (code: number) => {
      link.sendReset(id, code);
      this.#hooks.refused();
    };
    if (link.goawaySent) return refuse(E.REFUSED_STREAM); // past our GOAWAY's last stream
    if (selfDependent) return refuse(E.PROTOCOL_ERROR);
    if (exceeded) {
      // RFC 9113 §10.5.1: 431, and the rest of the request is not wanted.
      link.writer.headers(
        id,
        link.encoder.encode([":status", "431"]),
        true,
        link.peer.maxFrameSize,
      );
      return refuse(E.NO_ERROR);
    }
    if (link.peerStreams >= link.options.maxConcurrentStreams) return refuse(E.REFUSED_STREAM);
    const headers = toHeaders(fields, "request");
    if (headers === undefined) return refuse(E.PROTOCOL_ERROR);
    const stream = new Stream(link, false);
    stream.id = id;
    stream.sendWindow = link.peer.initialWindow;
    stream.recvWindow = link.options.initialWindowSize;
    link.streams.set(id, stream);
    link.peerStreams++;
    stream.received(headers);
    if (endStream) stream.ended(undefined);
    try {
      link.events.onStream?.(stream);
    } catch (error) {
      if (!stream.done) {
        link.streamError(stream, E.INTERNAL_ERROR, `onStream threw: ${(error as Error)?.message}`);
      }
    }
  }

  #remoteEnd(stream: Stream, trailers: Http2Headers | undefined): void {
    stream.ended(trailers);
    this.#link.maybeDone(stream);
  }
}
