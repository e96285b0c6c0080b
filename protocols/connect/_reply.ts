// What a Connect client makes of the HTTP reply to a unary call: the
// response message, or a ConnectError that says what came back instead.
// Connect's unary success is HTTP 200 with the call's own media type
// (`application/proto` or `application/json`, parameters allowed). Anything
// else must not be read as a message: a gRPC server's trailers-only error
// (HTTP 200, `application/grpc`, `grpc-status` in the headers, no body) read
// as proto is the empty message, proto3's defaults, a wrong answer that looks
// like a right one. The codes are connect-es's: a media type that is not
// Connect's is `unknown`, the other Connect format `internal`, a body that
// does not decode `internal`, an error status without a Connect error body
// the status's code.

import type { ProtoMessageType, ProtoSchema } from "../../codecs/protobuf/schema.ts";
import { essence } from "./_compress.ts";
import { codeOfHttpStatus, type ConnectCode, ConnectError } from "./errors.ts";
import { type ConnectFormat, decodeBody, formatOf, mediaTypeOf, readErrorBody } from "./_wire.ts";

/** The call a reply answers, for what the errors say. */
export interface ReplyContext {
  /** The URL posted to. */
  readonly url: string;
  /** The format the call was made in. */
  readonly format: ConnectFormat;
  /** The method's response type. */
  readonly type: ProtoMessageType;
  /** The schema, for the details of Connect error bodies. */
  readonly schema: ProtoSchema;
}

const SNIPPET = 200;

/**
 * The response message of a reply, or the error it carries or is.
 *
 * @throws {ConnectError} the server's Connect error, or one that describes a reply that is not Connect's
 */
export function readReply(
  response: Response,
  bytes: Uint8Array,
  call: ReplyContext,
): Record<string, unknown> {
  if (response.status !== 200) throw statusError(response, bytes, call.url, call.schema);
  const format = formatOf(essence(response.headers.get("content-type")));
  if (format !== call.format) {
    throw mediaTypeError(
      response,
      bytes,
      call.url,
      mediaTypeOf(call.format),
      format === undefined ? "unknown" : "internal",
    );
  }
  try {
    return decodeBody(call.type, bytes, call.format);
  } catch (error) {
    throw new ConnectError(
      "internal",
      `POST ${call.url} answered HTTP 200 with a body that is not a ${call.type.name} (${call.format}): ${
        (error as Error).message
      }`,
      [],
      { cause: error },
    );
  }
}

/**
 * The error a reply with an HTTP status other than 200 is: the Connect
 * error of its body, or one with the status's code that says what came back.
 *
 * @param response the reply
 * @param bytes its body (its start, at least)
 * @param url the URL posted to
 * @param schema the schema the details are decoded with
 * @returns the error
 */
export function statusError(
  response: Response,
  bytes: Uint8Array,
  url: string,
  schema: ProtoSchema,
): ConnectError {
  const error = readErrorBody(textOf(bytes) ?? "", schema);
  if (error !== undefined) return error;
  return new ConnectError(
    codeOfHttpStatus(response.status),
    `POST ${url} answered ${described(response, bytes)}: not a Connect error${grpcHint(response)}`,
  );
}

/**
 * The error an HTTP 200 reply of another media type than the call's is.
 *
 * @param response the reply
 * @param bytes its body (its start, at least)
 * @param url the URL posted to
 * @param expected the call's media type
 * @param code the error's code
 * @returns the error
 */
export function mediaTypeError(
  response: Response,
  bytes: Uint8Array,
  url: string,
  expected: string,
  code: ConnectCode,
): ConnectError {
  return new ConnectError(
    code,
    `POST ${url} answered ${described(response, bytes)}: not a Connect reply (${expected})${
      grpcHint(response)
    }`,
  );
}

// `HTTP 200, content-type "application/grpc", grpc-status 2, grpc-message
// "Missing :te header", empty body`: what came back, as far as it is text.
function described(response: Response, bytes: Uint8Array): string {
  const parts = [`HTTP ${response.status}`];
  const contentType = response.headers.get("content-type");
  parts.push(
    contentType === null ? "no content-type" : `content-type ${JSON.stringify(contentType)}`,
  );
  const status = response.headers.get("grpc-status");
  if (status !== null) parts.push(`grpc-status ${status}`);
  const message = response.headers.get("grpc-message");
  if (message !== null) parts.push(`grpc-message ${JSON.stringify(percentDecoded(message))}`);
  const text = textOf(bytes);
  if (bytes.length === 0) parts.push("empty body");
  else if (text !== undefined && !/\p{Cc}/u.test(text.replace(/[\t\n\r]/g, ""))) {
    const trimmed = text.trim();
    parts.push(
      `body ${
        JSON.stringify(trimmed.length > SNIPPET ? `${trimmed.slice(0, SNIPPET)}…` : trimmed)
      }`,
    );
  } else parts.push(`${bytes.length} bytes of binary body`);
  return parts.join(", ");
}

function grpcHint(response: Response): string {
  const gRPC = essence(response.headers.get("content-type")).startsWith("application/grpc") ||
    response.headers.has("grpc-status");
  return gRPC ? "; a gRPC server? This client speaks the Connect protocol, not gRPC" : "";
}

// gRPC percent-encodes grpc-message.
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// The first 64 KiB as text (a character cut at the end is left out), or
// undefined when they are not UTF-8.
function textOf(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, 65536), {
      stream: true,
    });
  } catch {
    return undefined;
  }
}
