/**
 * Answering one `POST` to a route of `serveHttp`: the body, checked
 * (Content-Type, Content-Encoding, size, UTF-8 for a text codec), is one
 * frame; its reply frame is the response, gzipped when large and accepted.
 * Routing, the method and authentication are `server.ts`'s.
 *
 * @module
 */

import { DecodeError } from "../../errors.ts";
import type { DirectResponder, ExchangeMetadata } from "../../responder.ts";
import type { ConnectionScope } from "../../connection.ts";
import type { Codec, Frame } from "../../types.ts";
import { CallHeaders, unwritten } from "../../_call_headers.ts";
import { acceptsGzip, BodyTooLargeError, essence, gzipStream, readBody } from "./_body.ts";

/** What {@linkcode answerPost} needs of a route. */
export interface PostRoute {
  /** How the body becomes messages (`text` codecs get a string frame). */
  readonly codec: Codec;
  /** The accepted Content-Types, without parameters. */
  readonly accepted: ReadonlySet<string>;
  /** The Content-Type of replies. */
  readonly contentType: string;
  /**
   * Answers one frame with a reply frame, or `undefined` when none is due:
   * at once when it can (a {@linkcode DirectResponder}), else a promise.
   */
  readonly respond: DirectResponder;
  /** The status of a POST that needs no reply; 204 when absent. */
  readonly noReplyStatus?: 200 | 204;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Answers a `POST` to `route` (method and authentication already checked):
 * 415 for a wrong Content-Type or Content-Encoding, 413 over `maxBodySize`,
 * 400 for a body that cannot be a frame, else the reply frame (200) or no
 * body (`noReplyStatus`). Replies longer than `threshold` go out gzipped to
 * a client that accepts it.
 *
 * @param request the request
 * @param route the route's codec, media types and responder
 * @param maxBodySize the largest body accepted, after decompression
 * @param threshold the reply size above which it is gzipped
 * @returns the response
 *
 * @example A JSON-RPC call, then a body of the wrong type
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerPost } from "./_post.ts";
 * import { jsonRpc } from "../../../codecs/json_rpc.ts";
 * import { createResponder } from "../../responder.ts";
 *
 * const codec = jsonRpc();
 * const route = {
 *   codec,
 *   accepted: new Set([codec.mediaType]),
 *   contentType: codec.mediaType,
 *   respond: createResponder({ codec, service: { add: (a: number, b: number) => a + b } }),
 * };
 * const post = (type: string, body: string) =>
 *   new Request("http://127.0.0.1/rpc", {
 *     method: "POST",
 *     headers: { "content-type": type },
 *     body,
 *   });
 * const call = '{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}';
 * const reply = await answerPost(post(codec.mediaType, call), route, 1024, 1024);
 * assert.deepEqual(await reply.json(), { jsonrpc: "2.0", id: 1, result: 3 });
 * assert.equal((await answerPost(post("text/plain", call), route, 1024, 1024)).status, 415);
 * ```
 */
export async function answerPost(
  request: Request,
  route: PostRoute,
  maxBodySize: number,
  threshold: number,
  connection?: ConnectionScope,
): Promise<Response> {
  if (!route.accepted.has(essence(request.headers.get("content-type")))) {
    return plain(415, `Unsupported Media Type: expected ${[...route.accepted].join(" or ")}`);
  }
  const coding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (coding !== "identity" && coding !== "gzip" && coding !== "x-gzip") {
    return plain(415, `Unsupported Content-Encoding: ${coding}`);
  }
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (coding === "identity" && declared > maxBodySize) {
    request.body?.cancel().catch(() => {});
    return plain(413, `Body exceeds the limit of ${maxBodySize} bytes`);
  }
  let bytes: Uint8Array;
  try {
    // A declared length within the limit is all that can arrive: read it in one go.
    bytes = coding === "identity" && declared >= 0
      ? await request.bytes()
      : await readBody(request.body, maxBodySize, coding !== "identity");
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return plain(413, `Body exceeds the limit of ${maxBodySize} bytes`);
    }
    return plain(400, `Bad Request: cannot read the body (${(error as Error).message})`);
  }
  if (bytes.length === 0) return plain(400, "Bad Request: empty body");
  let frame: Frame = bytes;
  if (route.codec.text === true) {
    try {
      frame = utf8.decode(bytes);
    } catch {
      return plain(400, "Bad Request: the body is not valid UTF-8");
    }
  }
  let reply: Frame | undefined;
  // What handlers add to their call's reply headers (`callMetadata(ctx).headers`),
  // made only when one looks: most calls' stay empty.
  const exchange = new PostExchange(request);
  try {
    // Handlers that read their signal see the client's abort. A reply that
    // is ready at once (synchronous handlers) costs no promise and no turn.
    const answered = route.respond(frame, exchange.signal, exchange, connection);
    reply = answered instanceof Promise ? await answered : answered;
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return plain(400, `Bad Request: ${error.message}`);
  }
  const replied = exchange.replied;
  if (reply === undefined) {
    return new Response(null, {
      status: route.noReplyStatus ?? 204,
      headers: withHeaders(replied, {}),
    });
  }
  // A text reply has at least as many bytes as UTF-16 units, so short ones
  // go out as they are, without a copy to bytes first.
  if (reply.length > threshold && acceptsGzip(request.headers.get("accept-encoding"))) {
    const body = typeof reply === "string" ? encoder.encode(reply) : reply;
    if (body.length > threshold) {
      return new Response(gzipStream(body), {
        status: 200,
        headers: withHeaders(replied, {
          "content-type": route.contentType,
          "content-encoding": "gzip",
          "vary": "accept-encoding",
        }),
      });
    }
  }
  return new Response(reply as string | Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: withHeaders(replied, { "content-type": route.contentType }),
  });
}

// The metadata of one POST: the request's headers, and the reply's, made
// when a handler first reads them (most never do), as NATS's exchange is.
class PostExchange implements ExchangeMetadata {
  readonly #request: Request;
  #headers: CallHeaders | undefined;
  constructor(request: Request) {
    this.#request = request;
  }
  get request(): Headers {
    return this.#request.headers;
  }
  get headers(): Headers {
    return this.#headers ??= new CallHeaders(undefined);
  }
  // The reply's headers if a handler made them.
  get replied(): CallHeaders | undefined {
    return this.#headers;
  }
  // Asked for only when a handler reads its context's signal.
  readonly signal = (): AbortSignal => this.#request.signal;
}

// The reply's own headers over those its handlers added; a handler's
// headers about the body or the connection are dropped (the body is ours).
function withHeaders(
  replied: CallHeaders | undefined,
  own: Record<string, string>,
): Headers | Record<string, string> {
  if (replied === undefined || unwritten(replied)) return own;
  const headers = new Headers();
  for (const [key, value] of replied) {
    if (!BODY_HEADERS.test(key)) headers.set(key, value);
  }
  for (const key in own) headers.set(key, own[key]!);
  return headers;
}

const BODY_HEADERS = /^(content-|transfer-encoding$|connection$|keep-alive$|upgrade$)/;

/**
 * A plain-text response, for refusals.
 *
 * @param status the HTTP status
 * @param text the message (a newline is added)
 * @param headers further headers
 * @returns the response
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plain } from "./_post.ts";
 *
 * const response = plain(405, "Method Not Allowed", { allow: "POST" });
 * assert.equal(response.headers.get("allow"), "POST");
 * assert.equal(await response.text(), "Method Not Allowed\n");
 * ```
 */
export function plain(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(text + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}
