/**
 * The NATS transport: one service, many worker processes on many machines,
 * behind NATS (nats.io). A worker subscribes to the service's subject in a
 * queue group, so NATS hands each call to one worker; a client calls by
 * request/reply; a notification is a plain publish. Any codec: one NATS
 * message per frame. On parley's own NATS client (`connectNatsCore`,
 * nats/core.ts) or the official one (`connectNats`, nats/natsjs.ts): any
 * connection that fits `NatsConnectionLike`.
 *
 * - Deadlines travel with each call (the `Parley-Deadline` header, epoch
 *   milliseconds): a worker does not start a call whose caller has already
 *   given up, and the handler's signal fires at the deadline.
 * - `drain()` (on SIGTERM, say) stops taking calls and finishes the ones it
 *   took; calls to a worker that dies fail at their deadline, never hang;
 *   methods marked idempotent are retried on another worker.
 * - "No responders" (nobody serves the subject), a lost connection to NATS
 *   and reconnection are reported clearly; the client library reconnects.
 *
 * @example A worker and a client on one NATS server
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "../../testing/nats_server.ts";
 * import { connectNats, natsClient, serveNats } from "./nats.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * await using natsServer = await startNatsServer(); // Debian package nats-server
 * const nc = await connectNats(natsServer.url);
 * const worker = serveNats({
 *   connection: nc,
 *   subject: "calculator",
 *   codec: jsonRpc(),
 *   service: { add: (a: number, b: number) => a + b },
 * });
 * await worker.ready;
 * const client = natsClient({ connection: nc, subject: "calculator", codec: jsonRpc() });
 * assert.equal(await client.call("add", [1, 2]), 3); // from whichever worker NATS chose
 * await worker.drain();
 * await nc.drain();
 * ```
 *
 * @module
 */

import { ErrorCode, FrameSizeError, RpcError, TimeoutError } from "../errors.ts";
import { resolveLimits, type RpcLimits } from "../limits.ts";
import { createDirectResponder } from "../responder.ts";
import type { Connection, ConnectionScope, ContextFunction } from "../connection.ts";
import { CONNECTION_REFUSED } from "./_connection.ts";
import type { Interceptor } from "../interceptors.ts";
import type { Service } from "../service.ts";
import type { Codec, Frame } from "../types.ts";
import { NatsExchange } from "./nats/_headers.ts";
import { type NatsConnectionLike, type NatsMessage, utf8 } from "./nats/_wire.ts";

export {
  DEADLINE_HEADER,
  type NatsConnectionLike,
  type NatsMessage,
  type NatsSubscription,
  NoRespondersError,
} from "./nats/_wire.ts";
export { connectNatsCore } from "./nats/core.ts";
export { connectNats, type ConnectNatsOptions } from "./nats/natsjs.ts";
export {
  type NatsAuthenticator,
  NatsCoreConnection,
  NatsCoreMessage,
  type NatsCoreOptions,
  NatsCoreSubscription,
  NatsHeaders,
  type NatsPublishOptions,
  type NatsServerInfo,
  type NatsStats,
  type NatsStatus,
  type NatsSubscribeOptions,
} from "../../protocols/nats/mod.ts";
export {
  type NatsCallOptions,
  NatsClient,
  natsClient,
  type NatsClientOptions,
} from "./nats/client.ts";

/** Options of {@linkcode serveNats}. */
export interface ServeNatsOptions {
  /** The connection to NATS. */
  readonly connection: NatsConnectionLike;
  /** The service's subject, such as `"calculator"`. */
  readonly subject: string;
  /** The queue group every worker of the service joins; the subject by default. */
  readonly queue?: string;
  /** How frames become messages. */
  readonly codec: Codec;
  /** What is served. */
  readonly service: Service;
  /**
   * Limits; `maxInFlight` bounds the calls this worker runs at once, and a
   * message over `maxFrameSize` is refused undecoded (NATS's own
   * `max_payload`, 1 MB by default, bounds it too).
   */
  readonly limits?: Partial<RpcLimits>;
  /** Send the message and stack of unexpected handler errors (development only). */
  readonly exposeErrors?: boolean;
  /** Told about handler errors, bad frames, and calls dropped past their deadline. */
  readonly onError?: (error: unknown) => void;
  /**
   * Run around every call's handler, the first outermost (see
   * `rpc/interceptors.ts`); their `metadata` is the message's headers.
   */
  readonly interceptors?: readonly Interceptor[];
  /**
   * Builds each message's context (a worker has no connection per
   * client: a message is its unit, as a `POST` is over HTTP). It gets the
   * connection `{ transport: "nats" }` and a `Request` standing for the
   * message: URL `nats:SUBJECT`, the message's headers. What it throws
   * answers the message's calls with -32001 `Connection refused: why`.
   * Handlers read the context with `typedContext`, `connectionOf`.
   */
  readonly context?: ContextFunction;
}

