/**
 * The JSON-RPC codec itself, with its options and types: `jsonRpc()` (in
 * `../json_rpc.ts`) is this with the compact reader of `_compact.ts`; the
 * browser's (`web/_json_rpc.ts`) is this without it, as a page is no
 * server and its bundle pays for every byte.
 *
 * @module
 */

import { DecodeError } from "../../rpc/errors.ts";
import { frameText } from "../../rpc/frame_text.ts";
import { DEFAULT_LIMITS } from "../../rpc/limits.ts";
import type {
  Codec,
  CodecFeatures,
  DecodedFrame,
  Frame,
  MeasureState,
  RpcId,
  RpcMessage,
  RpcNotification,
} from "../../rpc/types.ts";

import { decodeValue, refusedUnparsed } from "./_decode.ts";
import { encodeFrame } from "./_encode.ts";
import {
  measureValue,
  peekMembers,
  SCAN_LONG_DIGITS,
  SCAN_OK,
  SCAN_TOO_MANY,
  scanText,
  ValueScan,
} from "./_scan.ts";
import { holdsUnsafeNumber, parseJson, parseJsonFloats, tooDeep } from "./_values.ts";

/**
 * How an integer literal beyond ±(2^53 − 1) decodes: `"bigint"` as an exact
 * `bigint`, `"error"` as a {@linkcode DecodeError} (the peer gets -32700).
 *
 * @example Rejecting big integers
 * ```ts
 * import assert from "node:assert/strict";
 * import { DecodeError } from "../../rpc/errors.ts";
 * import { type JsonRpcBigInt, jsonRpc } from "../json_rpc.ts";
 *
 * const mode: JsonRpcBigInt = "error";
 * const text = '{"jsonrpc":"2.0","method":"sum","params":[9007199254740993],"id":1}';
 * assert.throws(() => jsonRpc({ bigint: mode }).decode(text), DecodeError);
 * ```
 */
export type JsonRpcBigInt = "bigint" | "error";

/**
 * The shapes {@linkcode jsonRpc} emits: `"2.0"`, or `"1.0"` for old peers
 * (`{method, params, id}`, notifications with `id: null`, replies with both
 * `result` and `error`, no batches).
 *
 * @example Talking to a JSON-RPC 1.0 peer
 * ```ts
 * import assert from "node:assert/strict";
 * import { type JsonRpcVersion, jsonRpc } from "../json_rpc.ts";
 *
 * const version: JsonRpcVersion = "1.0";
 * const codec = jsonRpc({ version, acceptV1: true });
 * assert.equal(codec.encode({ kind: "result", id: 1, result: 3 }), '{"result":3,"error":null,"id":1}');
 * ```
 */
export type JsonRpcVersion = "2.0" | "1.0";

/**
 * Options of {@linkcode jsonRpc}.
 *
 * @example A codec for small, shallow messages
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonRpc, type JsonRpcOptions } from "../json_rpc.ts";
 *
 * const options: JsonRpcOptions = { maxDepth: 8, maxBatchSize: 10 };
 * const reply = jsonRpc(options).decode("[" + "{},".repeat(10) + "{}]");
 * assert.equal(reply.kind, "invalid");
 * ```
 */
export interface JsonRpcOptions {
  /**
   * Deepest nesting of arrays and objects in a frame, the message object
   * included (so `{"params":[[1]]}` is 3 deep). A deeper frame does not
   * decode ({@linkcode DecodeError}, answered with -32700) and does not
   * encode ({@linkcode LimitError}). Default `DEFAULT_LIMITS.maxDepth` (64).
   */
  readonly maxDepth?: number;
  /**
   * Most messages in one batch. A longer batch decodes as one invalid
   * message (-32600, id `null`); encoding one throws {@linkcode LimitError}.
   * Default `DEFAULT_LIMITS.maxBatchSize` (1000).
   */
  readonly maxBatchSize?: number;
  /**
   * Most items in one frame: array elements and object members at every
   * depth, counted (before parsing) as its commas and opening brackets. A
   * frame with more decodes as one invalid message (-32600, under the
   * request's id when its top-level `"id"` can be read): parsing and
   * handling cost time per item during which no other caller is served.
   * Default `DEFAULT_LIMITS.maxItems` (1,000,000).
   */
  readonly maxItems?: number;
  /** How integer literals beyond ±(2^53 − 1) decode. Default `"bigint"`. */
  readonly bigint?: JsonRpcBigInt;
  /**
   * Also decode JSON-RPC 1.0 messages: no `jsonrpc` member (or `"1.0"`),
   * `id: null` for a notification, responses with both `result` and
   * `error`, one of them null. Default `false` (such messages are invalid),
   * `true` with `version: "1.0"`.
   */
  readonly acceptV1?: boolean;
  /** The shapes to emit. Default `"2.0"`. */
  readonly version?: JsonRpcVersion;
  /**
   * Decode numbers written with a point or an exponent (`2.0`, `1e3`) as
   * {@linkcode Float}s, so that a double stays a double on its way back
   * (needs ES2025's JSON source text access). Default `false`: plain numbers.
   */
  readonly keepFloats?: boolean;
}

