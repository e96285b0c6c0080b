// How a server end turns a call into its reply message, shared by the
// session (`Peer`) and the one-frame exchange (`createResponder`): running a
// handler, mapping what it threw, answering a frame that does not decode,
// and encoding replies so that a result the codec cannot carry still gets an
// answer. Web-standard only.

import { toErrorObject } from "./dispatch.ts";
import { DecodeError, ErrorCode, RpcError } from "./errors.ts";
import { attachConnection, type ConnectionScope } from "./connection.ts";
import { activeChain, type Interceptor, interceptServed } from "./interceptors.ts";
import type { CallContext, ResolvedMethod } from "./service.ts";
import type { Codec, Frame, RpcFailure, RpcId, RpcMessage, RpcParams } from "./types.ts";

/** What the answering functions need to know about the server end. */
export interface AnswerSettings {
  /** Send the message and stack of unexpected handler errors. */
  readonly expose: boolean;
  /** Told about unexpected handler errors and unencodable results. */
  readonly onError: (error: unknown) => void;
  /** Run around every handler; `undefined` (not empty) when there are none. */
  readonly interceptors?: readonly Interceptor[] | undefined;
  /** The connection every call shares, for `connectionOf`; absent when unknown. */
  readonly connection?: ConnectionScope | undefined;
}

/** An error reply with an optional `data`. */
export function errorReply(
  id: RpcId | null,
  code: number,
  message: string,
  data?: unknown,
): RpcFailure {
  return {
    kind: "error",
    id,
    error: data === undefined ? { code, message } : { code, message, data },
  };
}

/** The reply to a method no service exposes. */
export function methodNotFound(id: RpcId | null, method: string): RpcFailure {
  return errorReply(id, ErrorCode.MethodNotFound, "Method not found", { method });
}

/** The reply for what a handler threw; unexpected errors are also reported. */
export function failureOf(id: RpcId | null, error: unknown, settings: AnswerSettings): RpcFailure {
  if (!(error instanceof RpcError)) settings.onError(error);
  return { kind: "error", id, error: toErrorObject(error, settings.expose) };
}

/** The reply (id `null`) to a frame that could not be decoded. */
export function undecodableReply(error: unknown): RpcFailure {
  const parse = error instanceof DecodeError;
  return errorReply(
    null,
    parse ? ErrorCode.ParseError : ErrorCode.InternalError,
    parse ? "Parse error" : "Internal error",
    error instanceof Error ? error.message : undefined,
  );
}

/**
 * Runs a resolved method and gives its reply: at once when the handler
 * returns a plain value or throws, as a promise (that never rejects) when
 * it returns one.
 */
export function invokeMethod(
  resolved: ResolvedMethod,
  ctx: CallContext,
  params: RpcParams | undefined,
  settings: AnswerSettings,
): RpcMessage | Promise<RpcMessage> {
  const id = ctx.id ?? null;
  let outcome: unknown;
  try {
    outcome = started(resolved, ctx, params, settings);
  } catch (error) {
    return failureOf(id, error, settings);
  }
  if (!(outcome instanceof Promise)) return resultOf(id, outcome);
  return outcome.then((result) => resultOf(id, result), (error) => failureOf(id, error, settings));
}

/** What takes a call's reply: the call itself, so that no closure is made per call. */
export interface ReplyTaker {
  /** Takes the reply; called exactly once per {@linkcode answerMethod}. */
  take(reply: RpcMessage): void;
}

/**
 * Runs a resolved method and gives its reply to `to`: at once when the
 * handler returns a plain value or throws, when it settles otherwise.
 * One promise fewer per call than waiting for {@linkcode invokeMethod}'s
 * (interceptors make every outcome a promise).
 *
 * @returns whether the reply was given at once
 */
export function answerMethod(
  resolved: ResolvedMethod,
  ctx: CallContext,
  params: RpcParams | undefined,
  settings: AnswerSettings,
  to: ReplyTaker,
): boolean {
  const id = ctx.id ?? null;
  let outcome: unknown;
  try {
    outcome = started(resolved, ctx, params, settings);
  } catch (error) {
    to.take(failureOf(id, error, settings));
    return true;
  }
  if (!(outcome instanceof Promise)) {
    to.take(resultOf(id, outcome));
    return true;
  }
  outcome.then(
    (result) => to.take(resultOf(id, result)),
    (error) => to.take(failureOf(id, error, settings)),
  );
  return false;
}

