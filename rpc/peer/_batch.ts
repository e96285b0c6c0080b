/**
 * How a peer puts calls on the wire: a request or notification with its
 * params and metadata, and a batch in one frame where the codec has
 * batches (one frame each otherwise). Web-standard only.
 *
 * @module
 */

import type { CallOptions } from "../client.ts";
import type {
  Codec,
  Frame,
  RpcId,
  RpcMessage,
  RpcNotification,
  RpcParams,
  RpcRequest,
} from "../types.ts";
import { optionsMetadata } from "../interceptors_client.ts";
import { unwritten } from "../_call_headers.ts";
import { type BatchItem, metaOf } from "./_intercepted.ts";

/**
 * A request or notification with its params and metadata, when it has them
 * (absent members stay absent: nothing new on the wire without metadata).
 *
 * @param head the message without params
 * @param params its params
 * @param metadata the call's metadata, sent as `meta`
 * @returns the message
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { message } from "./_batch.ts";
 * import type { RpcRequest } from "../types.ts";
 *
 * assert.deepEqual(message({ kind: "notification", method: "m" }, undefined, new Headers()), {
 *   kind: "notification",
 *   method: "m",
 * });
 * const request = message<RpcRequest>({ kind: "request", id: 1, method: "m" }, [1], new Headers({ a: "b" }));
 * assert.deepEqual(request, {
 *   kind: "request",
 *   id: 1,
 *   method: "m",
 *   params: [1],
 *   meta: { a: "b" },
 * });
 * ```
 */
export function message<M extends RpcRequest | RpcNotification>(
  head: Omit<M, "params" | "meta">,
  params: RpcParams | undefined,
  metadata: Headers | undefined,
): M {
  const meta = metaOf(metadata);
  if (params === undefined) return (meta === undefined ? head : { ...head, meta }) as M;
  return (meta === undefined ? { ...head, params } : { ...head, params, meta }) as M;
}

/**
 * A call's request: its params, and its metadata as `meta` when the call
 * has any (the interceptors' when they wrote some, else the options'
 * headers). Literals on the common path: no metadata, no spread.
 *
 * @param id the call's id
 * @param method the method's name
 * @param params its params
 * @param options the call's options (their `headers` when no interceptor wrote metadata)
 * @param metadata what the interceptors left, if they ran
 * @returns the request
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { request } from "./_batch.ts";
 *
 * assert.deepEqual(request(1, "m", [1], undefined), { kind: "request", id: 1, method: "m", params: [1] });
 * assert.deepEqual(request(2, "m", undefined, { headers: { a: "b" } }), {
 *   kind: "request",
 *   id: 2,
 *   method: "m",
 *   meta: { a: "b" },
 * });
 * ```
 */
export function request(
  id: RpcId,
  method: string,
  params: RpcParams | undefined,
  options: CallOptions | undefined,
  metadata?: Headers,
): RpcRequest {
  // Metadata no interceptor wrote to is none: the literal path.
  const meta = metadata === undefined
    ? optionsMetadata(options)
    : unwritten(metadata)
    ? undefined
    : metadata;
  return meta !== undefined
    ? message<RpcRequest>({ kind: "request", id, method }, params, meta)
    : params === undefined
    ? { kind: "request", id, method }
    : { kind: "request", id, method, params };
}

/** What {@linkcode sendBatch} needs of the peer. */
export interface BatchSender {
  /** The connection's codec. */
  readonly codec: Codec;
  /** Sends one call on its own. */
  readonly call: (item: BatchItem) => Promise<unknown>;
  /** Sends one notification on its own. */
  readonly notify: (item: BatchItem) => Promise<void>;
  /** Registers a pending call. */
  readonly register: (
    method: string,
    options: CallOptions | undefined,
  ) => { id: RpcId; result: Promise<unknown> };
  /** Writes a frame. */
  readonly write: (frame: Frame) => Promise<void>;
  /** Fails a registered call. */
  readonly fail: (id: RpcId, error: unknown) => void;
}

/**
 * Sends `items` in one frame where the codec has batches, one frame each
 * otherwise; a frame that does not encode or write fails its calls.
 *
 * @param items the calls, in order
 * @param peer the peer's parts
 * @returns each item's outcome, in order (`undefined` for notifications)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { sendBatch } from "./_batch.ts";
 *
 * const frames: unknown[] = [];
 * const [result] = sendBatch([{ method: "a" }, { method: "b", notification: true }], {
 *   codec: jsonRpc(),
 *   call: () => Promise.reject(new Error("not alone")),
 *   notify: () => Promise.reject(new Error("not alone")),
 *   register: () => ({ id: 1, result: Promise.resolve("ok") }),
 *   write: async (frame) => void frames.push(frame),
 *   fail: () => {},
 * });
 * assert.equal(await result, "ok");
 * assert.equal(frames.length, 1);
 * ```
 */
export function sendBatch(items: readonly BatchItem[], peer: BatchSender): Promise<unknown>[] {
  if (!peer.codec.features.batch) {
    return items.map((e) => e.notification ? peer.notify(e) : peer.call(e));
  }
  const messages: RpcMessage[] = [];
  const results: Promise<unknown>[] = [];
  const ids: RpcId[] = [];
  const failAll = (error: unknown): void => {
    for (const id of ids) peer.fail(id, error);
  };
  try {
    for (const e of items) {
      if (e.notification) {
        messages.push(
          message<RpcNotification>(
            { kind: "notification", method: e.method },
            e.params,
            e.metadata,
          ),
        );
        results.push(Promise.resolve(undefined));
        continue;
      }
      const { id, result } = peer.register(e.method, e.options);
      ids.push(id);
      results.push(result);
      messages.push(request(id, e.method, e.params, e.options, e.metadata));
    }
    peer.write(peer.codec.encode(messages)).catch(failAll);
  } catch (error) {
    failAll(error);
    return items.map((_, i) => results[i] ?? Promise.reject(error));
  }
  return results;
}
