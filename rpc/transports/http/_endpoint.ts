/**
 * The endpoint an HTTP client posts to: its URL (or Unix socket), headers and
 * `fetch`, and what one POST makes of its reply: a decoded frame, or an error
 * saying what came instead. No session: each POST stands alone.
 *
 * @module
 */

import { DecodeError, LimitError, ProtocolError } from "../../errors.ts";
import type { Codec, DecodedFrame, Frame } from "../../types.ts";
import { BodyTooLargeError, gzipStream, readBody } from "./_body.ts";
import { noReply } from "./_no_reply.ts";
import { unixFetch, unixTarget } from "./_unix.ts";

/**
 * The server answered a POST with a status other than 200 or 204. The calls
 * carried by that POST fail with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./_endpoint.ts";
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

/** What an {@linkcode HttpEndpoint} posts with. */
export interface HttpEndpointSettings {
  /** The codec's media type: the content type sent and accepted. */
  readonly mediaType: string;
  /** Headers sent with every POST. */
  readonly headers?: HeadersInit | undefined;
  /** The `fetch` to use; the global one by default. */
  readonly fetch?: typeof fetch | undefined;
  /** The path of a Unix domain socket every request goes to. */
  readonly unixSocket?: string | undefined;
  /** Largest response body in bytes, after decompression; 16 MiB by default. */
  readonly maxBodySize?: number | undefined;
  /** Request bodies larger than this many bytes are sent gzipped; off by default. */
  readonly compressThreshold?: number | undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * One HTTP endpoint: each {@linkcode HttpEndpoint.post} is one `POST` with
 * `fetch`, its reply decoded by the codec instance it is given.
 *
 * @example A POST to a server that answers one JSON-RPC call
 * ```ts
 * import assert from "node:assert/strict";
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
 * const codec = jsonRpc();
 * const frame = codec.encode({ kind: "request", id: 1, method: "add", params: [1, 2] });
 * const reply = await endpoint.post(codec, frame, new AbortController().signal);
 * assert.deepEqual(reply, { kind: "result", id: 1, result: 3 });
 * endpoint.release();
 * ```
 */
export class HttpEndpoint {
  /** The endpoint's URL. */
  readonly remote: string;
  // What is requested: `remote`, or its request path over a Unix socket.
  readonly #url: string;
  // A plain record: `fetch` copies one faster than a `Headers`.
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;
  readonly #release: () => void;
  readonly #maxBodySize: number;
  readonly #compressThreshold: number;

  /**
   * Sets the endpoint up; nothing is sent yet.
   *
   * @param url the endpoint, `http(s)://` or `http+unix://`
   * @param settings media type, headers, `fetch`, Unix socket, body limits
   * @throws {TypeError} for a Unix socket outside Deno, with `fetch` or with `https://`
   */
  constructor(url: string | URL, settings: HttpEndpointSettings) {
    this.remote = String(url);
    const unix = unixTarget(this.remote, settings.unixSocket, settings.fetch !== undefined);
    this.#url = unix?.url ?? this.remote;
    const headers = new Headers(settings.headers);
    headers.set("content-type", settings.mediaType);
    if (!headers.has("accept")) headers.set("accept", settings.mediaType);
    this.#headers = Object.fromEntries(headers);
    this.#maxBodySize = settings.maxBodySize ?? 16 * 1024 * 1024;
    this.#compressThreshold = settings.compressThreshold ?? Infinity;
    // Last, once nothing else can throw: it holds connections until release().
    const socket = unix === undefined ? undefined : unixFetch(unix.socket);
    this.#fetch = socket?.fetch ?? settings.fetch ?? globalThis.fetch;
    this.#release = socket?.close ?? (() => {});
  }

  /** Releases the connections held to a Unix socket; nothing otherwise. */
  release(): void {
    this.#release();
  }