/** A worker serving a subject. */
export interface NatsWorker {
  /** Resolves once the NATS server has the worker's subscription: calls may come. */
  readonly ready: Promise<void>;
  /** Calls this worker is running now. */
  readonly inFlight: number;
  /** Calls this worker has answered. */
  readonly served: number;
  /**
   * Stops taking calls (other workers get them) and resolves when the ones
   * it took are finished.
   */
  drain(): Promise<void>;
}

// A message refused undecoded (over the limit, or text that is not UTF-8)
// has no id to answer under: the error goes with id null, as the peer
// answers an oversize frame (-32600) or bytes that do not parse (-32700).
// Its reply subject is the caller's own, so the caller gets it all the same.
function refuseUndecoded(
  codec: Codec,
  msg: NatsMessage,
  error: Error,
  code: number,
  onError: (error: unknown) => void,
): void {
  onError(error);
  if (msg.reply === undefined) return; // a notification: nobody to tell
  let reply: Frame;
  try {
    reply = codec.encode({ kind: "error", id: null, error: { code, message: error.message } });
  } catch {
    return; // a codec with no error reply without an id: the call times out
  }
  msg.respond(reply);
}

/**
 * Serves a service on a NATS subject, in a queue group: run it in as many
 * processes as needed; NATS spreads the calls.
 *
 * @param options the connection, the subject, the codec and the service
 * @returns the worker
 *
 * @example Two workers in one queue group share the calls
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "../../testing/nats_server.ts";
 * import { connectNats, natsClient, serveNats } from "./nats.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * await using natsServer = await startNatsServer(); // Debian package nats-server
 * const nc = await connectNats(natsServer.url);
 * const workers = [1, 2].map((n) =>
 *   serveNats({ connection: nc, subject: "calculator", codec: jsonRpc(), service: { who: () => n } })
 * );
 * await Promise.all(workers.map((worker) => worker.ready));
 * const client = natsClient({ connection: nc, subject: "calculator", codec: jsonRpc() });
 * const answers = await Promise.all(Array.from({ length: 10 }, () => client.call("who")));
 * assert.ok(answers.every((n) => n === 1 || n === 2)); // each call to one of them
 * assert.equal(workers[0]!.served + workers[1]!.served, 10);
 * for (const worker of workers) await worker.drain(); // finishes what it took
 * await nc.drain();
 * ```
 *
 * @example A request over `limits.maxFrameSize` is refused without being decoded
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "../../testing/nats_server.ts";
 * import { connectNats, natsClient, serveNats } from "./nats.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * await using natsServer = await startNatsServer(); // Debian package nats-server
 * const nc = await connectNats(natsServer.url);
 * const worker = serveNats({
 *   connection: nc,
 *   subject: "echo",
 *   codec: jsonRpc(),
 *   service: { echo: (text: string) => text },
 *   limits: { maxFrameSize: 100 }, // bytes of one NATS message
 * });
 * await worker.ready;
 * const client = natsClient({ connection: nc, subject: "echo", codec: jsonRpc() });
 * assert.equal(await client.call("echo", ["short"]), "short");
 * await assert.rejects(client.call("echo", ["a".repeat(100)]), {
 *   name: "RpcError",
 *   code: -32600, // as a peer answers an oversize frame
 * });
 * await worker.drain();
 * await nc.drain();
 * ```
 */
