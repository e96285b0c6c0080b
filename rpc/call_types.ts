// What a caller gives and gets for one call: its options, a stream's.
// Part of the contracts (re-exported by ./types.ts).

/**
 * Options of one outgoing call, for every client (`RpcClient.call`) and for
 * typed clients built on one (`protoClient`).
 */
export interface CallOptions {
  /** Milliseconds before the call fails with a `TimeoutError`. */
  readonly timeout?: number;
  /** Aborting it fails the call and tells the server to cancel it. */
  readonly signal?: AbortSignal;
  /**
   * Whether the call is safe to send twice, over the client's retry policy
   * (`RetryPolicy.idempotent`); clients that never retry ignore it.
   */
  readonly idempotent?: boolean;
  /**
   * The call's metadata, sent where the transport or codec has room for it
   * (HTTP headers, JSON-RPC's `"meta"` member, NATS headers); interceptors
   * start from it as `call.metadata`.
   */
  readonly headers?: HeadersInit;
}

/**
 * Options of one streaming call (`Peer.openStream`, and `protoClient`'s
 * streaming methods).
 *
 * @example
 * ```ts
 * import type { StreamCallOptions } from "./call_types.ts";
 * async function* numbers() {
 *   yield { value: 1 };
 * }
 * const options: StreamCallOptions = { input: numbers(), timeout: 1000 };
 * console.assert(options.timeout === 1000);
 * ```
 */
export interface StreamCallOptions extends CallOptions {
  /** The caller's messages, for a method that takes a stream; sent as the server grants credit. */
  readonly input?: AsyncIterable<unknown>;
}

/**
 * A streaming call in progress.
 *
 * @example
 * ```ts
 * import type { RpcStream } from "./call_types.ts";
 * async function* none() {}
 * const stream: RpcStream = { messages: none(), result: Promise.resolve(null) };
 * console.assert(await stream.result === null);
 * ```
 */
export interface RpcStream {
  /**
   * The server's messages, in order; the loop ends with the call and throws
   * its error. Leaving a `for await` loop early cancels the call.
   */
  readonly messages: AsyncIterable<unknown>;
  /** The call's reply: the one message of a client-streaming method, `null` when the server streams. */
  readonly result: Promise<unknown>;
}
