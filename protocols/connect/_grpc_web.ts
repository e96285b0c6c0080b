/**
 * gRPC-Web's bytes on HTTP/1.1 and fetch: its content types, request bodies
 * read as length-prefixed messages (binary, or base64 for `-text`), and
 * replies whose trailers travel in the body, a frame flagged 0x80 holding
 * HTTP/1-style `key: value\r\n` lines (browsers cannot read HTTP trailers).
 * The messages' framing, `grpc-timeout` and `grpc-message`'s encoding are
 * gRPC's own (rpc/transports/grpc/_wire.ts).
 *
 * @module
 */

import { GrpcWireError, MessageReader, percentEncode, PREFIX_SIZE } from "../grpc/_wire.ts";
import type { GrpcStatus } from "../grpc/_status.ts";
import { concatBytes } from "../../rpc/framing/_concat.ts";

/** How a gRPC-Web body travels: bytes, or their base64 (`-text`). */
export type GrpcWebMode = "binary" | "text";

const MODES: Readonly<Record<string, GrpcWebMode>> = {
  "application/grpc-web": "binary",
  "application/grpc-web+proto": "binary",
  "application/grpc-web-text": "text",
  "application/grpc-web-text+proto": "text",
};

/**
 * The gRPC-Web mode of a media type (its essence: parameters removed,
 * lower case), or `undefined` when it is not gRPC-Web with protobuf.
 *
 * @param essence the request's media type
 * @returns the mode, or `undefined`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grpcWebModeOf } from "./_grpc_web.ts";
 *
 * assert.equal(grpcWebModeOf("application/grpc-web+proto"), "binary");
 * assert.equal(grpcWebModeOf("application/grpc-web-text"), "text");
 * assert.equal(grpcWebModeOf("application/proto"), undefined);
 * ```
 */
export function grpcWebModeOf(essence: string): GrpcWebMode | undefined {
  return Object.hasOwn(MODES, essence) ? MODES[essence] : undefined;
}

/** A reply's content type: the mode's, with the message format said. */
function contentTypeOf(mode: GrpcWebMode): string {
  return mode === "binary" ? "application/grpc-web+proto" : "application/grpc-web-text+proto";
}

/**
 * Reads a request body's length-prefixed messages as they arrive, base64
 * decoded first in `text` mode. A message's length is checked against
 * `maxMessageSize` from its prefix, before its bytes are kept; reading
 * stops at `maxMessages` messages.
 *
 * @param body the request's body
 * @param mode binary or text
 * @param maxMessageSize the largest message accepted, in bytes
 * @param maxMessages how many messages may come (1 for a unary call)
 * @param signal stops reading (the body is cancelled) when it fires
 * @returns the messages, in order
 * @throws {GrpcWireError} status 8 for a message over the limit, 13 for a
 *   body that ends inside a message, holds too many or a compressed one, 3
 *   for text that is not base64
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readGrpcWebMessages } from "./_grpc_web.ts";
 *
 * const framed = new Uint8Array([0, 0, 0, 0, 2, 8, 3]);
 * const text = new Blob([framed.toBase64()]).stream();
 * assert.deepEqual(await readGrpcWebMessages(text, "text", 1024, 1), [new Uint8Array([8, 3])]);
 * ```
 */
export async function readGrpcWebMessages(
  body: ReadableStream<Uint8Array> | null,
  mode: GrpcWebMode,
  maxMessageSize: number,
  maxMessages: number,
  signal?: AbortSignal,
): Promise<Uint8Array[]> {
  const reader = new MessageReader(maxMessageSize);
  if (body === null) return reader.messages;
  const base64 = mode === "text" ? new Base64Decoder() : undefined;
  const chunks = body.getReader();
  const stop = () => chunks.cancel().catch(() => {});
  signal?.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await chunks.read();
      if (done) break;
      reader.push(base64 === undefined ? value : base64.push(value));
      if (reader.messages.length > maxMessages) {
        throw new GrpcWireError(13, `The call takes ${maxMessages} message(s), and more came`);
      }
    }
    base64?.end();
    reader.end();
    return reader.messages;
  } finally {
    signal?.removeEventListener("abort", stop);
    stop(); // a refused body is not read to its end
  }
}

