// The envelope of the interop contract (shared/interop/envelope.proto), read
// and written with protobufjs's wire reader and writer. Request and Response
// share field numbers and wire types (field 2 is the method name in one and
// the payload in the other), so the envelope is read field by field and the
// codec decides which one it is.

import protobuf from "./_protobufjs.ts";

/** envelope.proto's error, the one nested message of the envelope. */
const ENVELOPE_PROTO = `
syntax = "proto3";
package rpc;
message Error {
  int32 code = 1;
  string message = 2;
  bytes details = 3;
}`;

const ErrorType = protobuf.parse(ENVELOPE_PROTO).root.lookupType("rpc.Error");

// protobufjs writes into Node Buffers where it finds them (Deno's npm layer
// has them): parley hands out plain Uint8Arrays, views on the same bytes.
function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The fields of one envelope as they arrived. */
export interface RawEnvelope {
  /** Field 4, a streaming call's event (docs/protocol.md), when present. */
  readonly stream?: Uint8Array | undefined;
  /** Field 1, the id: a number when safe, else its decimal string; 0 when absent. */
  readonly id: number | string;
  /** Field 2 (a Request's method, a Response's payload), when present. */
  readonly second: Uint8Array | undefined;
  /** Field 3 (a Request's payload, a Response's error), when present. */
  readonly third: Uint8Array | undefined;
}

/** The envelope's bytes are not a protobuf message of the envelope's shape. */
export class EnvelopeError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "EnvelopeError";
  }
}

function idOf(value: number | protobuf.Long): number | string {
  if (typeof value === "number") return value;
  // uint64() reads an unsigned Long: its two halves, as signed 32-bit ints.
  const high = value.high >>> 0;
  if (high < 0x200000) return high * 0x1_0000_0000 + (value.low >>> 0);
  return String(value); // beyond 2^53: the exact decimal
}

/**
 * Reads the three fields of an envelope; unknown fields are skipped.
 *
 * @throws {EnvelopeError} for truncated bytes or a known field of the wrong wire type
 */
export function readEnvelope(bytes: Uint8Array): RawEnvelope {
  let id: number | string = 0;
  let stream: Uint8Array | undefined;
  const [second, third] = readFields(bytes, (reader) => {
    id = idOf(reader.uint64());
  }, (bytes) => stream = bytes);
  return stream === undefined ? { id, second, third } : { id, second, third, stream };
}

// Request, Response and Error alike hold a varint in field 1 and
// length-delimited fields 2 and 3: one strict reader for the three (a known
// field of another wire type is refused, where protobufjs's generated
// decoders would read it anyway). `first` reads field 1's varint.
function readFields(
  bytes: Uint8Array,
  first: (reader: protobuf.Reader) => void,
  fourth?: (bytes: Uint8Array) => void,
): [Uint8Array | undefined, Uint8Array | undefined] {
  let second: Uint8Array | undefined;
  let third: Uint8Array | undefined;
  walkFields(bytes, 3, "field", (field, wire, reader) => {
    if (field === 1 && wire === 0) first(reader);
    else if (field === 2 && wire === 2) second = plain(reader.bytes());
    else if (field === 3 && wire === 2) third = plain(reader.bytes());
    else if (field === 4 && wire === 2 && fourth !== undefined) fourth(plain(reader.bytes()));
    else return false;
    return true;
  });
  return [second, third];
}

// The strict walk both readers share: `visit` reads the fields it knows and
// says so; a field up to `known` of another wire type is refused, a later
// one skipped (protobuf's rule for fields this end does not know).
function walkFields(
  bytes: Uint8Array,
  known: number,
  what: string,
  visit: (field: number, wire: number, reader: protobuf.Reader) => boolean,
): void {
  const reader = protobuf.Reader.create(bytes);
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 0) throw new EnvelopeError("field number 0");
      if (visit(field, wire, reader)) continue;
      if (field <= known) throw new EnvelopeError(`${what} ${field} has wire type ${wire}`);
      reader.skipType(wire);
    }
  } catch (error) {
    if (error instanceof EnvelopeError) throw error;
    throw new EnvelopeError((error as Error).message);
  }
}

