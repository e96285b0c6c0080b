/**
 * A message stream over an open standard `WebSocket` (client or server
 * side): one WebSocket message per frame, limits, backpressure, close codes
 * that say why. Portable.
 *
 * @module
 */

import { ConnectionClosedError, DecodeError, FrameSizeError, LimitError } from "../../errors.ts";
import { DEFAULT_LIMITS } from "../../limits.ts";
import type { Frame, MessageStream } from "../../types.ts";
import { type DirectFrames, offerDirectFrames, offerDirectWrites } from "../../_direct.ts";
import { CloseCode, closedBy, closeReason, TIMEOUT_LIMITS } from "./_close.ts";

export { CloseCode } from "./_close.ts";

/** Options of {@linkcode webSocketStream}. */
export interface WebSocketStreamOptions {
  /** Largest message accepted, in bytes (UTF-16 units for text); 16 MiB by default. */
  readonly maxMessageSize?: number;
  /**
   * Sending waits while this many bytes are queued in the socket, and
   * messages received but not yet read past this many bytes pause the socket
   * (where it can pause); 1 MiB by default.
   */
  readonly highWaterMark?: number;
  /** Whether the codec reads text (a binary codec's socket refuses text messages). */
  readonly text?: boolean;
  /** Describes the remote end, for errors. */
  readonly remote?: string;
  /**
   * Stops the socket reading from the network, so that a session that stops
   * reading (its replies are not being read) stops the sender in turn. The
   * standard `WebSocket` cannot; the `ws` package's sockets can. By default
   * the socket's own `pause()`, when it has one (the `ws` package's client,
   * as `nodeWebSocket` gives it).
   */
  readonly pause?: () => void;
  /** Undoes {@linkcode WebSocketStreamOptions.pause}; by default the socket's own `resume()`. */
  readonly resume?: () => void;
  /**
   * Holds the socket's writes while the frames of one chunk are sent, so
   * that they leave in one write (the `ws` package's socket, corked). By
   * default the socket's own `cork()`, when it has one (the class of
   * `nodeWebSocket`).
   */
  readonly cork?: () => void;
  /** Undoes {@linkcode WebSocketStreamOptions.cork}: the held writes leave. */
  readonly uncork?: () => void;
  /** Called on each message received or sent (idle timers). */
  readonly onActivity?: () => void;
}

/**
 * A message stream over an open WebSocket. A message over `maxMessageSize`
 * closes the socket with 1009, a text message for a binary codec with 1003;
 * closing the stream for a frame the codec cannot read uses 1007, for an
 * idle or silent connection (`LimitError` of `idleTimeout`,
 * `firstFrameTimeout`) 1001, for a limit 1009, for any other failure 1011,
 * and 1000 otherwise. Sending waits while more than `highWaterMark` bytes
 * are queued, so a peer that reads slowly slows the sender down instead of
 * growing its memory; with `pause` and `resume`, a session that stops
 * reading pauses the socket.
 *
 * Nothing the socket does reaches the caller as an exception: a message
 * that arrives after the session stopped reading (it failed, or closed) is
 * dropped and the socket closed, never enqueued into a closed stream.
 *
 * @param socket an open WebSocket (client or server side)
 * @param options limits and the codec's kind
 * @returns the message stream, for a {@linkcode Peer}
 *
 * @example A peer over a standard WebSocket, against a serveHttp route
 * ```ts
 * import assert from "node:assert/strict";
 * import { webSocketStream } from "./stream.ts";
 * import { serveHttp } from "../http.ts";
 * import { Peer } from "../../peer.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * await using server = serveHttp({
 *   routes: {
 *     "/rpc": { codec: jsonRpc(), service: { add: (a: number, b: number) => a + b }, websocket: true },
 *   },
 * });
 * const socket = new WebSocket(`${server.url.replace("http", "ws")}/rpc`);
 * await new Promise((resolve) => socket.addEventListener("open", resolve, { once: true }));
 * const peer = new Peer(webSocketStream(socket, { maxMessageSize: 1 << 20 }), { codec: jsonRpc() });
 * assert.equal(await peer.call("add", [1, 2]), 3);
 * await peer.close();
 * ```
 */
