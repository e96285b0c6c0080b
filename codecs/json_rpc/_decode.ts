// From parsed JSON to the message model. Every check is a `typeof` or a
// comparison; messages are built directly, never copied.

import { ErrorCode } from "../../rpc/errors.ts";
import type { Members } from "./_scan.ts";
import { metaProblem } from "./_meta.ts";
import type {
  DecodedFrame,
  RpcErrorObject,
  RpcId,
  RpcInvalid,
  RpcMessage,
  RpcParams,
} from "../../rpc/types.ts";

type Wire = { readonly [member: string]: unknown };

/** The settings decoding depends on. */
export interface DecodeSettings {
  /** Most messages in one batch. */
  readonly maxBatchSize: number;
  /** Whether JSON-RPC 1.0 shapes are accepted. */
  readonly acceptV1: boolean;
}

/**
 * Turns a parsed JSON value into a message, a batch or an invalid message.
 *
 * @param value what `JSON.parse` returned
 * @param settings the codec's settings
 * @returns the decoded frame
 */
export function decodeValue(value: unknown, settings: DecodeSettings): DecodedFrame {
  if (typeof value !== "object" || value === null) {
    return invalidRequest(null, "expected an object or an array");
  }
  if (!Array.isArray(value)) return decodeObject(value as Wire, settings.acceptV1);
  const n = value.length;
  if (n === 0) return invalidRequest(null, "empty batch");
  if (n > settings.maxBatchSize) {
    return invalidRequest(
      null,
      `batch of ${n} messages exceeds maxBatchSize of ${settings.maxBatchSize}`,
    );
  }
  const messages = new Array<RpcMessage | RpcInvalid>(n);
  for (let i = 0; i < n; i++) {
    const member: unknown = value[i];
    messages[i] = typeof member === "object" && member !== null && !Array.isArray(member)
      ? decodeObject(member as Wire, settings.acceptV1)
      : invalidRequest(null, "a batch member must be an object");
  }
  return { kind: "batch", messages };
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// An id the codec can write back as it came: a string, or a number within
// ±(2^53 − 1) (the encoder refuses others rather than round them).
function isId(id: unknown): id is RpcId {
  return typeof id === "string" || (typeof id === "number" && id <= MAX_SAFE && id >= -MAX_SAFE);
}

// What is wrong with an id that is not a string or a number we can echo.
function badId(id: unknown, otherwise = `"id" must be a string or a number`): string {
  return typeof id === "number" || typeof id === "bigint"
    ? `"id" ${id} cannot be sent back exactly: use a string or a number within ±(2^53 − 1)`
    : otherwise;
}

function readableId(id: unknown): RpcId | null {
  return isId(id) ? id : null;
}

function isParams(params: unknown): params is RpcParams {
  return typeof params === "object" && params !== null;
}

function invalidRequest(id: RpcId | null, why: string): RpcInvalid {
  return { kind: "invalid", id, error: { code: ErrorCode.InvalidRequest, message: why } };
}

/**
 * The invalid message for a frame refused before it is parsed (too many
 * items): a request is answered under its id when its top-level members
 * give one, a response fails the call it answers, a notification or a
 * batch gets no id.
 *
 * @param members what the frame's top-level members say, `undefined` for a batch
 * @param why the reason, for the error's message
 * @returns the invalid message
 */
export function refusedUnparsed(members: Members | undefined, why: string): RpcInvalid {
  let id: unknown = null;
  if (members?.id !== undefined) {
    try {
      id = JSON.parse(members.id);
    } catch {
      id = null; // not a JSON value: no id to answer under
    }
  }
  if (members === undefined) return invalidRequest(null, why);
  if (!members.method) return invalidResponse(id, why);
  if (members.id === undefined) {
    return { kind: "invalid", id: undefined, error: invalidRequest(null, why).error };
  }
  return invalidRequest(readableId(id), why);
}

/**
 * A response that is not valid is never answered (an answer could start an
 * endless exchange of errors); its id, when readable, goes in `inReplyTo` so
 * that the session can fail the call it belongs to.
 */
function invalidResponse(id: unknown, why: string): RpcInvalid {
  const error = { code: ErrorCode.InvalidRequest, message: `invalid response: ${why}` };
  return isId(id)
    ? { kind: "invalid", id: undefined, error, inReplyTo: id }
    : { kind: "invalid", id: undefined, error };
}

function readError(error: unknown): RpcErrorObject | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, message, data } = error as Wire;
  if (!Number.isInteger(code) || typeof message !== "string") return undefined;
  return data === undefined
    ? { code: code as number, message }
    : { code: code as number, message, data };
}

