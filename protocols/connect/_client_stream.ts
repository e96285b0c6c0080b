/**
 * The Connect client's streaming calls on `fetch`: the request's messages
 * enveloped (one, or a stream body sent as they come, `duplex: "half"`:
 * chunked over HTTP/1.1), the reply's read as the caller iterates, the
 * end-of-stream message's error thrown and its trailers handed over.
 * Leaving the loop early, the timeout or the caller's signal aborts the
 * fetch, which the server sees as the client going away.
 *
 * @module
 */

import type { ProtoMethod, ProtoSchema } from "../../codecs/protobuf/schema.ts";
import { TimeoutError } from "../../rpc/errors.ts";
import type { RpcParams, RpcStream, StreamCallOptions } from "../../rpc/types.ts";
import { envelope, EnvelopeReader, FLAG_COMPRESSED, FLAG_END_STREAM } from "./_envelope.ts";
import { essence, gunzip, gzip } from "./_compress.ts";
import { readEndStream } from "./_end_stream.ts";
import { mediaTypeError, statusError } from "./_reply.ts";
import { type ConnectFormat, decodeBody, encodeBody, MAX_TIMEOUT_MS } from "./_wire.ts";
import { ConnectError } from "./errors.ts";

/** A reply's metadata, as a client sees it. */
export interface ConnectResponseMetadata {
  /** The reply's headers. */
  readonly headers: Headers;
  /** Its trailers (`trailer-` headers of a unary reply, the end-of-stream message's `metadata`). */
  readonly trailers: Headers;
}

/** Per-call options of a streaming call. */
export interface ConnectStreamOptions extends StreamCallOptions {
  /** Headers for this call only. */
  readonly headers?: HeadersInit;
  /** Told the reply's headers and trailers when the call ends (not when it fails without a reply). */
  readonly onMetadata?: (metadata: ConnectResponseMetadata) => void;
}

/** What a streaming call needs from its client. */
export interface StreamClient {
  readonly base: string;
  readonly schema: ProtoSchema;
  readonly format: ConnectFormat;
  readonly fetch: typeof fetch;
  readonly headers: HeadersInit | undefined;
  readonly timeout: number | undefined;
  /** The largest message each way, in bytes (as sent, and inflated). */
  readonly maxMessageSize: number;
  /** Request messages larger than this are gzipped. */
  readonly compressThreshold: number;
  /** The calls in flight, aborted by `close()`. */
  readonly inFlight: Set<AbortController>;
  /** The error for a fetch that got no reply (or lost it midway): fetch's TypeError, said plainly. */
  readonly noReply: (url: string, error: unknown) => Error;
}

/**
 * Opens a streaming call.
 *
 * @param client the client's settings
 * @param name the method's wire name
 * @param params the request message, when the request does not stream
 * @param options the caller's messages (`input`), timeout, signal, headers
 * @returns the reply's messages and the call's result
 * @throws {TypeError} for a method the schema lacks or that does not stream
 */
export function openConnectStream(
  client: StreamClient,
  name: string,
  params: RpcParams | undefined,
  options: ConnectStreamOptions,
): RpcStream {
  const method = client.schema.method(name);
  if (method === undefined || !(method.clientStreaming || method.serverStreaming)) {
    throw new TypeError(
      method === undefined
        ? `"${name}" is not a method of the schema (expected package.Service/Method)`
        : `"${name}" is a unary method: use call()`,
    );
  }
  const controller = new AbortController();
  const timeout = options.timeout ?? client.timeout;
  const headers = new Headers(client.headers);
  new Headers(options.headers).forEach((value, key) => headers.set(key, value));
  headers.set("content-type", `application/connect+${client.format}`);
  headers.set("connect-protocol-version", "1");
  headers.set("connect-accept-encoding", "gzip");
  if (client.compressThreshold !== Infinity) headers.set("connect-content-encoding", "gzip");
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (timeout !== undefined && timeout !== Infinity) {
    headers.set(
      "connect-timeout-ms",
      String(Math.max(1, Math.min(Math.ceil(timeout), MAX_TIMEOUT_MS))),
    );
    timer = setTimeout(() => controller.abort(new TimeoutError(name, timeout)), timeout);
  }
  const outer = options.signal;
  outer?.throwIfAborted();
  const onAbort = () => controller.abort(outer!.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  client.inFlight.add(controller);
  const done = () => {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onAbort);
    client.inFlight.delete(controller);
  };

  const url = `${client.base}/${method.name}`;
  const enveloped = async (bytes: Uint8Array) =>
    bytes.length > client.compressThreshold
      ? envelope(FLAG_COMPRESSED, await gzip(bytes))
      : envelope(0, bytes);
  const encode = (message: unknown) =>
    enveloped(encodeBody(method.request, message ?? {}, client.format));
  let body: () => Promise<BodyInit>;
  if (method.clientStreaming) {
    body = () => Promise.resolve(requestStream(options.input, encode, controller));
  } else {
    // Encoded now: a request that does not fit its type throws here, at the call.
    const bytes = encodeBody(
      method.request,
      (Array.isArray(params) ? params[0] : params) ?? {},
      client.format,
    );
    body = () => enveloped(bytes);
  }
  const replies = readReplies(client, method, url, body, headers, controller, options);
  // The messages' loop and the result share one reading of the reply.
  const reading = replies[Symbol.asyncIterator]();
  const finish = (error?: unknown) => {
    done();
    if (error !== undefined) throw controller.signal.aborted ? controller.signal.reason : error;
  };
  const messages = async function* () {
    let ended = false;
    try {
      for (;;) {
        const next = await reading.next().catch(finish);
        if (next === undefined || next.done === true) {
          ended = true;
          return;
        }
        yield next.value;
      }
    } finally {
      if (!ended) controller.abort(new ConnectError("canceled", "The caller left the stream"));
      finish();
    }
  };
  let result: Promise<unknown>;
  if (method.serverStreaming) {
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    result = promise;
    const iterable = messages();
    const tracked = (async function* () {
      try {
        yield* iterable;
        resolve(null);
      } catch (error) {
        reject(error);
        throw error;
      } finally {
        reject(new ConnectError("canceled", "The caller left the stream"));
      }
    })();
    result.catch(() => {}); // the loop throws the same error
    return { messages: tracked, result };
  }
  result = (async () => {
    let reply: unknown;
    let count = 0;
    for await (const message of messages()) {
      reply = message;
      count++;
    }
    if (count !== 1) {
      throw new ConnectError(
        "internal",
        `POST ${url} answered ${count} messages to a call that takes one`,
      );
    }
    return reply;
  })();
  result.catch(() => {}); // whoever awaits it sees the error
  return {
    messages: (async function* () {
      yield await result;
    })(),
    result,
  };
}

