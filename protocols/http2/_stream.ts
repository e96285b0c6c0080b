/**
 * The stream object behind {@linkcode Http2Stream}: its state both ways
 * (public fields, read and written by the connection in connection.ts, not
 * part of the public type) and the application-facing methods, which call
 * the connection through a small {@linkcode StreamHost}.
 *
 * Nothing here allocates per chunk beyond the chunk itself: the inbox is an
 * array with a head index, the AbortController and the `response` promise
 * are made only when asked for.
 *
 * @module
 */

import { flatten, type Http2Headers, type Http2HeadersInit } from "./_headers.ts";
import { Http2ErrorCode } from "./errors.ts";
import type { Http2Stream } from "./stream.ts";

/** What a stream asks of its connection. */
export interface StreamHost {
  /** Sends the stream's HEADERS (a server's response). */
  respond(stream: Stream, fields: string[], endStream: boolean): void;
  /** Sends what is queued, as the windows allow, and the end when due. */
  flush(stream: Stream): void;
  /** Resets the stream and closes it. */
  reset(stream: Stream, code: number): void;
  /** The application has read `bytes` of the stream's body: credit them. */
  consumed(stream: Stream, bytes: number): void;
  /** Whether the socket's output is over its high-water mark. */
  readonly backedUp: boolean;
  /** Resolves when the socket's output drains. */
  drained(): Promise<void>;
}

const EMPTY_HEADERS: Http2Headers = Object.freeze(Object.create(null));
/** Bytes queued on a stream past which `write()` asks the writer to wait. */
export const STREAM_HIGH_WATER = 65_536;

/**
 * One stream's state and the application's handle on it.
 *
 * @example Streams come from a connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2Connection } from "./connection.ts";
 *
 * const client = new Http2Connection("client", { onOutput: () => {} });
 * const stream = client.request({ ":method": "GET", ":path": "/" }, { endStream: true });
 * assert.equal(stream.id, 0); // opened once the server's SETTINGS say how many streams it takes
 * client.destroy();
 * ```
 */
export class Stream implements Http2Stream {
  id = 0;
  readonly host: StreamHost;
  /** Opened by this side. */
  readonly local: boolean;
  headers: Http2Headers = EMPTY_HEADERS;
  trailers: Http2Headers | undefined;
  /** The final headers have arrived (a client's response, a server's request). */
  headersReceived = false;
  remoteEnded = false;
  headersSent = false;
  /** `end()` was called: the end goes after the queue. */
  endQueued = false;
  endSent = false;
  trailersOut: string[] | undefined;
  /** A client's request headers, until a slot opens. */
  requestFields: string[] | undefined;
  /** Both sides done, or reset: the connection has let go of it. */
  done = false;
  error: Error | undefined;
  /** Frames arrived since the last idle sweep. */
  touched = true;

  // Sending.
  sendWindow = 0;
  readonly out: Uint8Array[] = [];
  outHead = 0;
  outOffset = 0;
  outBytes = 0;

  // Receiving.
  recvWindow = 0;
  /** Bytes read by the application and not yet credited to the peer. */
  unacked = 0;
  inbox: Uint8Array[] = [];
  inboxHead = 0;
  inboxBytes = 0;

  #readWaiter: PromiseWithResolvers<Uint8Array | null> | undefined;
  #response: PromiseWithResolvers<Http2Headers> | undefined;
  #drain: PromiseWithResolvers<void> | undefined;
  #controller: AbortController | undefined;

  /**
   * @param host its connection
   * @param local whether this side opened it
   */
  constructor(host: StreamHost, local: boolean) {
    this.host = host;
    this.local = local;
  }