/** The error of a Response. */
export interface EnvelopeErrorFields {
  /** The error code. */
  readonly code: number;
  /** The message. */
  readonly message: string;
  /** The encoded details message, empty when none. */
  readonly details: Uint8Array;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a Response's error, strictly: the codec also uses it to tell an
 * error reply from a Request whose method name is empty (the two share
 * field numbers), so only bytes of exactly Error's shape are one.
 *
 * @throws {EnvelopeError} for truncated bytes, a known field of the wrong wire type, a message that is not UTF-8
 */
export function readError(bytes: Uint8Array): EnvelopeErrorFields {
  let code = 0;
  const [message, details] = readFields(bytes, (reader) => {
    code = reader.int32();
  });
  let text = "";
  try {
    if (message !== undefined) text = UTF8.decode(message);
  } catch {
    throw new EnvelopeError("the error message is not UTF-8");
  }
  return { code, message: text, details: details ?? new Uint8Array(0) };
}

/**
 * Writes a Request; `id` 0 is a notification. One that `opens` a streaming
 * call also carries field 4, an empty stream event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeRequest } from "./_envelope.ts";
 * assert.deepEqual([...writeRequest(1, "a/B", new Uint8Array(0))], [0x08, 1, 0x12, 3, 0x61, 0x2f, 0x42]);
 * assert.deepEqual([...writeRequest(1, "a/B", new Uint8Array(0), true)].slice(-2), [0x22, 0]);
 * ```
 */
export function writeRequest(
  id: number | string,
  method: string,
  payload: Uint8Array,
  opens = false,
): Uint8Array {
  const writer = protobuf.Writer.create();
  if (id !== 0) writer.uint32(8).uint64(id);
  writer.uint32(18).string(method);
  if (payload.length > 0) writer.uint32(26).bytes(payload);
  if (opens) writer.uint32(34).bytes(EMPTY);
  return plain(writer.finish());
}

const EMPTY = new Uint8Array(0);

/** Writes a Response that carries a payload (always present, even empty: the oneof is set). */
export function writeResult(id: number | string, payload: Uint8Array): Uint8Array {
  const writer = protobuf.Writer.create();
  if (id !== 0) writer.uint32(8).uint64(id);
  return plain(writer.uint32(18).bytes(payload).finish());
}

/** Writes a Response that carries an error. */
export function writeFailure(id: number | string, error: EnvelopeErrorFields): Uint8Array {
  const writer = protobuf.Writer.create();
  if (id !== 0) writer.uint32(8).uint64(id);
  writer.uint32(26).fork();
  ErrorType.encode(error, writer);
  return plain(writer.ldelim().finish());
}

/**
 * The fields of a streaming call's event, the envelope's field 4 (docs/protocol.md).
 *
 * @example
 * ```ts
 * import type { StreamFields } from "./_envelope.ts";
 * const cancel: StreamFields = { fromServer: false, credit: 0, end: false, cancel: true };
 * console.assert(cancel.cancel);
 * ```
 */
export interface StreamFields {
  /** Sent by the end serving the call (else by its caller). */
  readonly fromServer: boolean;
  /** One message of the sender's stream, when the event carries one (even empty). */
  readonly message?: Uint8Array | undefined;
  /** More messages the sender may be sent; 0 when none. */
  readonly credit: number;
  /** The caller sent its last message. */
  readonly end: boolean;
  /** The caller gives the call up. */
  readonly cancel: boolean;
}

/**
 * Writes an envelope carrying one event of streaming call `id`.
 *
 * @example A grant of 16 messages from the caller of call 1
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeStreamEvent } from "./_envelope.ts";
 * const frame = writeStreamEvent(1, { fromServer: false, credit: 16, end: false, cancel: false });
 * assert.deepEqual([...frame], [0x08, 1, 0x22, 2, 0x18, 16]);
 * ```
 */
export function writeStreamEvent(id: number | string, event: StreamFields): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.uint32(8).uint64(id);
  writer.uint32(34).fork();
  if (event.fromServer) writer.uint32(8).bool(true);
  if (event.message !== undefined) writer.uint32(18).bytes(event.message);
  if (event.credit > 0) writer.uint32(24).uint32(event.credit);
  if (event.end) writer.uint32(32).bool(true);
  if (event.cancel) writer.uint32(40).bool(true);
  return plain(writer.ldelim().finish());
}

/**
 * Reads a streaming call's event (the envelope's field 4); unknown fields are skipped.
 *
 * @throws {EnvelopeError} for truncated bytes or a known field of the wrong wire type
 *
 * @example A server's empty message (present, even empty)
 * ```ts
 * import assert from "node:assert/strict";
 * import { readStreamEvent } from "./_envelope.ts";
 * assert.deepEqual(readStreamEvent(new Uint8Array([0x08, 1, 0x12, 0])), {
 *   fromServer: true,
 *   message: new Uint8Array(0),
 *   credit: 0,
 *   end: false,
 *   cancel: false,
 * });
 * ```
 */
export function readStreamEvent(bytes: Uint8Array): StreamFields {
  let fromServer = false, end = false, cancel = false, credit = 0;
  let message: Uint8Array | undefined;
  walkFields(bytes, 5, "stream field", (field, wire, reader) => {
    if (field === 2 && wire === 2) message = plain(reader.bytes());
    else if (field === 3 && wire === 0) credit = reader.uint32();
    else if (field === 1 && wire === 0) fromServer = reader.bool();
    else if (field === 4 && wire === 0) end = reader.bool();
    else if (field === 5 && wire === 0) cancel = reader.bool();
    else return false;
    return true;
  });
  return { fromServer, message, credit, end, cancel };
}
