/**
 * The one-frame exchange: a frame in, its reply frame out, with no session
 * around it. What request/response transports such as HTTP serve with; a
 * connection that carries many frames both ways uses a {@linkcode Peer}.
 *
 * @module
 */

import {
  type AnswerSettings,
  encodeReply,
  invokeMethod,
  refuseCall,
  requestMetadata,
  undecodableReply,
} from "./answer.ts";
import { attachMetadata, type CallMetadata } from "./call_metadata.ts";
import { createDispatcher } from "./dispatch.ts";
import { ErrorCode, ProtocolError, RpcError } from "./errors.ts";
import { resolveLimits, type RpcLimits } from "./limits.ts";
import { installed, type Interceptor } from "./interceptors.ts";
import type { CallContext, Service } from "./service.ts";
import { attachConnection, type ConnectionScope } from "./connection.ts";
import type { Codec, Frame, RpcId, RpcInvalid, RpcMessage, RpcParams } from "./types.ts";

/** Options of {@linkcode createResponder}. */
export interface ResponderOptions {
  /** How frames become messages; a codec with `fork()` gets an instance per exchange. */
  readonly codec: Codec;
  /** What is served. */
  readonly service: Service;
  /** `maxInFlight` counts the calls running across all exchanges. */
  readonly limits?: Partial<RpcLimits>;
  /** Send the message and stack of unexpected handler errors (development only). */
  readonly exposeErrors?: boolean;
  /** Told about handler errors, bad frames and stray messages. */
  readonly onError?: (error: unknown) => void;
  /** Run around every handler, the first outermost (see `rpc/interceptors.ts`). */
  readonly interceptors?: readonly Interceptor[];
}

/**
 * Answers one frame. Resolves to the reply frame, or `undefined` when
 * nothing needs an answer (notifications only). `signal` is asked for only
 * when a handler reads its context's signal, so that a transport whose
 * signal is costly to make pays only for the handlers that use it.
 *
 * @throws {DecodeError} for a frame that does not decode when the codec
 * cannot answer a parse error (it has no way to say which call failed)
 */
export type Responder = (
  frame: Frame,
  signal?: () => AbortSignal,
  metadata?: ExchangeMetadata,
  connection?: ConnectionScope,
) => Promise<Frame | undefined>;

/**
 * A {@linkcode Responder} that answers at once where it can: the reply
 * frame itself when every handler of the frame returned a value (not a
 * promise) and no interceptor is installed, a promise only when one did.
 * A transport that can send from where it reads (NATS's message callback)
 * spends no promise on a synchronous handler's call.
 *
 * @throws {DecodeError} for a frame that does not decode when the codec
 * cannot answer a parse error
 */
export type DirectResponder = (
  frame: Frame,
  signal?: () => AbortSignal,
  metadata?: ExchangeMetadata,
  connection?: ConnectionScope,
) => Frame | undefined | Promise<Frame | undefined>;

/**
 * The metadata of one exchange (an HTTP POST): the request's headers,
 * which every call of the frame sees as its metadata, and the reply's
 * headers, which its handlers may add to (`callMetadata(ctx).headers`).
 */
export interface ExchangeMetadata {
  /** The request's headers. */
  readonly request: Headers;
  /** Headers to send with the reply. */
  readonly headers: Headers;
}

type Reply = RpcMessage | undefined;

const NEVER_ABORTED = new AbortController().signal;
const neverAborted = (): AbortSignal => NEVER_ABORTED;

/**
 * Creates the responder of a service: each frame is decoded, its calls are
 * run (a batch's concurrently) and their replies encoded into one frame, as
 * a session would answer it, without the session's cost.
 *
 * @param options the codec, the service, the limits
 * @returns the responder
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createResponder } from "./responder.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const respond = createResponder({
 *   codec: jsonRpc(),
 *   service: { add: (a: number, b: number) => a + b },
 * });
 * const reply = await respond('{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}');
 * assert.deepEqual(JSON.parse(reply as string), { jsonrpc: "2.0", id: 1, result: 3 });
 * assert.equal(await respond('{"jsonrpc":"2.0","method":"add","params":[1,2]}'), undefined);
 * ```
 */
export function createResponder(options: ResponderOptions): Responder {
  const respond = createDirectResponder(options);
  return async (frame, signal, exchange, connection) =>
    await respond(frame, signal, exchange, connection);
}

/**
 * Creates the responder of a service that answers at once where it can
 * (see {@linkcode DirectResponder}): what {@linkcode createResponder}
 * answers, with no promise for a frame whose handlers are synchronous.
 *
 * @param options the codec, the service, the limits
 * @returns the responder
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDirectResponder } from "./responder.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const respond = createDirectResponder({
 *   codec: jsonRpc(),
 *   service: { add: (a: number, b: number) => a + b, later: async () => "done" },
 * });
 * const now = respond('{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}');
 * assert.deepEqual(JSON.parse(now as string), { jsonrpc: "2.0", id: 1, result: 3 });
 * const later = respond('{"jsonrpc":"2.0","id":2,"method":"later"}');
 * assert.ok(later instanceof Promise); // an async handler: its reply comes later
 * assert.deepEqual(JSON.parse(await later as string), { jsonrpc: "2.0", id: 2, result: "done" });
 * ```
 */