export function serveNats(options: ServeNatsOptions): NatsWorker {
  const onError = options.onError ?? (() => {});
  const respond = createDirectResponder({
    codec: options.codec,
    service: options.service,
    onError,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.exposeErrors === undefined ? {} : { exposeErrors: options.exposeErrors }),
    ...(options.interceptors === undefined ? {} : { interceptors: options.interceptors }),
  });
  const { maxFrameSize } = resolveLimits(options.limits);
  // Calls running now, and who waits for them to end (drain).
  let running = 0;
  let idle: PromiseWithResolvers<void> | undefined;
  let served = 0;

  const settled = () => {
    if (--running === 0) idle?.resolve();
  };
  const failed = (error: unknown) => {
    onError(error);
    settled();
  };

  // Sends the reply (a notification has no reply subject: nothing to send).
  const sent = (msg: NatsMessage, reply: Frame | undefined): void => {
    served++;
    if (reply !== undefined && msg.reply !== undefined) msg.respond(reply);
  };

  // The context function's answer first, then the calls: always a promise.
  const handleInContext = async (
    msg: NatsMessage,
    frame: Frame,
    signal: (() => AbortSignal) | undefined,
    exchange: NatsExchange,
  ): Promise<void> => {
    let scope: ConnectionScope;
    try {
      const message = new Request(`nats:${options.subject}`, { headers: exchange.request });
      scope = {
        connection: NATS_CONNECTION,
        context: await options.context!(NATS_CONNECTION, message),
      };
    } catch (reason) {
      onError(reason);
      refuseMessage(options.codec, msg, reason);
      return;
    }
    sent(msg, await respond(frame, signal, exchange, scope));
  };

  // Answers a message; a synchronous handler's reply is published before
  // this returns (nats.js writes a read's publishes together), and only an
  // asynchronous one's costs a promise.
  const handle = (msg: NatsMessage): void | Promise<void> => {
    // The message's headers are the calls' metadata (replies carry none back).
    const exchange = new NatsExchange(msg);
    const left = exchange.deadline - Date.now();
    if (left <= 0) {
      // The caller has given up already: the work would be wasted.
      onError(new TimeoutError(options.subject, 0));
      return;
    }
    const data = msg.data;
    if (data.length > maxFrameSize) {
      const error = new FrameSizeError(data.length, maxFrameSize);
      refuseUndecoded(options.codec, msg, error, ErrorCode.InvalidRequest, onError);
      return;
    }
    let frame: Frame = data;
    if (options.codec.text === true) {
      try {
        frame = msg.text === undefined ? utf8.decode(data) : msg.text();
      } catch {
        const error = new RpcError(ErrorCode.ParseError, "A message that is not UTF-8 text");
        refuseUndecoded(options.codec, msg, error, ErrorCode.ParseError, onError);
        return;
      }
    }
    const signal = Number.isFinite(left) ? () => AbortSignal.timeout(left) : undefined;
    if (options.context !== undefined) return handleInContext(msg, frame, signal, exchange);
    const reply = respond(frame, signal, exchange, NATS_SCOPE);
    if (!(reply instanceof Promise)) return sent(msg, reply);
    return reply.then((frame) => sent(msg, frame));
  };

  // A callback, not an iterator: every message of a read is taken at once,
  // with no promise per message before its handler starts.
  const subscription = options.connection.subscribe(options.subject, {
    queue: options.queue ?? options.subject,
    callback: (error, msg) => {
      if (error !== null) return onError(error);
      running++;
      let outcome: void | Promise<void>;
      try {
        outcome = handle(msg);
      } catch (error) {
        return failed(error);
      }
      if (outcome instanceof Promise) outcome.then(settled, failed);
      else settled();
    },
  });

  const ready = options.connection.flush();
  ready.catch(onError);
  return {
    ready,
    get inFlight() {
      return running;
    },
    get served() {
      return served;
    },
    async drain() {
      // No new calls from NATS; the ones delivered already are still handled.
      await subscription.drain();
      if (running === 0) return;
      idle ??= Promise.withResolvers<void>();
      await idle.promise;
    },
  };
}

// What a worker's calls see as their connection: NATS has no connection per client.
const NATS_CONNECTION: Connection = { transport: "nats" };
const NATS_SCOPE: ConnectionScope = { connection: NATS_CONNECTION };

// Answers a message whose context was refused: an error under id null,
// which the caller's natsClient throws as the RpcError it is.
function refuseMessage(codec: Codec, msg: NatsMessage, reason: unknown): void {
  if (msg.reply === undefined) return;
  const message = `Connection refused: ${(reason as Error)?.message ?? String(reason)}`;
  try {
    msg.respond(codec.encode({
      kind: "error",
      id: null,
      error: { code: CONNECTION_REFUSED, message },
    }));
  } catch {
    // A codec that cannot say it: the caller's deadline tells it instead.
  }
}