  /**
   * POSTs one frame and decodes the reply.
   *
   * @param codec the exchange's codec instance, which decodes the reply
   * @param frame the encoded request
   * @param signal aborts the request
   * @param metadata the call's metadata, sent as further headers
   * @returns the decoded reply; `undefined` for 204 or an empty body
   * @throws {HttpError} a status other than 200 and 204
   * @throws {ConnectionClosedError} no reply (refused, reset, cut off)
   * @throws {LimitError} a body over `maxBodySize`
   * @throws {ProtocolError} a body the codec cannot read
   */
  async post(
    codec: Codec,
    frame: Frame,
    signal: AbortSignal,
    metadata?: Headers,
  ): Promise<DecodedFrame | undefined> {
    // A text frame has at least as many bytes as UTF-16 units.
    const compress = frame.length > this.#compressThreshold;
    const body = compress
      ? await gzipBytes(typeof frame === "string" ? new TextEncoder().encode(frame) : frame)
      : frame as string | Uint8Array<ArrayBuffer>;
    let response: Response;
    let bytes: Uint8Array;
    // Called unbound: a browser's fetch throws "Illegal invocation" when its
    // `this` is anything but the window (here it would be the endpoint).
    const post = this.#fetch;
    try {
      response = await post(this.#url, {
        method: "POST",
        headers: headersOf(this.#headers, metadata, compress),
        body,
        signal,
      });
    } catch (error) {
      // fetch's own failures are TypeErrors; others (a CertificateError from
      // tlsClient's fetch, say) already say what happened.
      throw error instanceof TypeError ? noReply(this.remote, error) : error;
    }
    try {
      if (response.status === 204) {
        await response.body?.cancel();
        return undefined;
      }
      bytes = await this.#read(response);
    } catch (error) {
      // The reply broke off (a server killed mid-reply): the same as no reply.
      throw error instanceof LimitError ? error : noReply(this.remote, error);
    }
    if (response.status !== 200) {
      const text = new TextDecoder().decode(bytes.subarray(0, 65536));
      throw new HttpError(response.status, text, this.remote);
    }
    if (bytes.length === 0) return undefined;
    let reply: Frame = bytes;
    if (codec.text === true) {
      try {
        reply = utf8.decode(bytes);
      } catch {
        // Left as bytes for the codec to reject.
      }
    }
    try {
      return codec.decode(reply);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      // Say what came instead: an HTML error page, another protocol's reply.
      const type = response.headers.get("content-type") ?? "no content type";
      const start = new TextDecoder().decode(bytes.subarray(0, 80)).replace(/\s+/g, " ");
      throw new ProtocolError(
        `The reply from ${this.remote} is malformed (HTTP ${response.status}, ${type}, ` +
          `${bytes.length} bytes: ${JSON.stringify(start)}${bytes.length > 80 ? "…" : ""}): ` +
          error.message,
        { cause: error },
      );
    }
  }

  async #read(response: Response): Promise<Uint8Array> {
    const length = response.headers.get("content-length");
    // A declared length that fits is read in one go; a compressed or chunked
    // body is read piece by piece under the limit.
    if (length !== null && response.headers.get("content-encoding") === null) {
      if (Number(length) <= this.#maxBodySize) return await response.bytes();
      await response.body?.cancel();
      throw this.#tooLarge(Number(length));
    }
    try {
      return await readBody(response.body, this.#maxBodySize, false);
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw this.#tooLarge(error.size);
      throw error;
    }
  }

  #tooLarge(size: number): LimitError {
    return new LimitError(
      "maxBodySize",
      this.#maxBodySize,
      `The reply from ${this.remote} has at least ${size} bytes, over maxBodySize`,
    );
  }
}

async function gzipBytes(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(gzipStream(bytes)).arrayBuffer());
}

// The POST's headers: the client's, the call's metadata over them (but not
// over the body's own headers), and the body's coding.
function headersOf(
  own: Record<string, string>,
  metadata: Headers | undefined,
  compress: boolean,
): Record<string, string> | Headers {
  if (metadata === undefined || metadata.keys().next().done === true) {
    return compress ? { ...own, "content-encoding": "gzip" } : own;
  }
  const headers = new Headers(own);
  for (const [key, value] of metadata) {
    if (!key.startsWith("content-")) headers.set(key, value);
  }
  if (compress) headers.set("content-encoding", "gzip");
  return headers;
}