// Base64 arriving in chunks that split its 4-character groups anywhere. A
// client may also send each message's base64 on its own, padding and all:
// a group ending in "=" ends a piece that decodes by itself.
class Base64Decoder {
  #text = new TextDecoder();
  #carry = "";

  push(chunk: Uint8Array): Uint8Array {
    const text = this.#carry + this.#text.decode(chunk, { stream: true }).replace(/\s+/g, "");
    const whole = text.length - (text.length % 4);
    this.#carry = text.slice(whole);
    return decodeBase64(text.slice(0, whole));
  }

  end(): void {
    if (this.#carry.length > 0) {
      throw new GrpcWireError(3, "The base64 body ends inside a 4-character group");
    }
  }
}

function decodeBase64(text: string): Uint8Array {
  try {
    if (!text.includes("=")) return Uint8Array.fromBase64(text);
    const pieces = text.split(/(?<==)(?=[^=])/).map((piece) => Uint8Array.fromBase64(piece));
    return concatBytes(pieces);
  } catch (error) {
    throw new GrpcWireError(3, `The body is not base64: ${(error as Error).message}`);
  }
}

/** Trailers as gRPC-Web carries them: `grpc-status`, `grpc-message` and the details. */
function statusLines(status: GrpcStatus | undefined): Record<string, string> {
  if (status === undefined) return { "grpc-status": "0" };
  const lines: Record<string, string> = {
    "grpc-status": String(status.code),
    "grpc-message": percentEncode(status.message),
  };
  if (status.details !== undefined) {
    lines["grpc-status-details-bin"] = status.details.toBase64({ omitPadding: true });
  }
  return lines;
}

/** A reply's metadata: headers before its messages, trailers after them. */
export interface GrpcWebMetadata {
  readonly headers?: HeadersInit;
  readonly trailers?: HeadersInit;
}

const encoder = new TextEncoder();
const RESERVED = new Set(["grpc-status", "grpc-message", "grpc-status-details-bin"]);

/**
 * A frame of the reply body as it travels: the bytes, or their base64 in
 * `text` mode (each frame on its own, padded, as Envoy's gRPC-Web filter
 * sends them).
 *
 * @param mode binary or text
 * @param frame the frame's bytes
 * @returns what goes in the body
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyChunk } from "./_grpc_web.ts";
 *
 * assert.equal(new TextDecoder().decode(bodyChunk("text", new Uint8Array([0, 0, 0, 0, 0]))), "AAAAAAA=");
 * ```
 */
export function bodyChunk(mode: GrpcWebMode, frame: Uint8Array): Uint8Array {
  return mode === "binary" ? frame : encoder.encode(frame.toBase64());
}

/**
 * The trailer frame (flag 0x80): `trailers`, then the status (OK when
 * `undefined`), as `key: value\r\n` lines.
 *
 * @param status the call's status; OK when `undefined`
 * @param trailers the call's trailers
 * @returns the frame
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trailerFrame } from "./_grpc_web.ts";
 *
 * const frame = trailerFrame(undefined, { "x-cost": "3" });
 * assert.equal(frame[0], 0x80);
 * assert.equal(new TextDecoder().decode(frame.subarray(5)), "x-cost: 3\r\ngrpc-status: 0\r\n");
 * ```
 */
export function trailerFrame(
  status: GrpcStatus | undefined,
  trailers: HeadersInit = {},
): Uint8Array {
  const fixed = Object.entries(statusLines(status));
  // What the protocol itself sends wins over metadata of the same name.
  const custom = [...new Headers(trailers)].filter(([key]) => !RESERVED.has(key));
  const lines = [...custom, ...fixed].map(([key, value]) => `${key}: ${value}\r\n`).join("");
  const text = encoder.encode(lines);
  const frame = new Uint8Array(PREFIX_SIZE + text.length);
  frame[0] = 0x80;
  new DataView(frame.buffer).setUint32(1, text.length);
  frame.set(text, PREFIX_SIZE);
  return frame;
}

/**
 * A gRPC-Web reply's HTTP head: HTTP 200, its content type, `headers`.
 *
 * @param mode binary or text, as the request came
 * @param headers the reply's headers (the call's metadata)
 * @returns the status and headers of a `Response`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grpcWebHead } from "./_grpc_web.ts";
 *
 * const head = grpcWebHead("text", { "x-a": "1" });
 * assert.equal(head.headers.get("content-type"), "application/grpc-web-text+proto");
 * assert.equal(head.headers.get("x-a"), "1");
 * ```
 */