/**
 * The JSON-RPC codec: a {@linkcode Codec} whose frames are strings and that
 * measures frames and builds cancellations.
 *
 * @example Measuring a frame in a byte stream
 * ```ts
 * import assert from "node:assert/strict";
 * import { type JsonRpcCodec, jsonRpc } from "../json_rpc.ts";
 *
 * const codec: JsonRpcCodec = jsonRpc();
 * const bytes = new TextEncoder().encode('{"jsonrpc":"2.0","method":"zip"}\n{"jsonrpc"');
 * assert.equal(codec.measure(bytes), 33);
 * assert.equal(codec.measure(bytes.subarray(33)), undefined);
 * ```
 */
export interface JsonRpcCodec extends Codec {
  /** Always `"jsonrpc"`. */
  readonly name: "jsonrpc";
  /** Always `"application/json"`. */
  readonly mediaType: "application/json";
  /** Always true: frames are JSON texts. */
  readonly text: true;
  /**
   * Encodes one message, or several as a batch.
   *
   * @throws {TypeError} for a value JSON cannot carry exactly (a `bigint`
   * beyond ±(2^53 − 1), a typed array other than `Uint8Array`), a malformed
   * message, an empty batch, or a batch in JSON-RPC 1.0
   * @throws {LimitError} beyond `maxDepth` or `maxBatchSize`
   */
  encode(message: RpcMessage | readonly RpcMessage[]): string;
  /**
   * Decodes a JSON text, from a string or UTF-8 bytes. What is JSON but not
   * a valid message decodes as {@linkcode RpcInvalid}: -32600 under the
   * request's id, or `null` when it cannot be read; an invalid response gets
   * `id: undefined` (never answered) and its id, when readable, as
   * `inReplyTo`.
   *
   * @throws {DecodeError} for invalid UTF-8 or JSON (the peer gets -32700),
   * nesting beyond `maxDepth`, or a big integer in mode `"error"`
   */
  decode(frame: Frame): DecodedFrame;
  /**
   * The length of the first JSON object or array in `buffer`, counting the
   * whitespace around it, or `undefined` when more bytes are needed. With
   * `state`, a later call on the same message grown longer resumes where
   * this one stopped.
   *
   * @throws {DecodeError} when the buffer starts with something other than
   * `{` or `[`, or nests deeper than `maxDepth`
   */
  measure(buffer: Uint8Array, state?: MeasureState): number | undefined;
  /** `{method: "$/cancelRequest", params: {id}}`, as in LSP. */
  cancelNotification(id: RpcId): RpcNotification;
  /** The id a `$/cancelRequest` notification cancels, else `undefined`. */
  readCancellation(message: RpcNotification): RpcId | undefined;
}

/**
 * The method of the cancellation notification, from the Language Server
 * Protocol.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CANCEL_METHOD, jsonRpc } from "../json_rpc.ts";
 *
 * assert.equal(jsonRpc().cancelNotification(7).method, CANCEL_METHOD);
 * ```
 */
export const CANCEL_METHOD = "$/cancelRequest";

const utf8Encoder = new TextEncoder();

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Limit ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * The JSON-RPC codec, reading the common compact messages with
 * `readCompact` first when given (it returns `undefined` for anything it does
 * not read; what it reads must be what the general path would give).
 *
 * @param options limits, big-integer handling and JSON-RPC 1.0 support
 * @param readCompact a shorter reader of the common messages
 * @returns the codec
 */
