/**
 * The sending half of a connection: the preface and SETTINGS, a client's
 * streams opened within the server's MAX_CONCURRENT_STREAMS, header blocks,
 * and each stream's queued body sent as the peer's windows allow (the
 * stream's and the connection's; a stream held back by the connection's
 * window waits in a set until a WINDOW_UPDATE on stream 0), then its end:
 * END_STREAM on the last DATA, or trailers.
 *
 * @module
 */

import { PREFACE } from "./_frames.ts";
import type { Link } from "./_link.ts";
import {
  DEFAULT_WINDOW,
  ENABLE_PUSH,
  INITIAL_WINDOW_SIZE,
  MAX_CONCURRENT_STREAMS,
  MAX_HEADER_LIST_SIZE,
} from "./_settings.ts";
import type { Stream } from "./_stream.ts";
import { ConnectionClosedError } from "../../rpc/errors.ts";
import { Http2ErrorCode as E } from "./errors.ts";

const EMPTY = new Uint8Array(0);
const MAX_STREAM_ID = 0x7fffffff;

/**
 * What a connection sends.
 *
 * @example Used by the connection, not on its own
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2Connection } from "./connection.ts";
 *
 * const client = new Http2Connection("client", { onOutput: () => {} });
 * const preface = client.takeOutput();
 * assert.equal(new TextDecoder().decode(preface.subarray(0, 24)), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
 * client.destroy();
 * ```
 */
export class Sender {
  readonly #link: Link;
  /** Streams with bytes queued that wait for the connection's window. */
  readonly #blocked = new Set<Stream>();

  /** @param link the connection */
  constructor(link: Link) {
    this.#link = link;
  }

  /** The preface (a client's), our SETTINGS, and the connection's window raised. */
  start(): void {
    const { writer, options, server } = this.#link;
    if (!server) writer.raw(PREFACE);
    const settings = server
      ? [MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams]
      : [ENABLE_PUSH, 0];
    if (options.initialWindowSize !== DEFAULT_WINDOW) {
      settings.push(INITIAL_WINDOW_SIZE, options.initialWindowSize);
    }
    settings.push(MAX_HEADER_LIST_SIZE, options.maxHeaderListSize);
    writer.settings(settings);
    if (options.connectionWindowSize > DEFAULT_WINDOW) {
      writer.windowUpdate(0, options.connectionWindowSize - DEFAULT_WINDOW);
    }
    this.#link.wake();
  }

  /** A server's response headers (or trailers-only reply, with `endStream`). */
  headers(stream: Stream, fields: string[], endStream: boolean): void {
    const link = this.#link;
    const block = link.encoder.encode(fields);
    link.writer.headers(stream.id, block, endStream, link.peer.maxFrameSize);
    link.wake();
    if (endStream) {
      stream.endSent = true;
      this.#ended(stream);
    }
  }

  /** Opens the client's waiting requests that the server's limit allows, in order. */
  openWaiting(): void {
    const link = this.#link;
    while (
      link.waiting.length > 0 && link.localStreams < link.peer.maxStreams && !link.closed &&
      link.goawayReceived < 0
    ) {
      this.#open(link.waiting.shift()!);
    }
  }

  #open(stream: Stream): void {
    const link = this.#link;
    const id = link.nextStreamId;
    if (id > MAX_STREAM_ID) {
      // Stream ids are used up: this connection drains, the next request needs another.
      link.waiting.unshift(stream);
      link.closeStream(
        stream,
        new ConnectionClosedError("The HTTP/2 connection's stream ids ran out"),
      );
      return;
    }
    link.nextStreamId += 2;
    stream.id = id;
    stream.sendWindow = link.peer.initialWindow;
    stream.recvWindow = link.options.initialWindowSize;
    link.streams.set(id, stream);
    link.localStreams++;
    const endStream = stream.endQueued && stream.outBytes === 0 &&
      stream.trailersOut === undefined;
    const block = link.encoder.encode(stream.requestFields!);
    stream.requestFields = undefined;
    link.writer.headers(id, block, endStream, link.peer.maxFrameSize);
    link.wake();
    if (endStream) stream.endSent = true;
    else this.flush(stream);
  }

  /** Sends what `stream` has queued, as far as the windows allow, and its end when due. */
  flush(stream: Stream): void {
    const link = this.#link;
    if (stream.id === 0 || stream.done || stream.endSent) return;
    const writer = link.writer;
    let wrote = false;
    while (stream.outBytes > 0) {
      const room = Math.min(stream.sendWindow, link.connSendWindow);
      if (room <= 0) {
        if (link.connSendWindow <= 0 && stream.sendWindow > 0) this.#blocked.add(stream);
        break;
      }
      const chunk = stream.out[stream.outHead]!;
      const left = chunk.length - stream.outOffset;
      const n = Math.min(room, left, link.peer.maxFrameSize);
      const last = n === left && stream.outHead === stream.out.length - 1;
      const endHere = last && stream.endQueued && stream.trailersOut === undefined;
      writer.data(stream.id, chunk, stream.outOffset, stream.outOffset + n, endHere);
      wrote = true;
      stream.sendWindow -= n;
      link.connSendWindow -= n;
      stream.outBytes -= n;
      if (n === left) {
        stream.out[stream.outHead++] = EMPTY;
        stream.outOffset = 0;
        if (stream.outHead === stream.out.length) {
          stream.out.length = 0;
          stream.outHead = 0;
        }
      } else {
        stream.outOffset += n;
      }
      if (endHere) stream.endSent = true;
    }
    if (stream.outBytes === 0 && stream.endQueued && !stream.endSent) {
      if (stream.trailersOut !== undefined) {
        const block = link.encoder.encode(stream.trailersOut);
        writer.headers(stream.id, block, true, link.peer.maxFrameSize);
      } else {
        writer.data(stream.id, EMPTY, 0, 0, true);
      }
      stream.endSent = true;
      wrote = true;
    }
    if (wrote) link.wake();
    stream.writable();
    if (stream.endSent) this.#ended(stream);
  }

  /** After a WINDOW_UPDATE on the connection, or a larger initial window: send what waited. */
  flushAll(all: boolean): void {
    const streams = all ? [...this.#link.streams.values()] : [...this.#blocked];
    this.#blocked.clear();
    for (const stream of streams) {
      if (stream.outBytes > 0 || (stream.endQueued && !stream.endSent)) this.flush(stream);
    }
  }

  /** A stream is gone: it waits for nothing. */
  forget(stream: Stream): void {
    this.#blocked.delete(stream);
  }

  // This side has ended its stream. A server that answered before the
  // request's end tells the client to stop sending (RST_STREAM NO_ERROR,
  // RFC 9113 §8.1); otherwise the stream closes once the peer ends too.
  #ended(stream: Stream): void {
    const link = this.#link;
    if (link.server && !stream.remoteEnded && !stream.done) {
      link.sendReset(stream.id, E.NO_ERROR);
      link.closeStream(stream, undefined);
      return;
    }
    link.maybeDone(stream);
  }
}