// The caller's messages as a request body, each enveloped when fetch asks
// for more; what the iterable throws (or a message that does not encode)
// aborts the call with that error.
function requestStream(
  input: AsyncIterable<unknown> | undefined,
  encode: (message: unknown) => Promise<Uint8Array>,
  controller: AbortController,
): ReadableStream<Uint8Array> {
  const iterator = input?.[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(body) {
      try {
        const next = await iterator?.next();
        if (next === undefined || next.done === true) return body.close();
        body.enqueue(await encode(next.value));
      } catch (error) {
        controller.abort(error);
        body.error(error);
      }
    },
    cancel() {
      iterator?.return?.()?.catch(() => {});
    },
  }, { highWaterMark: 0 });
}

// The reply's messages, read as they are asked for; the end-of-stream
// message's error is thrown, its trailers handed to onMetadata.
async function* readReplies(
  client: StreamClient,
  method: ProtoMethod,
  url: string,
  body: () => Promise<BodyInit>,
  headers: Headers,
  controller: AbortController,
  options: ConnectStreamOptions,
): AsyncGenerator<unknown> {
  let response: Response;
  try {
    response = await client.fetch(url, {
      method: "POST",
      headers,
      body: await body(),
      signal: controller.signal,
      duplex: "half",
    } as RequestInit);
  } catch (error) {
    // fetch's own failures are TypeErrors; others already say what happened.
    if (controller.signal.aborted || !(error instanceof TypeError)) throw error;
    throw client.noReply(url, error);
  }
  if (response.status !== 200) {
    throw statusError(response, await start(response), url, client.schema);
  }
  const expected = `application/connect+${client.format}`;
  const type = essence(response.headers.get("content-type"));
  if (type !== expected) {
    const code = type.startsWith("application/connect+") ? "internal" : "unknown";
    throw mediaTypeError(response, await start(response), url, expected, code);
  }
  const coding = response.headers.get("connect-content-encoding") ?? "identity";
  const reader = new EnvelopeReader(response.body, {
    maxSize: client.maxMessageSize,
    truncated: "internal",
  });
  for (;;) {
    let next;
    try {
      next = await reader.next();
    } catch (error) {
      if (error instanceof ConnectError) throw error;
      if (controller.signal.aborted || !(error instanceof TypeError)) throw error;
      throw client.noReply(url, error);
    }
    if (next === undefined) {
      throw new ConnectError("internal", `POST ${url} ended without its end-of-stream message`);
    }
    let data = next.data;
    if ((next.flags & FLAG_COMPRESSED) !== 0) {
      if (coding !== "gzip") {
        throw new ConnectError(
          "internal",
          `POST ${url} sent a compressed message with connect-content-encoding ${coding}`,
        );
      }
      data = await gunzip(data, client.maxMessageSize);
    }
    if ((next.flags & FLAG_END_STREAM) !== 0) {
      const end = readEndStream(data, client.schema);
      options.onMetadata?.({ headers: response.headers, trailers: end.trailers });
      if (end.error !== undefined) throw end.error;
      return;
    }
    let message: Record<string, unknown>;
    try {
      message = decodeBody(method.response, data, client.format);
    } catch (error) {
      throw new ConnectError(
        "internal",
        `POST ${url} sent a message that is not a ${method.response.name} (${client.format}): ${
          (error as Error).message
        }`,
        [],
        { cause: error },
      );
    }
    yield message;
  }
}

// The first bytes of a reply that is not a stream, for what the error says.
async function start(response: Response): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  try {
    const { value } = await reader.read();
    return value ?? new Uint8Array(0);
  } catch {
    return new Uint8Array(0);
  } finally {
    reader.cancel().catch(() => {});
  }
}
