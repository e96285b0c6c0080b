/**
 * The HTTP client: a {@linkcode Peer} whose outgoing frames are POSTed with
 * `fetch`, one request per frame. Web-standard only.
 *
 * @module
 */

import { ProtocolError } from "../../errors.ts";
import { type BatchEntry, type CallOptions, Peer, type PeerOptions } from "../../peer.ts";
import type { Codec, Frame, MessageStream, RpcId, RpcMessage, RpcParams } from "../../types.ts";
import { readBody } from "./_body.ts";

/**
 * The server answered a POST with a status other than 200 or 204. The calls
 * carried by that POST fail with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./client.ts";
 *
 * const error = new HttpError(401, "Unauthorized\n", "http://127.0.0.1:8080/rpc");
 * assert.equal(error.status, 401);
 * assert.equal(error.message, 'HTTP 401 from http://127.0.0.1:8080/rpc: "Unauthorized"');
 * ```
 */
export class HttpError extends Error {
  /** The HTTP status code. */
  readonly status: number;
  /** The response body as text (its first 64 KiB at most). */
  readonly body: string;

  /**
   * Creates the error.
   *
   * @param status the HTTP status code
   * @param body the response body as text
   * @param url the URL that answered
   * @param options standard error options, such as `cause`
   */
  constructor(status: number, body: string, url: string, options?: ErrorOptions) {
    const excerpt = body.trim().slice(0, 200);
    super(`HTTP ${status} from ${url}${excerpt === "" ? "" : `: ${JSON.stringify(excerpt)}`}`, {
      ...options,
    });
    this.name = "HttpError";
    this.status = status;
    this.body = body;
  }
}

/** Options of {@linkcode connectHttp}. */
export interface ConnectHttpOptions extends Omit<PeerOptions, "service"> {
  /** Headers sent with every POST (authorization, say). */
  readonly headers?: HeadersInit;
  /** The `fetch` to use; the global one by default. */
  readonly fetch?: typeof fetch;
  /** Largest response body in bytes, after decompression; 16 MiB by default. */
  readonly maxBodySize?: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

interface Post {
  readonly ids: Set<RpcId>;
  readonly controller: AbortController;
  answered: boolean;
}

/**
 * Connects to an HTTP endpoint: every call, notification or batch is one
 * `POST` (keep-alive is `fetch`'s own). A 200 reply is handed to the peer,
 * 204 means nothing to hand; any other status, or a failed request, fails the
 * calls of that POST with an {@linkcode HttpError} (or the network error), and
 * a call that a 200 reply does not answer fails with a `ProtocolError`.
 * A call's timeout or abort also aborts its request once no other call
 * waits on it. The server cannot call back over HTTP.
 *
 * @param url the endpoint, such as `http://127.0.0.1:8080/rpc`
 * @param options the codec, headers, default timeout, closing signal, `fetch`
 * @returns the peer; `close()` it when done
 *
 * @example
 * ```ts ignore
 * import { connectHttp } from "./client.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 *
 * const client = connectHttp("http://127.0.0.1:8080/rpc", {
 *   codec: jsonRpc(),
 *   headers: { authorization: "Basic " + btoa("alice:secret") },
 *   timeout: 5_000,
 * });
 * console.log(await client.call("add", [1, 2]));
 * await client.close();
 * ```
 */
export function connectHttp(url: string | URL, options: ConnectHttpOptions): Peer {
  const { headers, fetch: fetcher = globalThis.fetch, maxBodySize, ...peerOptions } = options;
  const codec = ownCodec(options.codec);
  const target = String(url);
  const transport = new HttpMessageStream(target, codec, {
    headers: new Headers(headers),
    fetch: fetcher,
    maxBodySize: maxBodySize ?? 16 * 1024 * 1024,
    onError: options.onError ?? (() => {}),
  });
  return new HttpPeer(transport, { ...peerOptions, codec });
}

// The client's codec: the user's, without the cancellation notification (a
// call is cancelled by aborting its request, and each POST has a session of
// its own on the server), remembering the request ids of the last encode so
// that a call can be told apart when its POST fails.
interface OwnCodec extends Codec {
  lastIds: RpcId[];
  /** The request ids of each frame encoded and not yet posted, in order. */
  readonly pending: RpcId[][];
  /** Replies are matched to calls by order (XML-RPC): one exchange at a time. */
  readonly ordered: boolean;
}

function ownCodec(shared: Codec): OwnCodec {
  const ordered = shared.fork !== undefined;
  const codec = shared.fork?.() ?? shared;
  const own: OwnCodec = {
    ordered,
    pending: [],
    name: codec.name,
    mediaType: codec.mediaType,
    features: codec.features,
    ...(codec.text === undefined ? {} : { text: codec.text }),
    lastIds: [],
    encode(message) {
      const frame = codec.encode(message);
      own.lastIds = requestIds(Array.isArray(message) ? message : [message as RpcMessage]);
      own.pending.push(own.lastIds);
      return frame;
    },
    decode: (frame) => codec.decode(frame),
  };
  return own;
}

function requestIds(messages: readonly RpcMessage[]): RpcId[] {
  const ids: RpcId[] = [];
  for (const m of messages) if (m.kind === "request") ids.push(m.id);
  return ids;
}

// A Peer whose calls can also be failed by their transport: each call gets an
// extra abort signal that the stream fires with the POST's error.
class HttpPeer extends Peer {
  readonly #stream: HttpMessageStream;
  readonly #codec: OwnCodec;

