/**
 * A peer's incoming side: reading frames, decoding them and routing each
 * message (a call to serve, a reply to settle, a cancellation, an error
 * about the connection), and answering bad frames.
 *
 * @module
 */

import { type AnswerSettings, encodeReply, undecodableReply } from "../answer.ts";
import { DecodeError, ErrorCode, FrameSizeError, ProtocolError, RpcError } from "../errors.ts";
import type { PendingCalls } from "../pending.ts";
import type {
  Codec,
  Frame,
  RpcFailure,
  RpcId,
  RpcInvalid,
  RpcMessage,
  RpcNotification,
  RpcStreamEvent,
} from "../types.ts";
import { STREAM_EVENT } from "../types.ts";
import type { IncomingCalls } from "./_incoming.ts";
import type { StreamTable } from "./_streams.ts";
import type { PeerOptions } from "./options.ts";
import type { Outbox } from "./_outbox.ts";
import type { DirectFrames } from "../_direct.ts";

/** What an {@linkcode Inbox} routes messages to: the rest of its peer. */
export interface InboxParts {
  /** The connection's codec instance. */
  readonly codec: Codec;
  /** How replies are encoded and errors reported. */
  readonly answering: AnswerSettings;
  /** Where replies go. */
  readonly outbox: Outbox;
  /** The outgoing calls, settled by replies. */
  readonly pending: PendingCalls;
  /** The incoming calls, served and cancelled. */
  readonly incoming: IncomingCalls;
  /** Told about notifications that the service does not handle. */
  readonly onNotification: PeerOptions["onNotification"];
  /** The connection's streams, when its codec carries them. */
  readonly streams?: StreamTable | undefined;
  /** Ends the connection: a frame that cannot be read or answered. */
  readonly end: (reason: unknown) => void;
}

/**
 * The reading side of one connection.
 *
 * @example A call read from the stream is answered through the outbox
 * ```ts
 * import assert from "node:assert/strict";
 * import { Inbox } from "./_inbox.ts";
 * import { IncomingCalls } from "./_incoming.ts";
 * import { Outbox } from "./_outbox.ts";
 * import { PendingCalls } from "../pending.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * const written: unknown[] = [];
 * const writer = new WritableStream<unknown>({ write: (chunk) => void written.push(chunk) })
 *   .getWriter();
 * const answering = { expose: false, onError: () => {} };
 * const inbox = new Inbox({
 *   codec: jsonRpc(),
 *   answering,
 *   outbox: new Outbox(writer, 1024, () => {}),
 *   pending: new PendingCalls(8),
 *   incoming: new IncomingCalls({ add: (x: number, y: number) => x + y }, 8, answering),
 *   onNotification: undefined,
 *   end: () => {},
 * });
 * const frames = ReadableStream.from(['{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}']);
 * assert.equal(await inbox.read(frames), undefined);
 * await writer.ready;
 * await new Promise((resolve) => setTimeout(resolve, 0));
 * assert.deepEqual(JSON.parse(String(written[0])), { jsonrpc: "2.0", id: 1, result: 3 });
 * ```
 */
export class Inbox {
  readonly #codec: Codec;
  readonly #answering: AnswerSettings;
  readonly #outbox: Outbox;
  readonly #pending: PendingCalls;
  readonly #incoming: IncomingCalls;
  readonly #onNotification: PeerOptions["onNotification"];
  readonly #streams: StreamTable | undefined;
  readonly #end: (reason: unknown) => void;
  #stopped = false;
  #peerError: RpcError | undefined;

  /**
   * Wires the reading side to the rest of its peer.
   *
   * @param parts where messages go
   */
  constructor(parts: InboxParts) {
    this.#codec = parts.codec;
    this.#answering = parts.answering;
    this.#outbox = parts.outbox;
    this.#pending = parts.pending;
    this.#incoming = parts.incoming;
    this.#onNotification = parts.onNotification;
    this.#streams = parts.streams;
    this.#end = parts.end;
  }