function decodeObject(o: Wire, acceptV1: boolean): RpcMessage | RpcInvalid {
  const jsonrpc = o.jsonrpc;
  if (jsonrpc !== "2.0") {
    if (acceptV1 && (jsonrpc === undefined || jsonrpc === "1.0")) return decodeV1(o);
    const why = jsonrpc === undefined ? `missing "jsonrpc": "2.0"` : `"jsonrpc" must be "2.0"`;
    return o.method === undefined && (o.result !== undefined || o.error !== undefined)
      ? invalidResponse(o.id, why)
      : invalidRequest(readableId(o.id), why);
  }
  const method = o.method;
  const id = o.id;
  if (method !== undefined) {
    if (typeof method !== "string") {
      return invalidRequest(readableId(id), `"method" must be a string`);
    }
    const params = o.params;
    if (params !== undefined && !isParams(params)) {
      return invalidRequest(readableId(id), `"params" must be an array or an object`);
    }
    if (o.meta !== undefined && (id === undefined || isId(id))) {
      const problem = metaProblem(o.meta);
      if (problem !== undefined) return invalidRequest(readableId(id), problem);
      const meta = o.meta as Readonly<Record<string, string>>;
      const call = id === undefined
        ? { kind: "notification" as const, method, meta }
        : { kind: "request" as const, id, method, meta };
      return params === undefined ? call : { ...call, params };
    }
    if (id === undefined) {
      return params === undefined
        ? { kind: "notification", method }
        : { kind: "notification", method, params };
    }
    if (isId(id)) {
      return params === undefined
        ? { kind: "request", id, method }
        : { kind: "request", id, method, params };
    }
    return invalidRequest(
      null,
      id === null
        ? `"id": null is not supported: use a string or a number, or omit "id" for a notification`
        : badId(id),
    );
  }
  const result = o.result;
  const error = o.error;
  if (result !== undefined) {
    if (error !== undefined) return invalidResponse(id, `both "result" and "error"`);
    if (!isId(id)) return invalidResponse(id, `"id" must be a string or a number`);
    return { kind: "result", id, result };
  }
  if (error !== undefined) {
    if (id !== null && !isId(id)) {
      return invalidResponse(id, `"id" must be a string, a number or null`);
    }
    const object = readError(error);
    if (object === undefined) {
      return invalidResponse(
        id,
        `"error" must be an object with an integer "code" and a string "message"`,
      );
    }
    return { kind: "error", id, error: object };
  }
  return invalidRequest(readableId(id), `missing "method"`);
}

/**
 * JSON-RPC 1.0: requests `{method, params, id}` (id null: a notification),
 * responses `{result, error, id}` where one of the two is null.
 */
function decodeV1(o: Wire): RpcMessage | RpcInvalid {
  const method = o.method;
  const id = o.id;
  if (method !== undefined) {
    if (typeof method !== "string") {
      return invalidRequest(readableId(id), `"method" must be a string`);
    }
    const params = o.params ?? undefined;
    if (params !== undefined && !isParams(params)) {
      return invalidRequest(readableId(id), `"params" must be an array`);
    }
    if (id === undefined || id === null) {
      return params === undefined
        ? { kind: "notification", method }
        : { kind: "notification", method, params };
    }
    if (!isId(id)) {
      return invalidRequest(null, badId(id, `"id" must be a string, a number or null`));
    }
    return params === undefined
      ? { kind: "request", id, method }
      : { kind: "request", id, method, params };
  }
  const result = o.result;
  const error = o.error;
  if (result === undefined && error === undefined) {
    return invalidRequest(readableId(id), `missing "method"`);
  }
  if (error !== undefined && error !== null) {
    if (result !== undefined && result !== null) {
      return invalidResponse(id, `both "result" and "error"`);
    }
    if (id !== null && !isId(id)) {
      return invalidResponse(id, `"id" must be a string, a number or null`);
    }
    return { kind: "error", id, error: readError(error) ?? v1Error(error) };
  }
  if (!isId(id)) return invalidResponse(id, `"id" must be a string or a number`);
  return { kind: "result", id, result: result ?? null };
}

/** A 1.0 error may be anything: keep it whole as `data`. */
function v1Error(error: unknown): RpcErrorObject {
  const message = typeof error === "string"
    ? error
    : typeof error === "object" && typeof (error as Wire).message === "string"
    ? (error as Wire).message as string
    : "JSON-RPC 1.0 error";
  return { code: ErrorCode.InternalError, message, data: error };
}
