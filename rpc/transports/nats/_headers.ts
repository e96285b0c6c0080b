/**
 * A worker reads a message's NATS headers once, straight into the call's
 * metadata and its deadline: no `MsgHdrs` map first (nats.js's decode, then
 * a copy into `Headers`, were a sixth of a worker's time per message).
 *
 * @module
 */

import { DEADLINE_HEADER, type NatsMessage } from "./_wire.ts";

/** What a worker reads from a message's headers. */
export interface MessageHeaders {
  /** The headers, as a call's metadata (names lowercased, as HTTP's). */
  readonly metadata: Headers;
  /** The caller's deadline in epoch milliseconds; NaN when it sent none. */
  readonly deadline: number;
}

// The raw message as nats.js's MsgImpl holds it: the header block is the
// first `hdr` bytes of `_rdata`. Read when present; `msg.headers` otherwise.
interface RawMessage {
  readonly _rdata?: Uint8Array;
  readonly _msg?: { readonly hdr?: number };
}

const latin1 = new TextDecoder("utf-8");

/**
 * Reads a message's headers: each name's first value (as NATS's `get()`
 * gives it), and the deadline. A name or value HTTP cannot hold is not
 * metadata.
 *
 * @param msg the message
 * @returns its metadata and deadline
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readHeaders } from "./_headers.ts";
 *
 * const fields = new Map([["Parley-Deadline", "1700000000000"], ["Trace", "abc"]]);
 * const msg = {
 *   subject: "calculator",
 *   data: new Uint8Array(),
 *   headers: { get: (name: string) => fields.get(name) ?? "", keys: () => [...fields.keys()] },
 *   respond: () => true,
 * };
 * const { metadata, deadline } = readHeaders(msg);
 * assert.equal(deadline, 1700000000000);
 * assert.equal(metadata.get("trace"), "abc");
 * ```
 */
export function readHeaders(msg: NatsMessage): MessageHeaders {
  const raw = msg as NatsMessage & RawMessage;
  const length = raw._msg?.hdr;
  if (raw._rdata instanceof Uint8Array && typeof length === "number") {
    return length > 0 ? parse(latin1.decode(raw._rdata.subarray(0, length))) : NONE();
  }
  const headers = msg.headers;
  const metadata = new Headers();
  for (const key of headers?.keys?.() ?? []) {
    try {
      metadata.set(key, headers!.get(key));
    } catch {
      // A NATS header name or value that HTTP cannot hold: not metadata.
    }
  }
  return { metadata, deadline: Number(headers?.get(DEADLINE_HEADER) || NaN) };
}

const NONE = (): MessageHeaders => ({ metadata: new Headers(), deadline: NaN });

// `NATS/1.0[ status]\r\nName: value\r\n…\r\n\r\n`, as nats.js's decode reads it.
function parse(text: string): MessageHeaders {
  const metadata = new Headers();
  let deadline = NaN;
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
    if (name === DEADLINE_HEADER) deadline = Number(value || NaN);
    try {
      metadata.set(name, value);
    } catch {
      // A NATS header name or value that HTTP cannot hold: not metadata.
    }
  }
  return { metadata, deadline };
}