export function createDirectResponder(options: ResponderOptions): DirectResponder {
  const dispatch = createDispatcher(options.service);
  const { maxInFlight } = resolveLimits(options.limits);
  const onError = options.onError ?? (() => {});
  const settings: AnswerSettings = {
    expose: options.exposeErrors ?? false,
    onError,
    interceptors: installed(options.interceptors),
  };
  let inFlight = 0;

  const call = (
    id: RpcId | undefined,
    method: string,
    params: RpcParams | undefined,
    signal: () => AbortSignal,
    exchange: ExchangeMetadata | undefined,
    meta: Readonly<Record<string, string>> | undefined,
    connection: ConnectionScope | undefined,
  ): RpcMessage | Promise<RpcMessage> => {
    const ctx: CallContext = new ExchangeContext(id, method, signal);
    if (connection !== undefined) attachConnection(ctx, connection);
    // Made when a handler or interceptor first reads it: most never do.
    if (exchange !== undefined || meta !== undefined) {
      attachMetadata(ctx, new LazyMetadata(exchange, meta));
    }
    if (inFlight >= maxInFlight) {
      const why = `Too many calls in flight (limit ${maxInFlight})`;
      return refuseCall(new RpcError(ErrorCode.ServerBusy, why), ctx, params, settings);
    }
    const resolved = dispatch(method);
    if (resolved === undefined) {
      const unknown = new RpcError(ErrorCode.MethodNotFound, "Method not found", { method });
      return refuseCall(unknown, ctx, params, settings);
    }
    inFlight++;
    const reply = invokeMethod(resolved, ctx, params, settings);
    if (!(reply instanceof Promise)) {
      inFlight--;
      return reply;
    }
    return reply.then((message) => {
      inFlight--;
      return message;
    });
  };

  // A notification's outcome has nowhere to go but the error hook.
  const reportFailure = (reply: RpcMessage): undefined => {
    if (reply.kind === "error") onError(RpcError.from(reply.error));
    return undefined;
  };

  const answer = (
    codec: Codec,
    message: RpcMessage | RpcInvalid,
    signal: () => AbortSignal,
    exchange: ExchangeMetadata | undefined,
    connection: ConnectionScope | undefined,
  ): Reply | Promise<Reply> => {
    switch (message.kind) {
      case "request":
        return call(
          message.id,
          message.method,
          message.params,
          signal,
          exchange,
          message.meta,
          connection,
        );
      case "notification": {
        // Within one exchange there is nothing running that a cancellation could reach.
        if (codec.readCancellation?.(message) !== undefined) return undefined;
        const reply = call(
          undefined,
          message.method,
          message.params,
          signal,
          exchange,
          message.meta,
          connection,
        );
        return reply instanceof Promise ? reply.then(reportFailure) : reportFailure(reply);
      }
      case "invalid":
        onError(new ProtocolError(`Invalid message: ${message.error.message}`));
        return message.id === undefined
          ? undefined
          : { kind: "error", id: message.id, error: message.error };
      default:
        onError(new ProtocolError(`A ${message.kind} reply arrived, but this end made no calls`));
        return undefined;
    }
  };

  const encoded = (codec: Codec, reply: Reply): Frame | undefined =>
    reply === undefined ? undefined : encodeReply(codec, reply, settings);

  return (frame, signal = neverAborted, exchange, connection) => {
    const codec = options.codec.fork?.() ?? options.codec;
    let decoded;
    try {
      decoded = codec.decode(frame);
    } catch (error) {
      onError(error);
      if (!codec.features.replyToParseError) throw error;
      return encodeReply(codec, undecodableReply(error), settings);
    }
    if (decoded.kind !== "batch") {
      const reply = answer(codec, decoded, signal, exchange, connection);
      return reply instanceof Promise
        ? reply.then((r) => encoded(codec, r))
        : encoded(codec, reply);
    }
    const answers = decoded.messages.map((m) => answer(codec, m, signal, exchange, connection));
    const gathered = (replies: readonly Reply[]): Frame | undefined => {
      const present = replies.filter((reply): reply is RpcMessage => reply !== undefined);
      return present.length === 0 ? undefined : encodeReply(codec, present, settings);
    };
    return answers.some((a) => a instanceof Promise)
      ? Promise.all(answers).then(gathered)
      : gathered(answers as Reply[]);
  };
}

// A call's context. A class, not an object literal with a getter: a
// literal's getter is a closure made per call, and V8 then keeps every
// call's objects (the request the signal closure holds, too) alive through
// young-generation collections (~16% of what a POST allocates survived,
// against ~1% with the class; see docs/benchmarks.md, HTTP, third pass).
class ExchangeContext implements CallContext {
  readonly id: RpcId | undefined;
  readonly method: string;
  #signal: (() => AbortSignal) | AbortSignal;
  constructor(id: RpcId | undefined, method: string, signal: () => AbortSignal) {
    this.id = id;
    this.method = method;
    this.#signal = signal;
  }
  // Made when a handler first reads it.
  get signal(): AbortSignal {
    const signal = this.#signal;
    return typeof signal === "function" ? this.#signal = signal() : signal;
  }
}

// A call's metadata, each part made on first use: the request's headers
// from the exchange's (a NATS worker parses them only then), the call's
// own `meta` entries over them.
class LazyMetadata implements CallMetadata {
  #exchange: ExchangeMetadata | undefined;
  #meta: Readonly<Record<string, string>> | undefined;
  #request: Headers | undefined;
  #headers: Headers | undefined;
  #trailers: Headers | undefined;
  constructor(
    exchange: ExchangeMetadata | undefined,
    meta: Readonly<Record<string, string>> | undefined,
  ) {
    this.#exchange = exchange;
    this.#meta = meta;
  }
  get request(): Headers {
    return this.#request ??= requestMetadata(this.#exchange?.request, this.#meta) ??
      new Headers();
  }
  get headers(): Headers {
    return this.#headers ??= this.#exchange?.headers ?? new Headers();
  }
  get trailers(): Headers {
    return this.#trailers ??= new Headers();
  }
}