  constructor(stream: HttpMessageStream, options: PeerOptions & { codec: OwnCodec }) {
    super(stream, options);
    this.#stream = stream;
    this.#codec = options.codec;
  }

  override call<T = unknown>(
    method: string,
    params?: RpcParams,
    options?: CallOptions,
  ): Promise<T> {
    const controller = new AbortController();
    this.#codec.lastIds = [];
    const result = super.call<T>(method, params, this.#withFailure(controller, options));
    this.#stream.track(this.#codec.lastIds, controller, result);
    return result;
  }

  override batch(
    entries: readonly BatchEntry[],
    options?: CallOptions,
  ): Promise<PromiseSettledResult<unknown>[]> {
    const controller = new AbortController();
    this.#codec.lastIds = [];
    const results = super.batch(entries, this.#withFailure(controller, options));
    this.#stream.track(this.#codec.lastIds, controller, results);
    return results;
  }

  #withFailure(controller: AbortController, options: CallOptions | undefined): CallOptions {
    const signal = options?.signal === undefined
      ? controller.signal
      : AbortSignal.any([controller.signal, options.signal]);
    return options?.timeout === undefined ? { signal } : { signal, timeout: options.timeout };
  }
}

interface StreamSettings {
  readonly headers: Headers;
  readonly fetch: typeof fetch;
  readonly maxBodySize: number;
  readonly onError: (error: unknown) => void;
}

class HttpMessageStream implements MessageStream {
  readonly readable: ReadableStream<Frame>;
  readonly writable: WritableStream<Frame | readonly Frame[]>;
  readonly remote: string;
  readonly #codec: OwnCodec;
  readonly #settings: StreamSettings;
  #incoming!: ReadableStreamDefaultController<Frame>;
  readonly #posts = new Set<Post>();
  readonly #running = new Set<Promise<void>>();
  // Per call id: the controller that fails the call, and the POST carrying it.
  readonly #calls = new Map<RpcId, { controller: AbortController; post?: Post }>();
  #closed = false;
  #queue: Promise<void> = Promise.resolve();

