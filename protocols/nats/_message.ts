/**
 * A message as the NATS client hands it to a subscription: its subject,
 * reply subject and payload at once, its header block read only when asked
 * (`headers`), and `respond()` to answer it. The header block is NATS's
 * (`NATS/1.0[ code[ description]]\r\nName: value\r\n…\r\n\r\n`).
 *
 * @module
 */

import type { Chunk } from "./_parser.ts";

const utf8 = new TextDecoder();
const fatal = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * A message's NATS headers, read from its header block.
 *
 * @example A status line and a header
 * ```ts
 * import assert from "node:assert/strict";
 * import { NatsHeaders } from "./_message.ts";
 *
 * const headers = new NatsHeaders("NATS/1.0 503 No Responders\r\nTrace-Id: 7\r\n\r\n");
 * assert.equal(headers.code, 503);
 * assert.equal(headers.description, "No Responders");
 * assert.equal(headers.get("trace-id"), "7");
 * assert.deepEqual(headers.keys(), ["Trace-Id"]);
 * ```
 */
export class NatsHeaders {
  /** The status code of the header block's first line (503: no responders); 0 when none. */
  readonly code: number;
  /** The words after the status code. */
  readonly description: string;
  readonly #fields: [string, string][] = [];

  /**
   * Reads a header block.
   *
   * @param block the block's text
   */
  constructor(block: string) {
    const lines = block.split("\r\n");
    const status = /^NATS\/1\.0(?:\s+(\d{3}))?(?:\s+(.*))?$/.exec(lines[0]!.trim());
    this.code = status?.[1] === undefined ? 0 : Number(status[1]);
    this.description = status?.[2]?.trim() ?? "";
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      this.#fields.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
    }
  }

  /**
   * A header's first value; `""` when absent. The name as written is
   * matched first, then any case of it.
   *
   * @param name the header's name
   * @returns its value
   */
  get(name: string): string {
    for (const [key, value] of this.#fields) if (key === name) return value;
    const lower = name.toLowerCase();
    for (const [key, value] of this.#fields) if (key.toLowerCase() === lower) return value;
    return "";
  }

  /**
   * Whether a header is present (any case of its name).
   *
   * @param name the header's name
   * @returns whether it is
   */
  has(name: string): boolean {
    const lower = name.toLowerCase();
    return this.#fields.some(([key]) => key.toLowerCase() === lower);
  }

  /**
   * Every value of a header, in order.
   *
   * @param name the header's name
   * @returns its values
   */
  values(name: string): string[] {
    const lower = name.toLowerCase();
    return this.#fields.filter(([key]) => key.toLowerCase() === lower).map(([, value]) => value);
  }

  /**
   * The names present, each once, as first written.
   *
   * @returns the names
   */
  keys(): string[] {
    return [...new Set(this.#fields.map(([key]) => key))];
  }
}

/**
 * Encodes headers as a NATS header block.
 *
 * @param headers names and values (a `Headers`, a record, or pairs)
 * @returns the block's bytes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeHeaders } from "./_message.ts";
 *
 * assert.equal(
 *   new TextDecoder().decode(encodeHeaders({ "trace-id": "7" })),
 *   "NATS/1.0\r\ntrace-id: 7\r\n\r\n",
 * );
 * ```
 */
export function encodeHeaders(
  headers: Iterable<readonly [string, string]> | Record<string, string>,
): Uint8Array {
  const pairs = Symbol.iterator in headers
    ? headers as Iterable<readonly [string, string]>
    : Object.entries(headers);
  let text = "NATS/1.0\r\n";
  for (const [name, value] of pairs) {
    if (!/^[!-9;-~]+$/.test(name) || /[\r\n]/.test(value)) {
      throw new TypeError(
        `A NATS header cannot be ${JSON.stringify(name)}: ${JSON.stringify(value)}`,
      );
    }
    text += `${name}: ${value}\r\n`;
  }
  return encoder.encode(`${text}\r\n`);
}

/**
 * The header block of a publish's `headers` option: bytes as they are,
 * anything with `encode()` (nats.js's `MsgHdrs`, parley's call headers), or
 * a `Headers` or record encoded here.
 *
 * @param headers the option
 * @returns the block
 */
export function headerBlock(headers: unknown): Uint8Array {
  if (headers instanceof Uint8Array) return headers;
  const encode = (headers as { encode?: () => Uint8Array }).encode;
  if (typeof encode === "function") return encode.call(headers);
  return encodeHeaders(headers as Record<string, string>);
}

/** Sends a reply: the connection's publish. */
export type Publish = (subject: string, payload: Uint8Array | string) => void;

/**
 * One message delivered to a subscription.
 *
 * @example A message with a status header block and no payload
 * ```ts
 * import assert from "node:assert/strict";
 * import { NatsCoreMessage } from "./_message.ts";
 *
 * const block = new TextEncoder().encode("NATS/1.0 503\r\n\r\n");
 * const msg = new NatsCoreMessage("INBOX.1", 1, undefined, block.length, block, () => {});
 * assert.equal(msg.data.length, 0);
 * assert.equal(msg.headers?.code, 503);
 * ```
 */
export class NatsCoreMessage {
  /** The subject it was published to. */
  readonly subject: string;
  /** The subscription's id. */
  readonly sid: number;
  /** Where the answer goes, if it wants one. */
  readonly reply: string | undefined;
  /** The payload. */
  readonly data: Uint8Array;
  readonly #bytes: Uint8Array;
  readonly #headerLength: number;
  readonly #publish: Publish;
  readonly #source: Chunk | undefined;
  readonly #at: number;
  #headers: NatsHeaders | undefined;

  /**
   * Creates a message.
   *
   * @param subject its subject
   * @param sid its subscription's id
   * @param reply its reply subject
   * @param headerLength the length of the header block at the front of `bytes`
   * @param bytes header block and payload
   * @param publish how `respond()` sends
   * @param source the read `bytes` is a view of, if it is one
   * @param at where `bytes` starts in `source`
   */
  constructor(
    subject: string,
    sid: number,
    reply: string | undefined,
    headerLength: number,
    bytes: Uint8Array,
    publish: Publish,
    source?: Chunk,
    at = 0,
  ) {
    this.subject = subject;
    this.sid = sid;
    this.reply = reply;
    this.#bytes = bytes;
    this.#headerLength = headerLength;
    this.data = headerLength === 0 ? bytes : bytes.subarray(headerLength);
    this.#publish = publish;
    this.#source = source;
    this.#at = at;
  }

  /** The header block's bytes, as sent (empty when it has none). */
  get headerBytes(): Uint8Array {
    return this.#bytes.subarray(0, this.#headerLength);
  }

  /** The message's headers; undefined when it has none. */
  get headers(): NatsHeaders | undefined {
    if (this.#headerLength === 0) return undefined;
    return this.#headers ??= new NatsHeaders(utf8.decode(this.headerBytes));
  }

  /** The payload as UTF-8 text, any invalid byte replaced (as nats.js's `string()`). */
  string(): string {
    return utf8.decode(this.data);
  }

  /**
   * The payload as UTF-8 text: a slice of its read's text when the read
   * was ASCII (one decoder call for all its messages).
   *
   * @returns the text
   * @throws {TypeError} when the payload is not UTF-8
   */
  text(): string {
    const whole = this.#source?.ascii();
    if (whole === undefined || whole === null) return fatal.decode(this.data);
    const end = this.#at + this.#bytes.length;
    return whole.slice(end - this.data.length, end);
  }

  /** The payload as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.string());
  }

  /**
   * Answers the message on its reply subject.
   *
   * @param data the answer
   * @returns false when the message wants no answer
   */
  respond(data: Uint8Array | string = new Uint8Array(0)): boolean {
    if (this.reply === undefined) return false;
    this.#publish(this.reply, data);
    return true;
  }
}
