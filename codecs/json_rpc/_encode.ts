// From the message model to a JSON text. Wire objects are built directly in
// the specification's member order; values go through a plain
// `JSON.stringify` unless they hold something only the replacer handles.

import { LimitError } from "../../rpc/errors.ts";
import { metaProblem } from "./_meta.ts";
import type { RpcErrorObject, RpcMessage } from "../../rpc/types.ts";
import { SCAN_LONG_DIGITS, SCAN_OK, scanText } from "./_scan.ts";
import { isPlain, replacer, tooDeep } from "./_values.ts";

/** The settings encoding depends on. */
export interface EncodeSettings {
  /** Deepest nesting of the frame. */
  readonly maxDepth: number;
  /** Most messages in one batch. */
  readonly maxBatchSize: number;
  /** Which shapes to emit. */
  readonly version: "2.0" | "1.0";
}

/**
 * Encodes one message or a batch.
 *
 * @param message the message or messages
 * @param settings the codec's settings
 * @returns the JSON text
 * @throws {TypeError} for a value JSON cannot carry exactly, a malformed
 * message, an empty batch or a batch in JSON-RPC 1.0
 * @throws {LimitError} beyond `maxDepth` or `maxBatchSize`
 */
export function encodeFrame(
  message: RpcMessage | readonly RpcMessage[],
  settings: EncodeSettings,
): string {
  const v1 = settings.version === "1.0";
  const maxDepth = settings.maxDepth;
  let wire: unknown;
  let plain: boolean;
  if (isBatch(message)) {
    const n = message.length;
    if (v1) throw new TypeError("Cannot encode a batch in JSON-RPC 1.0: it has no batches");
    if (n === 0) throw new TypeError("Cannot encode an empty batch: JSON-RPC forbids it");
    if (n > settings.maxBatchSize) {
      throw new LimitError("maxBatchSize", settings.maxBatchSize, `batch of ${n} messages`);
    }
    if (maxDepth < 2) throw tooDeep(maxDepth);
    const members = new Array<unknown>(n);
    plain = true;
    for (let i = 0; i < n; i++) {
      const m = message[i] as RpcMessage;
      members[i] = toWire(m, false);
      if (plain) plain = isPlainPayload(m, 2, maxDepth);
    }
    wire = members;
  } else {
    if (!v1) {
      const text = plainText(message, maxDepth);
      if (text !== undefined) return text;
    }
    wire = toWire(message, v1);
    plain = isPlainPayload(message, 1, maxDepth);
  }
  if (plain) return JSON.stringify(wire);
  const text = JSON.stringify(wire, replacer);
  if (text.length > 2 * maxDepth) {
    const at = scanText(text, maxDepth);
    if (at !== SCAN_OK && at !== SCAN_LONG_DIGITS) throw tooDeep(maxDepth);
  }
  return text;
}

// The common messages, a result or a request without metadata whose
// payload is plain, on a short path: one literal in the wire's member order
// and one JSON.stringify (which V8 writes faster than a template of several
// JSON.stringify calls). A payload with its own `toJSON` goes the long way.
function plainText(m: RpcMessage, maxDepth: number): string | undefined {
  if (m.kind === "result") {
    const id = m.id;
    const result = m.result === undefined ? null : m.result;
    if (!isId(id) || !isPlainTop(result, maxDepth)) return undefined;
    return JSON.stringify({ jsonrpc: "2.0", result, id });
  }
  if (m.kind === "request" && m.meta === undefined) {
    const { id, method, params } = m;
    if (
      typeof method !== "string" || !isId(id) || typeof params !== "object" || params === null ||
      !isPlainTop(params, maxDepth)
    ) return undefined;
    return JSON.stringify({ jsonrpc: "2.0", method, params, id });
  }
  return undefined;
}

function isPlainTop(value: unknown, maxDepth: number): boolean {
  return typeof value !== "object" || value === null ||
      typeof (value as { toJSON?: unknown }).toJSON !== "function"
    ? isPlain(value, 1, maxDepth)
    : false;
}

function isId(id: unknown): boolean {
  return typeof id === "string" ||
    (typeof id === "number" && id <= Number.MAX_SAFE_INTEGER && id >= -Number.MAX_SAFE_INTEGER);
}

function isBatch(message: RpcMessage | readonly RpcMessage[]): message is readonly RpcMessage[] {
  return Array.isArray(message);
}

function isPlainPayload(m: RpcMessage, depth: number, maxDepth: number): boolean {
  switch (m.kind) {
    case "request":
    case "notification":
      return m.params === undefined || isPlain(m.params, depth, maxDepth);
    case "result":
      return isPlain(m.result, depth, maxDepth);
    case "error":
      if (depth + 1 > maxDepth) throw tooDeep(maxDepth);
      return m.error.data === undefined || isPlain(m.error.data, depth + 1, maxDepth);
  }
}

function checkId(id: unknown): void {
  if (
    typeof id !== "string" &&
    !(typeof id === "number" && id <= Number.MAX_SAFE_INTEGER && id >= -Number.MAX_SAFE_INTEGER)
  ) {
    throw new TypeError(
      `Cannot encode id ${String(id)}: it must be a string or a number within ±(2^53 − 1)`,
    );
  }
}

function checkCall(method: unknown, params: unknown): void {
  if (typeof method !== "string") throw new TypeError(`Cannot encode method ${String(method)}`);
  if (params !== undefined && (typeof params !== "object" || params === null)) {
    throw new TypeError(`Cannot encode params ${String(params)}: use an array or an object`);
  }
}

// Metadata the other end would refuse is refused here, before it is sent.
function checkedMeta(meta: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const problem = metaProblem(meta);
  if (problem !== undefined) throw new RangeError(`Cannot encode the call's metadata: ${problem}`);
  return meta;
}

function errorWire(error: RpcErrorObject): RpcErrorObject {
  const { code, message, data } = error;
  if (!Number.isInteger(code) || typeof message !== "string") {
    throw new TypeError(`Cannot encode error code ${code}: it must be an integer`);
  }
  return data === undefined ? { code, message } : { code, message, data };
}

function toWire(m: RpcMessage, v1: boolean): object {
  switch (m.kind) {
    case "request": {
      const { id, method, params } = m;
      checkCall(method, params);
      checkId(id);
      if (v1) return { method, params: params ?? [], id };
      const wire = params === undefined
        ? { jsonrpc: "2.0", method, id }
        : { jsonrpc: "2.0", method, params, id };
      return m.meta === undefined ? wire : { ...wire, meta: checkedMeta(m.meta) };
    }
    case "notification": {
      const { method, params } = m;
      checkCall(method, params);
      if (v1) return { method, params: params ?? [], id: null };
      const wire = params === undefined
        ? { jsonrpc: "2.0", method }
        : { jsonrpc: "2.0", method, params };
      return m.meta === undefined ? wire : { ...wire, meta: checkedMeta(m.meta) };
    }
    case "result": {
      checkId(m.id);
      const result = m.result === undefined ? null : m.result;
      return v1 ? { result, error: null, id: m.id } : { jsonrpc: "2.0", result, id: m.id };
    }
    case "error": {
      if (m.id !== null) checkId(m.id);
      const error = errorWire(m.error);
      return v1 ? { result: null, error, id: m.id } : { jsonrpc: "2.0", error, id: m.id };
    }
    default:
      throw new TypeError(`Cannot encode a message of kind ${(m as { kind?: unknown }).kind}`);
  }
}
