/**
 * The client calls of a peer that go through interceptors and do not fit
 * one `interceptSent`: a batch (each entry its own pass through the chain,
 * the entries that reach its end sent together) and a streaming call (the
 * chain's result is the stream). Also how a call's metadata becomes the
 * `meta` of its request. Web-standard only.
 *
 * @module
 */

import { unwritten } from "../_call_headers.ts";
import type { Interceptor } from "../interceptors.ts";
import { interceptSent } from "../interceptors_client.ts";
import type { BatchEntry } from "../client.ts";
import type { CallOptions, RpcParams, RpcStream, StreamCallOptions } from "../types.ts";

/** One call of a batch, as the chain passed it on. */
export interface BatchItem {
  /** The method's name. */
  readonly method: string;
  /** Its params. */
  readonly params?: RpcParams | undefined;
  /** No reply expected. */
  readonly notification?: boolean | undefined;
  /** The call's options (the chain's signal). */
  readonly options?: CallOptions | undefined;
  /** The metadata the chain left. */
  readonly metadata?: Headers | undefined;
}

/**
 * The `meta` member of a request: the metadata's entries, or `undefined`
 * when there are none (so that nothing is added to the message).
 *
 * @param metadata the call's metadata
 * @returns its entries as an object, lowercase keys
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { metaOf } from "./_intercepted.ts";
 *
 * assert.equal(metaOf(new Headers()), undefined);
 * assert.deepEqual(metaOf(new Headers({ TraceParent: "00-x" })), { traceparent: "00-x" });
 * ```
 */
export function metaOf(metadata: Headers | undefined): Record<string, string> | undefined {
  if (metadata === undefined || unwritten(metadata)) return undefined;
  let meta: Record<string, string> | undefined;
  // forEach, not for…of: Deno's Headers iterator costs ~300 ns even when
  // empty, a tenth of a whole call in memory (tests/bench/interceptors_bench.ts).
  metadata.forEach((value, key) => {
    (meta ??= {})[key] = value;
  });
  return meta;
}

/**
 * Runs each entry of a batch through `interceptors`. The entries that reach
 * the chain's end are sent together (`send`) once every entry has either
 * reached it or been answered by an interceptor; an entry an interceptor
 * passes on again later (a retry) goes alone.
 *
 * @param interceptors the chain
 * @param entries the batch
 * @param options the batch's options
 * @param send sends items together, giving each one's outcome in order
 * @returns each entry's outcome, in order
 *
 * @example An interceptor answering one entry itself
 * ```ts
 * import assert from "node:assert/strict";
 * import { interceptBatch } from "./_intercepted.ts";
 *
 * const sent: string[][] = [];
 * const outcomes = await interceptBatch(
 *   [(next) => (call) => call.method === "cached" ? Promise.resolve("hit") : next(call)],
 *   [{ method: "cached" }, { method: "a" }, { method: "b" }],
 *   undefined,
 *   (items) => {
 *     sent.push(items.map((item) => item.method));
 *     return items.map((item) => Promise.resolve(item.method.toUpperCase()));
 *   },
 * );
 * assert.deepEqual(sent, [["a", "b"]]);
 * assert.deepEqual(outcomes.map((o) => o.status === "fulfilled" && o.value), ["hit", "A", "B"]);
 * ```
 */
export function interceptBatch(
  interceptors: readonly Interceptor[],
  entries: readonly BatchEntry[],
  options: CallOptions | undefined,
  send: (items: readonly BatchItem[]) => Promise<unknown>[],
): Promise<PromiseSettledResult<unknown>[]> {
  const gathered: { item: BatchItem; outcome: PromiseWithResolvers<unknown> }[] = [];
  let waiting = entries.length;
  let sent = false;
  const settled = (): void => {
    if (--waiting > 0) return;
    sent = true;
    if (gathered.length === 0) return;
    const outcomes = send(gathered.map((g) => g.item));
    gathered.forEach((g, i) => outcomes[i]!.then(g.outcome.resolve, g.outcome.reject));
  };
  return Promise.allSettled(entries.map((entry) => {
    let arrived = false;
    const outcome = interceptSent(
      interceptors,
      entry.notification ? "notification" : "call",
      entry.method,
      entry.params,
      options,
      (method, params, options, metadata) => {
        const item = { method, params, notification: entry.notification, options, metadata };
        if (arrived || sent) return send([item])[0]!;
        arrived = true;
        const gather = Promise.withResolvers<unknown>();
        gathered.push({ item, outcome: gather });
        settled();
        return gather.promise;
      },
    );
    // An entry answered without reaching the end counts as settled too.
    outcome.then(() => {}, () => {}).then(() => {
      if (arrived) return;
      arrived = true;
      settled();
    });
    return outcome;
  }));
}

/**
 * Opens a streaming call through `interceptors`: the chain sees the call
 * (kind `"call"`) and its result is the stream, given as soon as the chain
 * reaches `open`; the chain does not wait for the stream's end.
 *
 * @param interceptors the chain
 * @param method the method's name
 * @param params the request
 * @param options the caller's options (its messages, timeout, signal)
 * @param open opens the stream with what the chain passes on
 * @returns the stream, at once
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openThrough } from "./_intercepted.ts";
 *
 * const seen: string[] = [];
 * const stream = openThrough(
 *   [(next) => (call) => (seen.push(call.method), next(call))],
 *   "numbers",
 *   undefined,
 *   {},
 *   () => ({ messages: ReadableStream.from([1, 2]), result: Promise.resolve(null) }),
 * );
 * assert.deepEqual(await Array.fromAsync(stream.messages), [1, 2]);
 * assert.deepEqual(seen, ["numbers"]);
 * ```
 */
export function openThrough(
  interceptors: readonly Interceptor[],
  method: string,
  params: RpcParams | undefined,
  options: StreamCallOptions,
  open: (
    method: string,
    params: RpcParams | undefined,
    options: StreamCallOptions,
    metadata: Headers,
  ) => RpcStream,
): RpcStream {
  return deferredStream(interceptSent(
    interceptors,
    "call",
    method,
    params,
    options,
    (method, params, chained, metadata) => {
      try {
        return Promise.resolve(open(method, params, { ...options, ...chained }, metadata));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  ));
}

/**
 * A stream whose call is still going through the chain: its messages and
 * result follow the stream the chain gives.
 *
 * @param opened the chain's outcome, the stream
 * @returns a stream to give the caller at once
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deferredStream } from "./_intercepted.ts";
 *
 * const stream = deferredStream(Promise.resolve({
 *   messages: ReadableStream.from([1, 2]),
 *   result: Promise.resolve(null),
 * }));
 * assert.deepEqual(await Array.fromAsync(stream.messages), [1, 2]);
 * assert.equal(await stream.result, null);
 * ```
 */
export function deferredStream(opened: Promise<unknown>): RpcStream {
  const stream = opened.then((value) => {
    if (!isStream(value)) {
      throw new TypeError("An interceptor of a streaming call must give the stream it opened");
    }
    return value;
  });
  const result = stream.then((s) => s.result);
  // The caller may read only the messages: the result's rejection is theirs too.
  result.catch(() => {});
  return {
    messages: (async function* () {
      yield* (await stream).messages;
    })(),
    result,
  };
}

function isStream(value: unknown): value is RpcStream {
  return typeof value === "object" && value !== null && "messages" in value && "result" in value;
}