export function createJsonRpc(
  options: JsonRpcOptions = {},
  readCompact?: (text: string) => RpcMessage | undefined,
): JsonRpcCodec {
  const maxDepth = positiveInteger("maxDepth", options.maxDepth ?? DEFAULT_LIMITS.maxDepth);
  const maxBatchSize = positiveInteger(
    "maxBatchSize",
    options.maxBatchSize ?? DEFAULT_LIMITS.maxBatchSize,
  );
  const maxItems = positiveInteger("maxItems", options.maxItems ?? DEFAULT_LIMITS.maxItems);
  const bigint = options.bigint ?? "bigint";
  if (bigint !== "bigint" && bigint !== "error") {
    throw new TypeError(`Option bigint must be "bigint" or "error", got ${String(bigint)}`);
  }
  const keepFloats = options.keepFloats ?? false;
  const version = options.version ?? "2.0";
  if (version !== "2.0" && version !== "1.0") {
    throw new TypeError(`Option version must be "2.0" or "1.0", got ${String(version)}`);
  }
  const encodeSettings = { maxDepth, maxBatchSize, version };
  const decodeSettings = { maxBatchSize, acceptV1: options.acceptV1 ?? version === "1.0" };
  // A text of n characters cannot nest deeper than n / 2 and still parse,
  // nor hold more than n items.
  const scanAbove = Math.min(2 * maxDepth, maxItems);
  const tooMany = `the message holds more than ${maxItems} items (limit maxItems)`;
  const features: CodecFeatures = Object.freeze({
    batch: version === "2.0",
    notifications: true,
    replyToParseError: true,
  });

  function decode(frame: Frame): DecodedFrame {
    const text = frameText(frame, "jsonrpc");
    let exact: boolean;
    if (text.length <= scanAbove) {
      if (!keepFloats) {
        // The common compact message, read without parsing its envelope.
        const compact = readCompact?.(text);
        if (compact !== undefined) return compact;
        // Parsed at once; again, exactly, in the rare case a number is beyond 2^53.
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (cause) {
          throw parseError(frame, text, cause);
        }
        if (!holdsUnsafeNumber(value, bigint === "error")) {
          return decodeValue(value, decodeSettings);
        }
      }
      exact = true;
    } else {
      const at = scanText(text, maxDepth, maxItems);
      if (at === SCAN_TOO_MANY) return refusedUnparsed(peekMembers(text), tooMany);
      exact = at === SCAN_LONG_DIGITS;
      if (at !== SCAN_OK && !exact) {
        throw new DecodeError(
          "jsonrpc",
          `nesting exceeds maxDepth of ${maxDepth}`,
          frameOffset(frame, text, at),
          { cause: tooDeep(maxDepth) },
        );
      }
    }
    let value: unknown;
    try {
      value = keepFloats ? parseJsonFloats(text, bigint) : parseJson(text, exact, bigint);
    } catch (cause) {
      if (cause instanceof DecodeError) throw cause;
      throw parseError(frame, text, cause);
    }
    return decodeValue(value, decodeSettings);
  }

  return {
    name: "jsonrpc",
    mediaType: "application/json",
    features,
    text: true,
    encode: (message) => encodeFrame(message, encodeSettings),
    decode,
    measure(buffer, state) {
      const from = state?.resume;
      const measured = measureValue(
        buffer,
        maxDepth,
        from instanceof ValueScan ? from : undefined,
      );
      if (typeof measured === "number") return measured;
      if (measured instanceof ValueScan) {
        if (state !== undefined) state.resume = measured;
        return undefined;
      }
      throw new DecodeError(
        "jsonrpc",
        measured.reason === "depth"
          ? `nesting exceeds maxDepth of ${maxDepth}`
          : `a message must start with "{" or "["`,
        measured.at,
      );
    },
    cancelNotification: (id) => ({ kind: "notification", method: CANCEL_METHOD, params: { id } }),
    readCancellation(message) {
      if (message.method !== CANCEL_METHOD) return undefined;
      const params = message.params;
      if (typeof params !== "object" || params === null || Array.isArray(params)) return undefined;
      const id = (params as { readonly id?: unknown }).id;
      return typeof id === "string" || (typeof id === "number" && Number.isFinite(id))
        ? id
        : undefined;
    },
  };
}

/** The offset in the frame's own units: bytes for bytes, characters for a string. */
function frameOffset(frame: Frame, text: string, index: number): number {
  return typeof frame === "string" ? index : utf8Encoder.encode(text.slice(0, index)).length;
}

const POSITION = /position (\d+)/;

function parseError(frame: Frame, text: string, cause: unknown): DecodeError {
  const reason = String((cause as Error | undefined)?.message ?? cause);
  if (/end of (JSON )?input/i.test(reason) || text.trim() === "") {
    const end = frameOffset(frame, text, text.length);
    return new DecodeError("jsonrpc", "unexpected end of input", end, { cause });
  }
  const position = POSITION.exec(reason)?.[1];
  return new DecodeError(
    "jsonrpc",
    "invalid JSON",
    position === undefined ? undefined : frameOffset(frame, text, Number(position)),
    { cause },
  );
}