  /**
   * The other end's last error not about any one call (id null): the likely
   * cause of what follows, such as the connection closing.
   */
  get peerError(): RpcError | undefined {
    return this.#peerError;
  }

  /** Stops reading and answering: the connection is ending. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Reads the stream until it ends, handling each frame as it comes.
   *
   * @param source the connection's frames: a stream of one chunk or an
   * array of them at a time ({@linkcode Inbox.readBatches} reads a
   * connection that offers them without a stream)
   * @returns why reading ended: the stream's error, the other end's last
   * general error, or `undefined` for a clean end
   */
  async read(source: ReadableStream<Frame | readonly Frame[]>): Promise<unknown> {
    let reason: unknown;
    try {
      for await (const chunk of source) {
        if (!(await this.#take(chunk))) break;
      }
    } catch (error) {
      reason = error;
      this.#answering.onError(error);
      await this.#reportFatal(error);
    }
    return reason ?? this.#peerError;
  }

  // The batches, read in a promise chain rather than an async loop: a
  // connection waits for its next batch most of its life, and a suspended
  // async frame (with the last batch still in its registers) costs memory.
  /**
   * Reads a connection's batches until they end, as {@linkcode Inbox.read}
   * does, then tells `done` why, rather than settling a promise: one object
   * fewer for each connection, which waits here most of its life.
   *
   * @param source the batches of a connection that offers them without a stream
   * @param done told once why reading ended: the framing's error, the other
   * end's last general error, or `undefined` for a clean end
   */
  readBatches(source: DirectFrames, done: (reason: unknown) => void): void {
    const failed = (error: unknown): void => {
      this.#answering.onError(error);
      this.#reportFatal(error).then(() => done(error));
    };
    const taken = (more: boolean): void => {
      if (more) next();
      else done(this.#peerError);
    };
    const took = (batch: readonly Frame[] | null): void => {
      if (batch === null) return done(this.#peerError);
      let more;
      try {
        more = this.#take(batch);
      } catch (error) {
        return failed(error);
      }
      if (typeof more === "boolean") taken(more);
      else more.then(taken, failed);
    };
    // Told a read's outcome straight from the socket read's reaction, when
    // the source can (framedStream's): no promise of ours per read.
    const receiver = { framesRead: took, readFailed: failed };
    const next = (): void => {
      if (source.readTo !== undefined) return source.readTo(receiver);
      let reading;
      try {
        reading = source.read();
      } catch (error) {
        return failed(error);
      }
      reading.then(took, failed);
    };
    next();
  }

  // Handles one read's frames; false once the connection is ending.
  #take(chunk: Frame | readonly Frame[]): boolean | Promise<boolean> {
    // A peer that does not read its replies gets no more served until it does.
    if (this.#outbox.isOverBudget && !this.#stopped) {
      return this.#outbox.underBudget().then(() => this.#receiveAll(chunk));
    }
    return this.#receiveAll(chunk);
  }

  #receiveAll(chunk: Frame | readonly Frame[]): boolean {
    if (typeof chunk === "string" || chunk instanceof Uint8Array) {
      if (this.#stopped) return false;
      this.#receive(chunk);
      return true;
    }
    for (const frame of chunk) {
      if (this.#stopped) return false;
      this.#receive(frame);
    }
    return true;
  }

  // A framing error ends the connection; tell the other end why first.
  async #reportFatal(error: unknown): Promise<void> {
    if (this.#stopped || !this.#codec.features.replyToParseError) return;
    const code = error instanceof FrameSizeError ? ErrorCode.InvalidRequest : ErrorCode.ParseError;
    if (!(error instanceof FrameSizeError || error instanceof DecodeError)) return;
    try {
      await this.#outbox.write(
        this.#codec.encode({ kind: "error", id: null, error: { code, message: error.message } }),
      );
    } catch {
      // The other end is gone already; nothing more to tell it.
    }
  }

  #receive(frame: Frame): void {
    let decoded;
    try {
      decoded = this.#codec.decode(frame);
    } catch (error) {
      this.#answering.onError(error);
      if (!this.#codec.features.replyToParseError) {
        this.#end(error);
        return;
      }
      this.#reply(undecodableReply(error));
      return;
    }
    if (decoded.kind !== "batch") {
      this.#handle(decoded, this.#respond);
      return;
    }
    // A batch is answered with one frame once every member has its reply.
    const replies: RpcMessage[] = [];
    let waiting = decoded.messages.length;
    const collect = (reply: RpcMessage | undefined): void => {
      if (reply !== undefined) replies.push(reply);
      if (--waiting === 0 && replies.length > 0) this.#reply(replies);
    };
    for (const message of decoded.messages) this.#handle(message, collect);
  }

  readonly #respond = (reply: RpcMessage | undefined): void => {
    if (reply !== undefined) this.#reply(reply);
  };

  #reply(message: RpcMessage | RpcMessage[]): void {
    if (this.#stopped) return;
    let frame: Frame;
    try {
      frame = encodeReply(this.#codec, message, this.#answering);
    } catch (error) {
      // Not even an error under id null encodes: a reply that cannot be
      // given ends this connection (its callers learn it), never the process.
      this.#answering.onError(error);
      this.#end(error);
      return;
    }
    this.#outbox.write(frame);
  }

  // Handles one message; `respond` is called exactly once, with the reply
  // to send or `undefined` when there is none.
  #handle(
    message: RpcMessage | RpcInvalid,
    respond: (reply: RpcMessage | undefined) => void,
  ): void {
    switch (message.kind) {
      case "request":
        this.#incoming.serve(message.id, message.method, message.params, respond, message.meta);
        return;
      case "notification":
        this.#notification(message);
        break;
      case "result":
        this.#settle(message.id)?.resolve(message.result);
        break;
      case "error":
        this.#failure(message);
        break;
      case "invalid":
        this.#answering.onError(new ProtocolError(`Invalid message: ${message.error.message}`));
        if (message.inReplyTo !== undefined) {
          this.#settle(message.inReplyTo)?.reject(
            new ProtocolError(`The peer sent a malformed reply: ${message.error.message}`),
          );
        }
        if (message.id !== undefined) {
          respond({ kind: "error", id: message.id, error: message.error });
          return;
        }
    }
    respond(undefined);
  }

