// Streaming calls' events in the envelope (field 4, docs/protocol.md) ↔
// STREAM_EVENT notifications. A message is written and read with its call's
// types: the request type on the caller's stream, the response type on the
// server's, found by the call's id among the calls in flight each way.

import { DecodeError, ErrorCode } from "../../rpc/errors.ts";
import type {
  RpcId,
  RpcInvalid,
  RpcMessage,
  RpcNotification,
  RpcStreamEvent,
} from "../../rpc/types.ts";
import { STREAM_EVENT } from "../../rpc/types.ts";
import { readStreamEvent, type StreamFields, writeStreamEvent } from "./_envelope.ts";
import type { ProtoMethod } from "./schema.ts";

/**
 * The methods of the calls in flight on one connection, each way.
 *
 * @example
 * ```ts
 * import type { CallsInFlight } from "./_stream_events.ts";
 * const none: CallsInFlight = { outgoing: new Map(), incoming: new Map() };
 * console.assert(none.outgoing.size === 0);
 * ```
 */
export interface CallsInFlight {
  /** The calls this end made, by id. */
  readonly outgoing: ReadonlyMap<RpcId, ProtoMethod>;
  /** The calls this end serves, by id. */
  readonly incoming: ReadonlyMap<RpcId, ProtoMethod>;
}

/**
 * Writes a {@linkcode STREAM_EVENT} notification's event.
 *
 * @throws {TypeError} when the call is not in flight (it ended) or the message does not fit its type
 *
 * @example A grant, and a server's message read back by the caller
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "./schema.ts";
 * import { decodeStreamEvent, encodeStreamEvent } from "./_stream_events.ts";
 * import { readEnvelope } from "./_envelope.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message N { int32 n = 1; }
 *   service Counter { rpc Count(N) returns (stream N); }
 * `);
 * const count = schema.method("demo.Counter/Count")!;
 * const server = { outgoing: new Map(), incoming: new Map([[7, count]]) };
 * const caller = { outgoing: new Map([[7, count]]), incoming: new Map() };
 * const wireId = (id: number | string) => id;
 * const frame = encodeStreamEvent({ id: 7, from: "server", message: { n: 3 } }, server, wireId);
 * const { id, stream } = readEnvelope(frame);
 * assert.deepEqual(decodeStreamEvent(id, stream!, caller), {
 *   kind: "notification",
 *   method: "$/stream",
 *   params: { id: 7, from: "server", message: { n: 3 } },
 * });
 * const grant = readEnvelope(encodeStreamEvent({ id: 7, from: "caller", credit: 16 }, caller, wireId));
 * assert.deepEqual(decodeStreamEvent(grant.id, grant.stream!, server).kind, "notification");
 * ```
 */
export function encodeStreamEvent(
  params: unknown,
  calls: CallsInFlight,
  wireId: (id: RpcId) => number | string,
): Uint8Array {
  const event = params as RpcStreamEvent;
  const fromServer = event.from === "server";
  const fields: StreamFields = {
    fromServer,
    credit: event.credit ?? 0,
    end: event.end === true,
    cancel: event.cancel === true,
  };
  if (!("message" in event)) return writeStreamEvent(wireId(event.id), fields);
  const method = (fromServer ? calls.incoming : calls.outgoing).get(event.id);
  if (method === undefined) {
    throw new TypeError(`No streaming call with id ${event.id} is in flight on this connection`);
  }
  const type = fromServer ? method.response : method.request;
  return writeStreamEvent(wireId(event.id), { ...fields, message: type.encode(event.message) });
}

/**
 * Reads an envelope's streaming event as a {@linkcode STREAM_EVENT}
 * notification. A message that does not decode as its call's type ends the
 * call: the caller's is cancelled; the server's becomes a malformed reply.
 *
 * @throws {DecodeError} when field 4 is not a stream event
 *
 * @example The caller's end of its requests
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeStreamEvent } from "./_stream_events.ts";
 * import { writeStreamEvent } from "./_envelope.ts";
 *
 * const calls = { outgoing: new Map(), incoming: new Map() };
 * const frame = writeStreamEvent(3, { fromServer: false, credit: 0, end: true, cancel: false });
 * // The envelope: id 3, then field 4 holding `end: true`.
 * assert.deepEqual([...frame], [0x08, 3, 0x22, 2, 0x20, 1]);
 * assert.deepEqual(decodeStreamEvent(3, frame.subarray(4), calls), {
 *   kind: "notification",
 *   method: "$/stream",
 *   params: { id: 3, from: "caller", end: true },
 * });
 * ```
 */
export function decodeStreamEvent(
  id: RpcId,
  bytes: Uint8Array,
  calls: CallsInFlight,
): RpcMessage | RpcInvalid {
  let fields;
  try {
    fields = readStreamEvent(bytes);
  } catch (error) {
    throw new DecodeError("protobuf", `Not a stream event: ${(error as Error).message}`);
  }
  const from = fields.fromServer ? "server" : "caller";
  const event: Record<string, unknown> = { id, from };
  if (fields.credit > 0) event.credit = fields.credit;
  if (fields.end) event.end = true;
  if (fields.cancel) event.cancel = true;
  if (fields.message !== undefined) {
    // The server's messages are of calls this end made, the caller's of calls it serves.
    const method = (fields.fromServer ? calls.outgoing : calls.incoming).get(id);
    if (method !== undefined) {
      const type = fields.fromServer ? method.response : method.request;
      try {
        event.message = type.decode(fields.message);
      } catch (error) {
        if (!fields.fromServer) return notification({ id, from, cancel: true });
        return {
          kind: "invalid",
          id: undefined,
          error: {
            code: ErrorCode.ParseError,
            message: `Malformed reply: a stream message is not a ${type.name}: ${
              (error as Error).message
            }`,
          },
          inReplyTo: id,
        };
      }
    }
  }
  return notification(event);
}

function notification(params: Record<string, unknown>): RpcNotification {
  return { kind: "notification", method: STREAM_EVENT, params };
}
