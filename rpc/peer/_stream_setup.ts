// A peer's table of streaming calls, when its codec carries streams and it
// was given `streams: peerStreams`: wired to the peer's outbox (events go
// out as STREAM_EVENT notifications) and to the calls it serves.

import type {
  Codec,
  RpcId,
  RpcParams,
  RpcRequest,
  RpcStream,
  StreamCallOptions,
} from "../types.ts";
import type { PendingCalls } from "../pending.ts";
import { message } from "./_batch.ts";
import { STREAM_EVENT } from "../types.ts";
import type { IncomingCalls } from "./_incoming.ts";
import type { Outbox } from "./_outbox.ts";
import type { StreamTable } from "./_streams.ts";
import type { PeerOptions } from "./options.ts";

/**
 * The stream table of a peer, or `undefined` when it has none.
 *
 * @param codec the peer's codec (its own instance)
 * @param options the peer's options (`streams`, `streamWindow`, `onError`)
 * @param outbox where events are written
 * @param incoming the calls the peer serves (made after the table, hence a function)
 * @returns the table
 */
export function streamTable(
  codec: Codec,
  options: PeerOptions,
  outbox: Outbox,
  incoming: () => IncomingCalls,
): StreamTable | undefined {
  if (codec.features.streams !== true || options.streams === undefined) return undefined;
  return options.streams({
    // async: an event the codec cannot encode is a rejection, not a throw.
    send: async (event) =>
      await outbox.write(
        codec.encode({ kind: "notification", method: STREAM_EVENT, params: { ...event } }),
      ),
    window: options.streamWindow ?? 16,
    cancelServed: (id) => incoming().cancel(id),
    serving: (id) => incoming().serving(id),
    onError: options.onError ?? (() => {}),
  });
}

/** A streaming call of a peer's own, as {@linkcode openOwnStream} opens it. */
export interface OwnStreamCall {
  /** The method's name. */
  readonly method: string;
  /** The request (`undefined` when the caller streams its requests). */
  readonly params: RpcParams | undefined;
  /** The caller's messages, timeout and abort signal. */
  readonly options: StreamCallOptions;
  /** Metadata written by interceptors, if any. */
  readonly metadata?: Headers | undefined;
  /** The peer's default timeout. */
  readonly timeout: number | undefined;
}

/**
 * Registers a streaming call, opens its stream and sends its request.
 *
 * @param streams the peer's stream table
 * @param pending the peer's outgoing calls
 * @param call what to open
 * @param send sends the request (an encoding failure fails the call)
 * @returns the server's messages and the call's reply
 */
export function openOwnStream(
  streams: StreamTable,
  pending: PendingCalls,
  call: OwnStreamCall,
  send: (request: RpcRequest, id: RpcId) => void,
): RpcStream {
  const { method, params, options, metadata } = call;
  options.signal?.throwIfAborted();
  const controller = new AbortController();
  const { id, result } = pending.add(method, {
    timeout: options.timeout ?? call.timeout,
    signal: controller.signal,
    onCancel: (id) => streams.cancel(id),
  });
  const messages = streams.open(id, result, controller, options);
  send(message<RpcRequest>({ kind: "request", id, method, stream: true }, params, metadata), id);
  return { messages, result };
}
