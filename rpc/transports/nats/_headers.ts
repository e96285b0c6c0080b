/**
 * A message's NATS headers both ways, without nats.js's `MsgHdrs`: a client
 * writes a call's deadline and metadata straight as bytes; a worker reads a
 * message's straight from its bytes, the deadline of every message, the
 * call's metadata only when asked for. No `MsgHdrs` map first (nats.js's decode, then a copy into `Headers`, were a
 * sixth of a worker's time per message), and no `Headers` for a handler
 * that never reads them.
 *
 * @module
 */

import type { ExchangeMetadata } from "../../responder.ts";
import { DEADLINE_HEADER, type NatsMessage } from "./_wire.ts";

// The raw message as nats.js's MsgImpl holds it: the header block is the
// first `hdr` bytes of `_rdata`. Read when present; `msg.headers` otherwise.
interface RawMessage {
  readonly _rdata?: Uint8Array;
  readonly _msg?: { readonly hdr?: number };
  // parley's own client (protocols/nats/) gives the block as it is.
  readonly headerBytes?: Uint8Array;
}

const latin1 = new TextDecoder("utf-8");
const DEADLINE_LINE = `\r\n${DEADLINE_HEADER}:`;

/**
 * A message's headers as a worker reads them: the deadline at once (every
 * message needs it), the metadata (`request`, names lowercased as HTTP's,
 * each name's first value as NATS's `get()` gives it) only when a handler
 * or interceptor asks; a name or value HTTP cannot hold is not metadata.
 * The exchange a worker hands its responder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NatsExchange } from "./_headers.ts";
 *
 * const fields = new Map([["Parley-Deadline", "1700000000000"], ["Trace", "abc"]]);
 * const msg = {
 *   subject: "calculator",
 *   data: new Uint8Array(),
 *   headers: { get: (name: string) => fields.get(name) ?? "", keys: () => [...fields.keys()] },
 *   respond: () => true,
 * };
 * const exchange = new NatsExchange(msg);
 * assert.equal(exchange.deadline, 1700000000000);
 * assert.equal(exchange.request.get("trace"), "abc");
 * ```
 */
export class NatsExchange implements ExchangeMetadata {
  /** The caller's deadline in epoch milliseconds; NaN when it sent none. */
  readonly deadline: number;
  #msg: NatsMessage;
  // The header block as text, when nats.js's raw bytes were there to read.
  #text: string | undefined;
  #block: Uint8Array | undefined;
  #request: Headers | undefined;
  #headers: Headers | undefined;

  /**
   * Reads the message's deadline.
   *
   * @param msg the message
   */
  constructor(msg: NatsMessage) {
    this.#msg = msg;
    const raw = msg as NatsMessage & RawMessage;
    const length = raw._msg?.hdr;
    const block = raw.headerBytes;
    if (block instanceof Uint8Array) {
      // The deadline read from the bytes; the block decoded only if metadata is asked for.
      this.#block = block;
      this.deadline = deadlineInBytes(block);
    } else if (raw._rdata instanceof Uint8Array && typeof length === "number") {
      const text = length > 0 ? latin1.decode(raw._rdata.subarray(0, length)) : "";
      this.#text = text;
      this.deadline = deadlineIn(text);
    } else {
      this.deadline = Number(msg.headers?.get(DEADLINE_HEADER) || NaN);
    }
  }

  /** The message's headers, as the calls' metadata. */
  get request(): Headers {
    if (this.#block !== undefined) this.#text ??= latin1.decode(this.#block);
    return this.#request ??= this.#text === undefined
      ? fromNats(this.#msg.headers)
      : parse(this.#text);
  }

  /** Headers a handler adds for the reply (a NATS reply carries none back). */
  get headers(): Headers {
    return this.#headers ??= new Headers();
  }
}

// The first `Parley-Deadline` line's value, as `parse` would read it.
function deadlineIn(text: string): number {
  const at = text.indexOf(DEADLINE_LINE);
  if (at === -1) return NaN;
  const start = at + DEADLINE_LINE.length;
  const end = text.indexOf("\r\n", start);
  return Number(text.slice(start, end === -1 ? undefined : end).trim() || NaN);
}

// The same, read from the block's bytes (no decoder call: most messages
// carry only the deadline, and every message needs it).
const DEADLINE_BYTES = new TextEncoder().encode(DEADLINE_LINE);

function deadlineInBytes(block: Uint8Array): number {
  const first = DEADLINE_BYTES[0]!;
  const last = block.length - DEADLINE_BYTES.length;
  for (let at = 0; at <= last; at++) {
    if (block[at] !== first) continue;
    let i = 1;
    while (i < DEADLINE_BYTES.length && block[at + i] === DEADLINE_BYTES[i]) i++;
    if (i < DEADLINE_BYTES.length) continue;
    let value = 0;
    let digits = 0;
    let p = at + i;
    while (block[p] === 32 || block[p] === 9) p++;
    for (; p < block.length && block[p]! >= 48 && block[p]! <= 57; p++, digits++) {
      value = value * 10 + block[p]! - 48;
    }
    while (block[p] === 32 || block[p] === 9) p++;
    // Anything but digits up to the line's end: read it as `deadlineIn` does.
    if (digits === 0 || digits > 15 || (p < block.length && block[p] !== 13)) {
      return deadlineIn(latin1.decode(block));
    }
    return value;
  }
  return NaN;
}

function fromNats(headers: NatsMessage["headers"]): Headers {
  const metadata = new Headers();
  for (const key of headers?.keys?.() ?? []) {
    try {
      metadata.set(key, headers!.get(key));
    } catch {
      // A NATS header name or value that HTTP cannot hold: not metadata.
    }
  }
  return metadata;
}

// `NATS/1.0[ status]\r\nName: value\r\n…\r\n\r\n`, as nats.js's decode reads it.
function parse(text: string): Headers {
  const metadata = new Headers();
  let seen: Set<string> | undefined;
  let start = text.indexOf("\r\n");
  while (start !== -1) {
    start += 2;
    const end = text.indexOf("\r\n", start);
    const line = text.slice(start, end === -1 ? undefined : end);
    start = end;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    // A name's first value, as nats.js's get() gives it.
    if (seen?.has(name)) continue;
    (seen ??= new Set()).add(name);
    const value = line.slice(colon + 1).trim();
    try {
      metadata.set(name, value);
    } catch {
      // A NATS header name or value that HTTP cannot hold: not metadata.
    }
  }
  return metadata;
}

// A message's NATS headers (the call's metadata, and its deadline), in
// what nats.js's publish() takes: anything with encode(). Written here
// rather than by nats.js's MsgHdrs (a map, then a string, then bytes); a
// call without metadata reuses the bytes of the last call with its deadline,
// as the calls of one millisecond share it.
const encoder = new TextEncoder();
let lastDeadline = NaN;
let lastHeaders: { encode(): Uint8Array } | undefined;

export function callHeaders(
  deadline: number,
  metadata: Headers | undefined,
): { encode(): Uint8Array } {
  if (metadata === undefined && deadline === lastDeadline) return lastHeaders!;
  let text = "NATS/1.0\r\n";
  if (metadata !== undefined) {
    for (const [key, value] of metadata) text += `${key}: ${value}\r\n`;
  }
  const bytes = encoder.encode(`${text}${DEADLINE_HEADER}: ${deadline}\r\n\r\n`);
  const headers = { encode: () => bytes };
  if (metadata === undefined) {
    lastDeadline = deadline;
    lastHeaders = headers;
  }
  return headers;
}
