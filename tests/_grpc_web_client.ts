/**
 * A gRPC-Web client made of `fetch` alone, for the gRPC-Web tests: it
 * builds the request's frames and reads the reply's (messages, and the
 * trailer frame or the trailers-only headers), in binary or `-text` mode.
 *
 * @module
 */

import { loadProto } from "../codecs/protobuf.ts";

const Status = loadProto(
  `syntax = "proto3"; package google.rpc;
  message Any { string type_url = 1; bytes value = 2; }
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }`,
  { keepCase: true },
).message("google.rpc.Status");

/** A `google.rpc.Status`, as `grpc-status-details-bin` carries it. */
export interface StatusDetails {
  readonly code: number;
  readonly message: string;
  readonly details: { type_url: string; value: Uint8Array }[];
}

/** The `google.rpc.Status` of a reply's `grpc-status-details-bin` (unpadded base64). */
export function statusDetails(reply: Reply): StatusDetails {
  const text = reply.trailers["grpc-status-details-bin"];
  if (text === undefined) throw new Error("no grpc-status-details-bin");
  const bytes = Uint8Array.fromBase64(text.padEnd(Math.ceil(text.length / 4) * 4, "="));
  return Status.decode(bytes) as unknown as StatusDetails;
}

/** What came back: the HTTP head, the messages, and the trailers (from the headers or body). */
export interface Reply {
  readonly status: number;
  readonly contentType: string | null;
  readonly messages: Uint8Array[];
  readonly trailers: Record<string, string>;
  /** Trailers-only: the status was in the headers, the body empty. */
  readonly trailersOnly: boolean;
  /** The reply's headers. */
  readonly headers: Headers;
}

/** A message with its 5-byte prefix; `length` may lie, for hostile tests. */
export const frame = (message: Uint8Array, length = message.length): Uint8Array<ArrayBuffer> => {
  const framed = new Uint8Array(5 + message.length);
  new DataView(framed.buffer).setUint32(1, length);
  framed.set(message, 5);
  return framed;
};

/**
 * Posts a gRPC-Web request (binary, or `-text` with `options.text`) and
 * reads the whole reply.
 */
export async function call(
  url: URL | string,
  path: string,
  body: Uint8Array | string | ReadableStream<Uint8Array>,
  options: { text?: boolean; contentType?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const text = options.text ?? false;
  const contentType = options.contentType ??
    (text ? "application/grpc-web-text+proto" : "application/grpc-web+proto");
  const payload = text && body instanceof Uint8Array ? body.toBase64() : body;
  const response = await fetch(new URL(path, url), {
    method: "POST",
    headers: { "content-type": contentType, "x-grpc-web": "1", ...options.headers },
    body: payload as BodyInit,
    ...(payload instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
  // In -text mode each frame may be its own padded base64.
  const raw = text
    ? await new Blob(
      (await response.text()).split(/(?<==)(?=[^=])/).map((p) => Uint8Array.fromBase64(p)),
    ).bytes()
    : new Uint8Array(await response.arrayBuffer());
  const messages: Uint8Array[] = [];
  const trailers: Record<string, string> = {};
  for (let at = 0; at < raw.length;) {
    const length = new DataView(raw.buffer, at + 1, 4).getUint32(0);
    const content = raw.subarray(at + 5, at + 5 + length);
    if (raw[at] === 0x80) {
      for (const line of new TextDecoder().decode(content).split("\r\n")) {
        if (line === "") continue;
        const colon = line.indexOf(":");
        trailers[line.slice(0, colon)] = line.slice(colon + 1).trim();
      }
    } else {
      messages.push(content);
    }
    at += 5 + length;
  }
  const trailersOnly = raw.length === 0;
  if (trailersOnly) {
    for (const key of ["grpc-status", "grpc-message", "grpc-status-details-bin"]) {
      const value = response.headers.get(key);
      if (value !== null) trailers[key] = value;
    }
  }
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    messages,
    trailers,
    trailersOnly,
    headers: response.headers,
  };
}