  constructor(url: string, codec: OwnCodec, settings: StreamSettings) {
    this.remote = url;
    this.#codec = codec;
    this.#settings = settings;
    this.readable = new ReadableStream<Frame>({
      start: (controller) => {
        this.#incoming = controller;
      },
    });
    this.writable = new WritableStream<Frame | readonly Frame[]>({
      write: (chunk) => {
        if (typeof chunk === "string" || chunk instanceof Uint8Array) this.#post(chunk);
        else for (const frame of chunk) this.#post(frame);
      },
      // Lets notifications sent just before closing arrive.
      close: async () => {
        await Promise.allSettled([...this.#running]);
      },
    });
  }

  // Links a call's ids to the controller that can fail them; forgets them
  // once the call has settled, and aborts a POST nobody waits on any more.
  track(ids: readonly RpcId[], controller: AbortController, result: Promise<unknown>): void {
    if (ids.length === 0) return;
    for (const id of ids) this.#calls.set(id, { controller });
    const done = () => {
      for (const id of ids) {
        const post = this.#calls.get(id)?.post;
        this.#calls.delete(id);
        if (post === undefined) continue;
        post.ids.delete(id);
        if (post.ids.size === 0 && !post.answered) post.controller.abort();
      }
    };
    result.then(done, done);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const post of this.#posts) post.controller.abort();
      try {
        this.#incoming.close();
      } catch {
        // Errored or closed already.
      }
    }
    return Promise.resolve();
  }

  #post(frame: Frame): void {
    // Frames arrive in the order the codec encoded them.
    const ids = new Set<RpcId>(this.#codec.pending.shift());
    if (this.#closed) return;
    const post: Post = { ids, controller: new AbortController(), answered: false };
    for (const id of ids) {
      const call = this.#calls.get(id);
      if (call !== undefined) call.post = post;
    }
    this.#posts.add(post);
    // An ordered codec matches replies by order: its POSTs go one at a time.
    const sent = this.#codec.ordered
      ? (this.#queue = this.#queue.then(() => this.#send(frame, post)).catch((error) =>
        this.#fail(post, error)
      ))
      : this.#send(frame, post);
    const running = sent.finally(() => {
      this.#posts.delete(post);
      this.#running.delete(running);
    });
    this.#running.add(running);
  }

  async #send(frame: Frame, post: Post): Promise<void> {
    const { headers, fetch: fetcher, maxBodySize } = this.#settings;
    const requestHeaders = new Headers(headers);
    requestHeaders.set("content-type", this.#codec.mediaType);
    if (!requestHeaders.has("accept")) requestHeaders.set("accept", this.#codec.mediaType);
    try {
      const response = await fetcher(this.remote, {
        method: "POST",
        headers: requestHeaders,
        body: frame as string | Uint8Array<ArrayBuffer>,
        signal: post.controller.signal,
      });
      if (response.status !== 200) {
        const text = (await response.text().catch(() => "")).slice(0, 65536);
        if (response.status !== 204) {
          this.#fail(post, new HttpError(response.status, text, this.remote));
        }
        return;
      }
      const bytes = await readBody(response.body, maxBodySize, false);
      post.answered = true;
      if (bytes.length === 0 || this.#closed) return;
      let reply: Frame = bytes;
      if (this.#codec.text === true) {
        try {
          reply = utf8.decode(bytes);
        } catch {
          // Left as bytes for the codec to reject.
        }
      }
      this.#incoming.enqueue(reply);
      // The peer settles calls from the reply within this turn's microtasks;
      // a call still waiting after that was not answered by the reply.
      if (post.ids.size > 0) setTimeout(() => this.#unanswered(post), 0);
    } catch (error) {
      if (post.controller.signal.aborted) return; // Nobody waits for it any more.
      this.#fail(post, error);
    }
  }

  #unanswered(post: Post): void {
    if (post.ids.size === 0 || this.#closed) return;
    const ids = [...post.ids].map((id) => JSON.stringify(id)).join(", ");
    this.#fail(post, new ProtocolError(`The reply from ${this.remote} did not answer call ${ids}`));
  }

  #fail(post: Post, error: unknown): void {
    if (post.ids.size === 0) {
      this.#settings.onError(error);
      return;
    }
    for (const id of [...post.ids]) this.#calls.get(id)?.controller.abort(error);
  }
}