  get closed(): boolean {
    return this.done;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.error !== undefined) this.#controller.abort(this.error);
    }
    return this.#controller.signal;
  }

  get response(): Promise<Http2Headers> {
    if (this.#response === undefined) {
      this.#response = Promise.withResolvers();
      if (this.headersReceived) this.#response.resolve(this.headers);
      else if (this.error !== undefined) this.#response.reject(this.error);
      else if (this.done) this.#response.reject(new Error("The stream ended without headers"));
    }
    return this.#response.promise;
  }

  read(): Promise<Uint8Array | null> {
    if (this.inboxHead < this.inbox.length) return Promise.resolve(this.#take());
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.remoteEnded) return Promise.resolve(null);
    this.#readWaiter ??= Promise.withResolvers();
    return this.#readWaiter.promise;
  }

  async *[Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    let finished = false;
    try {
      for (;;) {
        const chunk = await this.read();
        if (chunk === null) {
          finished = true;
          return;
        }
        yield chunk;
      }
    } finally {
      if (!finished && !this.done) this.reset(Http2ErrorCode.CANCEL);
    }
  }

  respond(headers: Http2HeadersInit, options: { readonly endStream?: boolean } = {}): void {
    if (this.local) throw new TypeError("respond() is for a server's streams");
    if (this.headersSent) throw new TypeError(`Stream ${this.id} has sent its headers already`);
    if (this.done) return;
    const fields = flatten(headers, [], true);
    this.headersSent = true;
    if (options.endStream) this.endQueued = true;
    this.host.respond(this, fields, options.endStream ?? false);
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.endQueued) throw new TypeError(`Stream ${this.id} has ended: write() after end()`);
    if (!this.headersSent) throw new TypeError("respond() before write()");
    if (this.done || chunk.length === 0) return undefined;
    this.out.push(chunk);
    this.outBytes += chunk.length;
    this.host.flush(this);
    if (this.done) return undefined;
    if (this.outBytes > STREAM_HIGH_WATER) {
      this.#drain ??= Promise.withResolvers();
      return this.#drain.promise;
    }
    return this.host.backedUp ? this.host.drained() : undefined;
  }

  end(trailers?: Http2HeadersInit): void {
    if (!this.headersSent) throw new TypeError("respond() before end()");
    if (this.endQueued || this.done) return;
    this.endQueued = true;
    if (trailers !== undefined) this.trailersOut = flatten(trailers, [], false);
    this.host.flush(this);
  }

  reset(code: number = Http2ErrorCode.CANCEL): void {
    if (!this.done) this.host.reset(this, code);
  }

  // ---- called by the connection ----

  /** A chunk of body arrived (a copy the stream owns). */
  deliver(chunk: Uint8Array): void {
    this.inbox.push(chunk);
    this.inboxBytes += chunk.length;
    const waiter = this.#readWaiter;
    if (waiter !== undefined) {
      this.#readWaiter = undefined;
      waiter.resolve(this.#take());
    }
  }

  /** The peer ended its side, with trailers or without. */
  ended(trailers: Http2Headers | undefined): void {
    this.remoteEnded = true;
    this.trailers = trailers;
    const waiter = this.#readWaiter;
    if (waiter !== undefined && this.inboxHead >= this.inbox.length) {
      this.#readWaiter = undefined;
      waiter.resolve(null);
    }
  }

  /** The response's (or the request's) final headers arrived. */
  received(headers: Http2Headers): void {
    this.headers = headers;
    this.headersReceived = true;
    this.#response?.resolve(headers);
  }

  /** There is room to write again. */
  writable(): void {
    const drain = this.#drain;
    if (drain !== undefined && (this.outBytes <= STREAM_HIGH_WATER || this.done)) {
      this.#drain = undefined;
      drain.resolve();
    }
  }

  /** The stream ended early: everything waiting learns why. */
  fail(error: Error): void {
    this.error = error;
    this.remoteEnded = true;
    this.#controller?.abort(error);
    this.#response?.reject(error);
    this.#readWaiter?.reject(error);
    this.#readWaiter = undefined;
    this.writable();
  }

  /** The stream closed normally: a response never received rejects. */
  finished(): void {
    if (!this.headersReceived && this.#response !== undefined) {
      this.#response.reject(new Error("The stream ended without headers"));
    }
    // A server that answered early stopped the body: what came is all there is.
    if (!this.remoteEnded) this.ended(undefined);
    this.writable();
  }

  #take(): Uint8Array {
    const chunk = this.inbox[this.inboxHead]!;
    this.inbox[this.inboxHead++] = undefined as unknown as Uint8Array;
    if (this.inboxHead === this.inbox.length) {
      this.inbox.length = 0;
      this.inboxHead = 0;
    }
    this.inboxBytes -= chunk.length;
    this.host.consumed(this, chunk.length);
    return chunk;
  }
}