export function webSocketStream(
  socket: WebSocket,
  options: WebSocketStreamOptions = {},
): MessageStream {
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_LIMITS.maxFrameSize;
  const highWaterMark = options.highWaterMark ?? 1024 * 1024;
  const text = options.text ?? true;
  const onActivity = options.onActivity;
  // A socket that can hold its writes, or stop reading, itself (the `ws`
  // package's, nodeWebSocket's), unless told otherwise. (The standard
  // WebSocket has none of the four; `ws`'s has all.)
  const own = (name: "cork" | "uncork" | "pause" | "resume") => {
    const method = (socket as unknown as Partial<Record<string, () => void>>)[name];
    return options[name] ?? (typeof method === "function" ? () => method.call(socket) : undefined);
  };
  const cork = own("cork");
  const uncork = own("uncork");
  const pause = own("pause");
  const resume = own("resume");
  // Binary messages as bytes, not Blobs. A socket that already hands out
  // byte views (the `ws` package's, "nodebuffer") is left as it is: its
  // views are used in place, where an ArrayBuffer would be a copy of each
  // message (a tenth of parley's WebSocket server's time with msgpack-rpc).
  if ((socket.binaryType as string) !== "nodebuffer") socket.binaryType = "arraybuffer";
  let failure: Error | undefined;
  // Set once the session stopped reading for good: what arrives is dropped.
  let ended = false;
  // Set once the socket has closed: reading ends after what is queued.
  let closed = false;
  let paused = false;
  // Messages received and not yet read, and their size: a batch for the
  // session's next read. A read takes them all at once, so a socket read that
  // brought many messages costs the session one promise, not one per message.
  let queue: Frame[] = [];
  let unread = 0;
  // The session's read waiting for a message, if any.
  let waiting: (() => void) | undefined;
  // Whether the socket's writes are held (corked) until the session has
  // answered what it has been given, and the timer that lets them go if it
  // does not read on.
  let held = false;
  let release: ReturnType<typeof setTimeout> | undefined;

  // The standard API (browsers, Deno's client) accepts only 1000 and
  // 3000–4999 and throws on the rest (1009 among them): such a socket closes
  // with 1000 and the reason instead, so that the other end still learns why.
  const closeWith = (code: number, reason: string): void => {
    const said = closeReason(reason);
    try {
      socket.close(code, said);
    } catch {
      try {
        socket.close(CloseCode.Normal, said);
      } catch {
        // Closed already.
      }
    }
  };

  // Reading ends with `error` once what came before it is read, whenever
  // the socket's close event comes (if it ever does).
  const refuse = (error: Error, code: number, reason: string): void => {
    failure ??= error;
    closeWith(code, reason);
    wake();
  };

  const unpause = (): void => {
    paused = false;
    try {
      resume?.();
    } catch {
      // The socket is gone; its close event ends reading.
    }
  };

  const wake = (): void => {
    const wakeUp = waiting;
    waiting = undefined;
    wakeUp?.();
  };

  const enqueue = (frame: Frame): void => {
    queue.push(frame);
    unread += frame.length;
    onActivity?.();
    if (pause !== undefined && !paused && unread >= highWaterMark) {
      paused = true;
      pause();
    }
    wake();
  };

  // What has arrived since the last read, all of it; null once the socket
  // has closed and everything is read.
  const take = (): readonly Frame[] | null => {
    if (queue.length === 0) {
      if (failure !== undefined) throw failure;
      return null;
    }
    const batch = queue;
    queue = [];
    unread = 0;
    if (paused && !ended) unpause();
    return batch;
  };

  const direct: DirectFrames = {
    read() {
      if (queue.length > 0 || closed || ended || failure !== undefined) {
        try {
          return Promise.resolve(ended ? null : take());
        } catch (error) {
          return Promise.reject(error);
        }
      }
      // Taken a turn after the first message's event, not in it: the
      // messages the socket delivers in the same turn (one network read of
      // many) join the batch.
      return new Promise<void>((resolve) => waiting = resolve).then(() => ended ? null : take());
    },
  };

  socket.addEventListener("message", (event) => {
    // A listener that throws would be an uncaught exception: the process
    // dies. Whatever arrives, this one does not throw.
    try {
      if (ended || closed) return;
      const data = event.data;
      if (typeof data === "string") {
        if (!text) {
          const error = new DecodeError("websocket", "a text message for a binary codec");
          return refuse(error, CloseCode.UnsupportedData, "binary messages only");
        }
        if (data.length > maxMessageSize) {
          const error = new FrameSizeError(data.length, maxMessageSize);
          return refuse(error, CloseCode.MessageTooBig, `over ${maxMessageSize} bytes`);
        }
        return enqueue(data);
      }
      // A plain Uint8Array over a view's bytes: a Node Buffer's slice() would
      // not copy, and codecs take slice() to copy.
      const bytes = ArrayBuffer.isView(data)
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data as ArrayBuffer);
      if (bytes.length > maxMessageSize) {
        const error = new FrameSizeError(bytes.length, maxMessageSize);
        return refuse(error, CloseCode.MessageTooBig, `over ${maxMessageSize} bytes`);
      }
      enqueue(bytes);
    } catch (error) {
      refuse(error as Error, CloseCode.InternalError, "cannot read this message");
    }
  });
  socket.addEventListener("close", (event) => {
    if (closed) return;
    closed = true;
    failure ??= closedBy(event as CloseEvent);
    wake();
  });

  // The same messages as a stream, for a reader that does not take the
  // batches: pulled a batch at a time.
  const readable = new ReadableStream<Frame>({
    async pull(controller) {
      const batch = await direct.read();
      if (batch === null) return controller.close();
      for (const frame of batch) controller.enqueue(frame);
    },
    cancel() {
      // The session stopped reading for good: what still arrives is dropped.
      ended = true;
      queue = [];
      unread = 0;
      // Read on (dropping what comes), so that the closing handshake is read.
      if (paused) unpause();
    },
  }, { highWaterMark: 0 });

  const letGo = (): void => {
    clearTimeout(release);
    release = undefined;
    held = false;
    uncork?.();
  };

  // Sends the frames of one chunk together (one socket write where the
  // socket can batch them), in order; the promise settles once the socket's
  // queue is back under the mark. What waits there is bounded by the peer's
  // byte budget (maxQueuedBytes), which counts a write's bytes until then.
  // While messages the session has not read yet wait (they came in the same
  // read as those it answers now), the writes stay held: their replies
  // leave together, in one socket write, instead of one write per reply (a
  // write is a system call, the largest cost per message). The reply to the
  // last of them lets all go; a session that stops reading lets them go
  // after one timer turn.
  const send = (chunk: Frame | readonly Frame[]): Promise<void> => {
    if (socket.readyState !== WebSocket.OPEN) {
      if (held) letGo();
      return Promise.reject(
        new ConnectionClosedError("The WebSocket is closed", { cause: failure }),
      );
    }
    if (!held && cork !== undefined) {
      held = true;
      cork();
    }
    try {
      const frames = typeof chunk === "string" || chunk instanceof Uint8Array ? [chunk] : chunk;
      for (const frame of frames) socket.send(frame as string | Uint8Array<ArrayBuffer>);
    } catch (error) {
      return Promise.reject(error);
    } finally {
      if (held) {
        if (unread <= 0 || ended || closed) letGo();
        else release ??= setTimeout(letGo, 0);
      }
    }
    onActivity?.();
    return socket.bufferedAmount > highWaterMark ? drained() : Promise.resolve();
  };

  const drained = async (): Promise<void> => {
    while (socket.bufferedAmount > highWaterMark && socket.readyState === WebSocket.OPEN) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  const writable = new WritableStream<Frame | readonly Frame[]>({ write: send });
  // The peer's outbox, which gathers a turn's frames itself, writes past the
  // WritableStream: its promises and ticks per batch are a visible share of
  // a small call (a read or two of the standard client carry one call each).
  // Ending the writing direction is nothing of its own on a WebSocket (the
  // stream's close() closes the socket), as closing the writable is.
  const writes = { write: send, close: () => Promise.resolve() };
  offerDirectWrites(writable, writes);

  const stream = offerDirectFrames({
    readable,
    writable,
    remote: options.remote ?? socket.url,
    close(reason?: unknown): Promise<void> {
      if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
      const closing = new Promise<void>((resolve) => {
        // A peer that never answers the close is not waited for forever.
        const timer = setTimeout(resolve, 1000);
        socket.addEventListener("close", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      if (reason === undefined) closeWith(CloseCode.Normal, "");
      else if (reason instanceof LimitError && TIMEOUT_LIMITS.has(reason.limitName)) {
        closeWith(CloseCode.GoingAway, reason.message);
      } else if (reason instanceof FrameSizeError || reason instanceof LimitError) {
        closeWith(CloseCode.MessageTooBig, reason.message);
      } else if (reason instanceof DecodeError) {
        closeWith(CloseCode.InvalidPayload, reason.message);
      } else closeWith(CloseCode.InternalError, String((reason as Error)?.message ?? reason));
      return closing;
    },
  }, direct);
  offerDirectWrites(stream, writes);
  return stream;
}
