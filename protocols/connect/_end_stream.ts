/**
 * Connect's end-of-stream message, the last envelope of every streaming
 * reply (flag 0x02): a JSON object with the call's `error`, if it failed,
 * and its trailers as `metadata` (`{"name": ["value", …]}`).
 *
 * @module
 */

import type { ProtoSchema } from "../../codecs/protobuf/schema.ts";
import { type ConnectCode, ConnectError } from "./errors.ts";
import { errorJson, errorOfJson } from "./_wire.ts";

const encoder = new TextEncoder();

/** A failed call's error, as it travels: its code, message and encoded details. */
export interface WireError {
  readonly code: ConnectCode;
  readonly message: string;
  readonly details: readonly { type: string; value: Uint8Array }[];
}

/**
 * The end-of-stream message's bytes (its envelope not included).
 *
 * @param error the call's error; none when it succeeded
 * @param trailers the call's trailers
 * @returns the JSON, as UTF-8
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endStreamJson } from "./_end_stream.ts";
 *
 * const ok = endStreamJson(undefined, new Headers({ "x-cost": "3" }));
 * assert.equal(new TextDecoder().decode(ok), '{"metadata":{"x-cost":["3"]}}');
 * const failed = endStreamJson({ code: "not_found", message: "no", details: [] }, new Headers());
 * assert.equal(new TextDecoder().decode(failed), '{"error":{"code":"not_found","message":"no"}}');
 * ```
 */
export function endStreamJson(error: WireError | undefined, trailers: Headers): Uint8Array {
  const end: Record<string, unknown> = {};
  if (error !== undefined) end.error = errorJson(error.code, error.message, error.details);
  const metadata: Record<string, string[]> = {};
  for (const [name, value] of trailers) (metadata[name] ??= []).push(value);
  if (Object.keys(metadata).length > 0) end.metadata = metadata;
  return encoder.encode(JSON.stringify(end));
}

/** What an end-of-stream message says. */
export interface EndStream {
  /** The call's error; `undefined` when it succeeded. */
  readonly error: ConnectError | undefined;
  /** The call's trailers. */
  readonly trailers: Headers;
}

/**
 * Reads an end-of-stream message.
 *
 * @param bytes its JSON, as UTF-8
 * @param schema the schema that the error's details are decoded with
 * @returns the error and the trailers
 * @throws {ConnectError} `internal` for bytes that are not an end-of-stream message
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "../../codecs/protobuf.ts";
 * import { readEndStream } from "./_end_stream.ts";
 *
 * const schema = loadProto(`syntax = "proto3"; package p; message Why { string why = 1; }`);
 * const json = '{"error":{"code":"unavailable","message":"busy"},"metadata":{"x-a":["1","2"]}}';
 * const { error, trailers } = readEndStream(new TextEncoder().encode(json), schema);
 * assert.equal(error?.connectCode, "unavailable");
 * assert.equal(trailers.get("x-a"), "1, 2");
 * ```
 */
export function readEndStream(bytes: Uint8Array, schema: ProtoSchema): EndStream {
  let end: unknown;
  try {
    end = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new ConnectError("internal", "The end-of-stream message is not JSON", [], { cause });
  }
  if (typeof end !== "object" || end === null || Array.isArray(end)) {
    throw new ConnectError("internal", "The end-of-stream message is not a JSON object");
  }
  const { error, metadata } = end as Record<string, unknown>;
  const trailers = new Headers();
  if (typeof metadata === "object" && metadata !== null) {
    for (const [name, values] of Object.entries(metadata)) {
      if (!Array.isArray(values)) continue;
      for (const value of values) {
        if (typeof value !== "string") continue;
        try {
          trailers.append(name, value);
        } catch {
          // A name or value HTTP cannot carry: not a trailer.
        }
      }
    }
  }
  if (error === undefined) return { error: undefined, trailers };
  const read = errorOfJson(error, schema);
  if (read === undefined) {
    throw new ConnectError(
      "internal",
      `The end-of-stream message's error is not a Connect error: ${JSON.stringify(error)}`,
    );
  }
  return { error: read, trailers };
}
