/**
 * The POSTs an HTTP client has under way, each bounded by its call's
 * timeout and abort signal, and what happens to them when the client
 * closes: those of calls are aborted, those of notifications get
 * `closeTimeout` to arrive first. `client.ts` (`HttpClient`) sends through
 * it. Web-standard only.
 *
 * @module
 */

import { TimeoutError } from "../../errors.ts";
import type { CallOptions } from "../../client.ts";
import type { Codec, DecodedFrame, Frame } from "../../types.ts";
import type { HttpEndpoint } from "./_endpoint.ts";

/**
 * An HTTP client's POSTs under way.
 *
 * @example A call's POST, then closing
 * ```ts
 * import assert from "node:assert/strict";
 * import { Posts } from "./_posts.ts";
 * import { HttpEndpoint } from "./_endpoint.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   () => Response.json({ jsonrpc: "2.0", id: 1, result: 3 }),
 * );
 * const endpoint = new HttpEndpoint(`http://127.0.0.1:${server.addr.port}/rpc`, {
 *   mediaType: "application/json",
 * });
 * const posts = new Posts(endpoint, 5_000);
 * const codec = jsonRpc();
 * const frame = codec.encode({ kind: "request", id: 1, method: "add", params: [1, 2] });
 * assert.deepEqual(await posts.send(codec, frame, undefined, "add", false), {
 *   kind: "result",
 *   id: 1,
 *   result: 3,
 * });
 * await posts.close(new Error("closed"), 1_000);
 * endpoint.release();
 * ```
 */
export class Posts {
  readonly #endpoint: HttpEndpoint;
  readonly #timeout: number | undefined;
  // The POSTs of calls (aborted at close) and of notifications (given
  // `closeTimeout` to arrive first).
  readonly #calls = new Set<AbortController>();
  readonly #notifications = new Map<AbortController, Promise<unknown>>();

  /**
   * @param endpoint where every POST goes
   * @param timeout the client's default timeout (ms), for calls whose options give none
   */
  constructor(endpoint: HttpEndpoint, timeout: number | undefined) {
    this.#endpoint = endpoint;
    this.#timeout = timeout;
  }

  /**
   * POSTs one frame and decodes the reply. A timeout or an abort aborts
   * the request and rejects with its reason.
   *
   * @param codec the exchange's codec instance, which decodes the reply
   * @param frame the encoded request
   * @param options the call's timeout and abort signal
   * @param method the method's name, for a timeout's error
   * @param notification whether the POST carries only a notification
   * @param metadata the call's metadata, sent as further headers
   * @returns the decoded reply; `undefined` when there is none
   * @throws what {@linkcode HttpEndpoint.post} throws, a `TimeoutError`, or the signal's reason
   */
  async send(
    codec: Codec,
    frame: Frame,
    options: CallOptions | undefined,
    method: string,
    notification: boolean,
    metadata?: Headers,
  ): Promise<DecodedFrame | undefined> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    const controller = new AbortController();
    const timeout = options?.timeout ?? this.#timeout;
    const timer = timeout === undefined || timeout === Infinity
      ? undefined
      : setTimeout(() => controller.abort(new TimeoutError(method, timeout)), timeout);
    const onAbort = () => controller.abort(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const exchange = this.#endpoint.post(codec, frame, controller.signal, metadata);
    if (notification) this.#notifications.set(controller, exchange.catch(() => {}));
    else this.#calls.add(controller);
    try {
      return await exchange;
    } catch (error) {
      throw controller.signal.aborted ? controller.signal.reason : error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (notification) this.#notifications.delete(controller);
      else this.#calls.delete(controller);
    }
  }

  /**
   * Aborts the calls' POSTs at once, and the notifications' once they have
   * had `closeTimeout` to arrive.
   *
   * @param error the reason of the aborts
   * @param closeTimeout milliseconds the notifications get
   * @returns when every POST has ended or been aborted
   */
  async close(error: unknown, closeTimeout: number): Promise<void> {
    for (const controller of this.#calls) controller.abort(error);
    if (this.#notifications.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled(this.#notifications.values()),
      new Promise((resolve) => timer = setTimeout(resolve, closeTimeout)),
    ]);
    clearTimeout(timer);
    for (const controller of this.#notifications.keys()) controller.abort(error);
  }
}