export function grpcWebHead(
  mode: GrpcWebMode,
  headers: HeadersInit = {},
): { status: number; headers: Headers } {
  const out = new Headers(headers);
  out.set("content-type", contentTypeOf(mode));
  return { status: 200, headers: out };
}

/**
 * A gRPC-Web reply: HTTP 200, the message's frame (none for an error) and
 * the trailer frame (flag 0x80) with the status (OK when `status` is
 * `undefined`) and the trailers; all base64 in `text` mode.
 *
 * @param mode binary or text, as the request came
 * @param message the reply message, encoded; none for an error
 * @param status the call's status; OK when `undefined`
 * @param metadata the reply's headers and trailers
 * @returns the response
 *
 * @example An OK reply: a message frame, then the trailer frame
 * ```ts
 * import assert from "node:assert/strict";
 * import { grpcWebReply } from "./_grpc_web.ts";
 *
 * const response = grpcWebReply("binary", new Uint8Array([8, 3]), undefined);
 * const body = new Uint8Array(await response.arrayBuffer());
 * assert.deepEqual(body.subarray(0, 7), new Uint8Array([0, 0, 0, 0, 2, 8, 3]));
 * assert.equal(body[7], 0x80);
 * assert.equal(new TextDecoder().decode(body.subarray(12)), "grpc-status: 0\r\n");
 * ```
 *
 * @example An error, with a custom header and trailer
 * ```ts
 * import assert from "node:assert/strict";
 * import { grpcWebReply } from "./_grpc_web.ts";
 *
 * const response = grpcWebReply("binary", undefined, { code: 5, message: "no such user" }, {
 *   headers: { "x-request-tag": "t1" },
 *   trailers: { "x-request-tag-end": "t1" },
 * });
 * assert.equal(response.headers.get("x-request-tag"), "t1");
 * const body = new Uint8Array(await response.arrayBuffer());
 * assert.equal(body[0], 0x80); // no message: the trailer frame alone
 * assert.equal(
 *   new TextDecoder().decode(body.subarray(5)),
 *   "x-request-tag-end: t1\r\ngrpc-status: 5\r\ngrpc-message: no such user\r\n",
 * );
 * ```
 */
export function grpcWebReply(
  mode: GrpcWebMode,
  message: Uint8Array | undefined,
  status: GrpcStatus | undefined,
  metadata: GrpcWebMetadata = {},
): Response {
  const trailer = trailerFrame(status, metadata.trailers);
  const body = message === undefined ? trailer : new Uint8Array(
    PREFIX_SIZE + message.length + trailer.length,
  );
  if (message !== undefined) {
    new DataView(body.buffer).setUint32(1, message.length);
    body.set(message, PREFIX_SIZE);
    body.set(trailer, PREFIX_SIZE + message.length);
  }
  return new Response(
    mode === "binary" ? body as Uint8Array<ArrayBuffer> : body.toBase64(),
    grpcWebHead(mode, metadata.headers),
  );
}

/**
 * A trailers-only gRPC-Web reply: HTTP 200, the status in the headers (with
 * the call's headers and trailers), no body. For a call refused before its
 * handler runs.
 *
 * @param mode binary or text, as the request came
 * @param status the call's status
 * @param metadata the reply's headers and trailers, both sent as headers
 * @returns the response
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grpcWebTrailersOnly } from "./_grpc_web.ts";
 *
 * const response = grpcWebTrailersOnly("text", { code: 12, message: "Method not found: x" }, {
 *   trailers: { "x-request-tag-end": "t2" },
 * });
 * assert.equal(response.headers.get("grpc-status"), "12");
 * assert.equal(response.headers.get("grpc-message"), "Method not found: x");
 * assert.equal(response.headers.get("x-request-tag-end"), "t2");
 * assert.equal(await response.text(), "");
 * ```
 */
export function grpcWebTrailersOnly(
  mode: GrpcWebMode,
  status: GrpcStatus,
  metadata: GrpcWebMetadata = {},
): Response {
  const head = grpcWebHead(mode, metadata.headers);
  for (const [name, value] of new Headers(metadata.trailers)) head.headers.append(name, value);
  for (const [name, value] of Object.entries(statusLines(status))) head.headers.set(name, value);
  return new Response(null, head);
}