  #settle(id: RpcId) {
    const call = this.#pending.settle(id);
    if (call === undefined) {
      this.#answering.onError(new ProtocolError(`Reply to unknown call id ${JSON.stringify(id)}`));
    }
    return call;
  }

  #failure(message: RpcFailure): void {
    const error = RpcError.from(message.error);
    if (message.id === null) {
      // Not about any one call: remember it as the likely cause of what follows.
      this.#peerError = error;
      this.#answering.onError(error);
    } else {
      this.#settle(message.id)?.reject(error);
    }
  }

  #notification(message: RpcNotification): void {
    if (this.#streams !== undefined && message.method === STREAM_EVENT) {
      this.#streams.receive(message.params as unknown as RpcStreamEvent);
      return;
    }
    const cancelled = this.#codec.readCancellation?.(message);
    if (cancelled !== undefined) {
      this.#incoming.cancel(cancelled);
      return;
    }
    if (!this.#incoming.handles(message.method)) {
      this.#onNotification?.(message.method, message.params);
      return;
    }
    this.#incoming.serve(
      undefined,
      message.method,
      message.params,
      this.#reportFailure,
      message.meta,
    );
  }

  // A notification's outcome has nowhere to go but the error hook.
  readonly #reportFailure = (reply: RpcMessage | undefined): void => {
    if (reply?.kind === "error") this.#answering.onError(RpcError.from(reply.error));
  };
}
