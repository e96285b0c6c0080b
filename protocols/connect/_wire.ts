// What the Connect server and client share: media types, the error body,
// the timeout header.

import { SCAN_TOO_MANY, scanText } from "../../codecs/json_rpc/_scan.ts";
import type { ProtoMessageType, ProtoSchema } from "../../codecs/protobuf/schema.ts";
import { DEFAULT_LIMITS, type RpcLimits } from "../../rpc/limits.ts";
import {
  type ConnectCode,
  ConnectError,
  type ConnectErrorDetail,
  isConnectCode,
} from "./errors.ts";

/** The two codecs of Connect's unary calls. */
export type ConnectFormat = "proto" | "json";

/** The media type of a format's bodies. */
export function mediaTypeOf(format: ConnectFormat): string {
  return format === "proto" ? "application/proto" : "application/json";
}

/** The format of a media type (parameters ignored), or `undefined`. */
export function formatOf(essence: string): ConnectFormat | undefined {
  if (essence === "application/proto") return "proto";
  if (essence === "application/json") return "json";
  return undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes a message in `format`. */
export function encodeBody(
  type: ProtoMessageType,
  value: unknown,
  format: ConnectFormat,
): Uint8Array {
  if (format === "proto") return type.encode(value);
  // Through the binary form's checks first, so that both formats accept the same values.
  return encoder.encode(JSON.stringify(type.toJson(type.decode(type.encode(value)))));
}

/** How deep and how large a JSON body may be. */
export type BodyLimits = Pick<RpcLimits, "maxDepth" | "maxItems">;

/**
 * Decodes a message from `format`. A JSON body is scanned first: nesting
 * beyond `maxDepth` or more than `maxItems` items is refused before
 * `JSON.parse` builds it (16 MiB of `[` once took 600 MiB per request).
 *
 * @throws {RangeError} beyond the limits
 */
export function decodeBody(
  type: ProtoMessageType,
  bytes: Uint8Array,
  format: ConnectFormat,
  limits: BodyLimits = DEFAULT_LIMITS,
): Record<string, unknown> {
  if (format === "proto") return type.decode(bytes);
  const text = decoder.decode(bytes);
  const { maxDepth, maxItems } = limits;
  if (text.length > Math.min(2 * maxDepth, maxItems)) {
    const at = scanText(text, maxDepth, maxItems);
    if (at === SCAN_TOO_MANY) {
      throw new RangeError(`the body holds more than ${maxItems} items (limit maxItems)`);
    }
    if (at >= 0) {
      throw new RangeError(`the body nests deeper than ${maxDepth} (limit maxDepth) at ${at}`);
    }
  }
  // Through the binary form, so that both formats hand over the same plain
  // message: proto3's defaults filled in, as decoding fills them.
  return type.decode(type.encode(type.fromJson(JSON.parse(text))));
}

/** The JSON error body of a Connect error. */
export function errorBody(
  code: ConnectCode,
  message: string,
  details: readonly { type: string; value: Uint8Array }[],
): string {
  return JSON.stringify(errorJson(code, message, details));
}

/** A Connect error as the JSON object it travels as (a body, or an end-of-stream's `error`). */
export function errorJson(
  code: ConnectCode,
  message: string,
  details: readonly { type: string; value: Uint8Array }[],
): Record<string, unknown> {
  const body: Record<string, unknown> = { code, message };
  if (details.length > 0) {
    // Connect writes detail bytes as unpadded standard base64.
    body.details = details.map((d) => ({
      type: d.type,
      value: d.value.toBase64({ omitPadding: true }),
    }));
  }
  return body;
}

/** Reads a Connect error body; `undefined` when it is not one. */
export function readErrorBody(text: string, schema: ProtoSchema): ConnectError | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  return errorOfJson(body, schema);
}

/** A Connect error from its JSON object; `undefined` when it is not one. */
export function errorOfJson(body: unknown, schema: ProtoSchema): ConnectError | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { code, message, details } = body as Record<string, unknown>;
  if (!isConnectCode(code)) return undefined;
  const read: ConnectErrorDetail[] = [];
  if (Array.isArray(details)) {
    for (const detail of details) {
      const { type, value } = (detail ?? {}) as Record<string, unknown>;
      if (typeof type !== "string" || typeof value !== "string") continue;
      let bytes: Uint8Array;
      try {
        bytes = Uint8Array.fromBase64(value.padEnd(Math.ceil(value.length / 4) * 4, "="));
      } catch {
        continue;
      }
      read.push({ type, value: decodeDetail(schema, type, bytes) });
    }
  }
  return new ConnectError(code, typeof message === "string" ? message : "", read);
}

function decodeDetail(schema: ProtoSchema, type: string, bytes: Uint8Array): unknown {
  try {
    return schema.message(type).decode(bytes);
  } catch {
    return bytes; // a type this schema does not know, or bytes that do not decode
  }
}

/** The largest timeout Connect-Timeout-Ms may carry: 10 digits. */
export const MAX_TIMEOUT_MS = 9_999_999_999;

const TIMEOUT = /^\d{1,10}$/;
// AbortSignal.timeout's delay is a 32-bit signed count of milliseconds.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The call's deadline from its headers, in milliseconds (at most ~24.8
 * days, a timer's limit), after checking `Connect-Protocol-Version`.
 *
 * @param headers the request's headers
 * @param requireVersion whether a missing `Connect-Protocol-Version` is refused
 * @returns `Connect-Timeout-Ms`, or `undefined` without one
 * @throws {ConnectError} `invalid_argument` for a version other than 1 (or
 *   none, when required), or a timeout that is not 1 to 10 digits
 */
export function callTimeout(headers: Headers, requireVersion: boolean): number | undefined {
  const version = headers.get("connect-protocol-version");
  if (version !== null ? version !== "1" : requireVersion) {
    throw new ConnectError("invalid_argument", 'Connect-Protocol-Version must be "1"');
  }
  const timeout = headers.get("connect-timeout-ms");
  if (timeout === null) return undefined;
  if (!TIMEOUT.test(timeout)) {
    throw new ConnectError("invalid_argument", "Connect-Timeout-Ms must be 1 to 10 digits");
  }
  return Math.min(Number(timeout), MAX_TIMER_MS);
}
