/**
 * What a {@linkcode Peer} is made with.
 *
 * @module
 */

import type { ConnectionScope } from "../connection.ts";
import type { Interceptor } from "../interceptors.ts";
import type { RpcLimits } from "../limits.ts";
import type { Service } from "../service.ts";
import type { Codec, RpcParams } from "../types.ts";
import type { StreamParts, StreamTable } from "./_streams.ts";

/**
 * What carries a connection's streaming calls: {@linkcode peerStreams} from
 * `rpc/peer/streams.ts`. A peer takes it as an option rather than importing
 * it, so that sessions without streams (and their browser bundles) do not
 * carry it.
 */
export type StreamSupport = (parts: StreamParts) => StreamTable;

/**
 * Options of a {@linkcode Peer}.
 *
 * @example A server's options: its codec, its service and a lower in-flight limit
 * ```ts
 * import type { PeerOptions } from "./options.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * const options: PeerOptions = {
 *   codec: jsonRpc(),
 *   service: { add: (x: number, y: number) => x + y },
 *   limits: { maxInFlight: 16 },
 * };
 * console.assert(options.limits?.maxInFlight === 16);
 * ```
 */
export interface PeerOptions {
  /** How messages become frames. */
  readonly codec: Codec;
  /** What this end serves to the other; nothing when absent. */
  readonly service?: Service;
  /** Per-connection limits; defaults in {@linkcode DEFAULT_LIMITS}. */
  readonly limits?: Partial<RpcLimits>;
  /** Default timeout of outgoing calls in milliseconds; none when absent. */
  readonly timeout?: number;
  /** Send the message and stack of unexpected handler errors (development only). */
  readonly exposeErrors?: boolean;
  /** Milliseconds to flush queued frames when closing; 1000 by default. */
  readonly closeTimeout?: number;
  /** Closes the peer when aborted. */
  readonly signal?: AbortSignal;
  /**
   * Told about what goes wrong without failing a call: handler errors, bad
   * frames, replies to unknown ids. Defaults to nothing.
   */
  readonly onError?: (error: unknown) => void;
  /**
   * Told about the notifications that the service does not handle (Neovim's
   * events, a language server's `window/logMessage`); they are dropped
   * otherwise, and are not errors.
   */
  readonly onNotification?: (method: string, params: RpcParams | undefined) => void;
  /**
   * For codecs that carry streaming calls: the most messages of one stream
   * that this end takes in before its reader reads them (the credit it
   * grants the sender); 16 by default.
   */
  readonly streamWindow?: number;
  /**
   * Streaming calls, for a codec that carries them (the protobuf envelope):
   * `peerStreams`. Without it, this end neither makes nor serves streaming
   * calls (they are refused, as by a peer that has none).
   */
  readonly streams?: StreamSupport;
  /**
   * Run around every call this end serves (incoming calls and
   * notifications, and the calls it refuses: unknown methods, too many in
   * flight, shutting down) and every call it makes (`call`, `notify`, each
   * entry of a `batch`, `openStream`), the first outermost. A call they
   * refuse is answered with the error they throw.
   */
  readonly interceptors?: readonly Interceptor[];
  /**
   * The connection's metadata (a WebSocket's handshake headers): every
   * served call's metadata starts as these, the request's own `meta`
   * entries over them.
   */
  readonly metadata?: Headers;
  /**
   * The connection this peer serves, its context and principal, which its
   * handlers and interceptors read with `connectionOf`, `principalOf` and
   * `typedContext` (servers set it).
   */
  readonly connection?: ConnectionScope;
}