// The handler's outcome, through the interceptors when there are some.
function started(
  resolved: ResolvedMethod,
  ctx: CallContext,
  params: RpcParams | undefined,
  settings: AnswerSettings,
): unknown {
  if (settings.connection !== undefined) attachConnection(ctx, settings.connection);
  const chain = activeChain(settings.interceptors);
  return chain === undefined
    ? resolved.invoke(params, ctx)
    : interceptServed(chain, ctx, params, (p) => resolved.invoke(p, ctx));
}

function resultOf(id: RpcId | null, result: unknown): RpcMessage {
  return { kind: "result", id: id as RpcId, result: result ?? null };
}

/**
 * Answers a call refused before any handler ran (too many in flight,
 * shutting down, an unknown method) with `error`, through the interceptors
 * when there are some, so that a logging or metrics interceptor sees the
 * refusal as a call whose outcome is that error.
 */
export function refuseCall(
  error: RpcError,
  ctx: CallContext,
  params: RpcParams | undefined,
  settings: AnswerSettings,
): RpcMessage | Promise<RpcMessage> {
  const id = ctx.id ?? null;
  const chain = activeChain(settings.interceptors);
  if (chain === undefined) {
    return errorReply(id, error.code, error.message, error.data);
  }
  return interceptServed(chain, ctx, params, () => Promise.reject(error)).then(
    (result): RpcMessage => ({ kind: "result", id: id as RpcId, result: result ?? null }),
    (error) => failureOf(id, error, settings),
  );
}

/**
 * A request's metadata: the connection's or the HTTP request's headers,
 * the request's own `meta` entries over them; `undefined` when neither.
 */
export function requestMetadata(
  headers: Headers | undefined,
  meta: Readonly<Record<string, string>> | undefined,
): Headers | undefined {
  if (meta === undefined) return headers;
  const request = new Headers(headers);
  for (const key in meta) request.set(key, meta[key]!);
  return request;
}

/**
 * Encodes replies. A reply the codec cannot carry (a bigint beyond JSON's
 * range, say) becomes an internal error in its place rather than a silent
 * loss of the reply; the other replies of a batch travel as they are. A
 * reply whose id itself cannot be carried (one the codec decoded but cannot
 * write back, such as JSON's `1e308` in a codec that keeps ids exact)
 * becomes an invalid-request error under id `null`: the caller is told, and
 * the connection goes on.
 *
 * @throws what the codec throws when it cannot even encode an error under
 * id `null`
 */
export function encodeReply(
  codec: Codec,
  message: RpcMessage | RpcMessage[],
  settings: AnswerSettings,
): Frame {
  try {
    return codec.encode(message);
  } catch (error) {
    settings.onError(error);
    if (!Array.isArray(message)) {
      return codec.encode(replacementFor(codec, message, error, settings));
    }
    return codec.encode(message.map((m) => {
      try {
        codec.encode(m);
        return m;
      } catch (cause) {
        return replacementFor(codec, m, cause, settings);
      }
    }));
  }
}

// What goes in the place of a reply that did not encode: an internal error
// under its id, or when that does not encode either, an error under null.
function replacementFor(
  codec: Codec,
  m: RpcMessage,
  error: unknown,
  settings: AnswerSettings,
): RpcMessage {
  if (m.kind !== "result" && m.kind !== "error") return m;
  const internal: RpcMessage = {
    kind: "error",
    id: m.id,
    error: toErrorObject(error, settings.expose),
  };
  if (m.id === null) return internal;
  try {
    codec.encode(internal);
    return internal;
  } catch (cause) {
    settings.onError(cause);
    return errorReply(
      null,
      ErrorCode.InvalidRequest,
      "Invalid Request: the request's id cannot be sent back",
      { id: String(m.id) },
    );
  }
}
