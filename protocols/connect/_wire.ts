// What the Connect server and client share: media types, the error body,
// the timeout header.

import type { ProtoMessageType, ProtoSchema } from "../../codecs/protobuf/schema.ts";
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

/** Decodes a message from `format`. */
export function decodeBody(
  type: ProtoMessageType,
  bytes: Uint8Array,
  format: ConnectFormat,
): Record<string, unknown> {
  if (format === "proto") return type.decode(bytes);
  // Through the binary form, so that both formats hand over the same plain
  // message: proto3's defaults filled in, as decoding fills them.
  return type.decode(type.encode(type.fromJson(JSON.parse(decoder.decode(bytes)))));
}

/** The JSON error body of a Connect error. */
export function errorBody(
  code: ConnectCode,
  message: string,
  details: readonly { type: string; value: Uint8Array }[],
): string {
  const body: Record<string, unknown> = { code, message };
  if (details.length > 0) {
    // Connect writes detail bytes as unpadded standard base64.
    body.details = details.map((d) => ({
      type: d.type,
      value: d.value.toBase64({ omitPadding: true }),
    }));
  }
  return JSON.stringify(body);
}

/** Reads a Connect error body; `undefined` when it is not one. */
export function readErrorBody(text: string, schema: ProtoSchema): ConnectError | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
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
