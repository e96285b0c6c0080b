/**
 * Reads what a NATS server sends (`INFO`, `MSG`, `HMSG`, `PING`, `PONG`,
 * `+OK`, `-ERR`) from bytes as they arrive, in any cut: every whole
 * operation of a read is handled in one synchronous pass, with no promise
 * per message. A message's bytes (headers and payload) are a view of the
 * chunk they arrived in, not a copy (an array costs about a microsecond to
 * make in Deno, more than the rest of a message's parsing): the caller
 * gives every read a chunk of its own and never writes to it again.
 *
 * Bounded whatever arrives: a control line past `maxControlLine` or a
 * message past `maxPayload` is a protocol error before anything is
 * buffered for it, and so is any line that is not NATS.
 *
 * @module
 */

const fatal = new TextDecoder("utf-8", { fatal: true });

/**
 * One read's bytes, as text when asked: decoded once for all the messages
 * of the read (one decoder call instead of one per message and per
 * subject, each costing more in Deno than the slicing that replaces it),
 * and only when every byte is ASCII, so that a byte's offset is its
 * character's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Chunk } from "./_parser.ts";
 *
 * assert.equal(new Chunk(new TextEncoder().encode("abc")).ascii(), "abc");
 * assert.equal(new Chunk(new TextEncoder().encode("é")).ascii(), null);
 * ```
 */
export class Chunk {
  /** The read's bytes. */
  readonly bytes: Uint8Array;
  #text: string | null | undefined;

  /**
   * Wraps a read.
   *
   * @param bytes the read's bytes
   */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The bytes as text when all are ASCII; null otherwise. */
  ascii(): string | null {
    if (this.#text !== undefined) return this.#text;
    try {
      // A valid multi-byte sequence decodes to fewer characters than bytes.
      const text = fatal.decode(this.bytes);
      return this.#text = text.length === this.bytes.length ? text : null;
    } catch {
      return this.#text = null;
    }
  }
}

/** What the parser found; each method is called in the order of the stream. */
export interface ParserEvents {
  /** `INFO {…}`: the server's JSON, unparsed. */
  info(json: string): void;
  /**
   * `MSG`/`HMSG`: `bytes` holds the header block (its first `headerLength`
   * bytes, 0 for `MSG`) and then the payload; when it is a view of one
   * read, `source` is that read and `at` where `bytes` starts in it.
   */
  message(
    subject: string,
    sid: number,
    reply: string | undefined,
    headerLength: number,
    bytes: Uint8Array,
    source: Chunk | undefined,
    at: number,
  ): void;
  /** `PING`: the server checks this client is alive. */
  ping(): void;
  /** `PONG`: the answer to this client's oldest unanswered `PING`. */
  pong(): void;
  /** `-ERR '…'`: the server's complaint, quotes removed. */
  error(text: string): void;
}

/** The stream broke NATS's protocol: the connection must end. */
export class NatsProtocolError extends Error {
  /**
   * Creates the error.
   *
   * @param message what was wrong
   */
  constructor(message: string) {
    super(message);
    this.name = "NatsProtocolError";
  }
}

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();

/**
 * NATS's server-to-client protocol, fed by `receive()`.
 *
 * @example A message and a ping, cut anywhere
 * ```ts
 * import assert from "node:assert/strict";
 * import { NatsParser } from "./_parser.ts";
 *
 * const seen: string[] = [];
 * const parser = new NatsParser({
 *   info: (json) => seen.push(`info ${JSON.parse(json).max_payload}`),
 *   message: (subject, sid, reply, _h, bytes) =>
 *     seen.push(`${subject} ${sid} ${reply} ${new TextDecoder().decode(bytes)}`),
 *   ping: () => seen.push("ping"),
 *   pong: () => seen.push("pong"),
 *   error: (text) => seen.push(`error ${text}`),
 * }, { maxControlLine: 4096, maxPayload: 1024 });
 * const bytes = new TextEncoder().encode(
 *   'INFO {"max_payload":1024}\r\nMSG add 1 INBOX.7 5\r\nhello\r\nPING\r\n',
 * );
 * for (let at = 0; at < bytes.length; at += 7) parser.receive(bytes.subarray(at, at + 7));
 * assert.deepEqual(seen, ["info 1024", "add 1 INBOX.7 hello", "ping"]);
 * ```
 */
export class NatsParser {
  /** Told of each operation; may be replaced between reads. */
  events: ParserEvents;
  readonly #maxControlLine: number;
  /** The largest message (headers and payload) taken; the server's `max_payload` once known. */
  maxPayload: number;
  // Bytes of an operation not yet whole, copied out of earlier reads.
  #rest: Uint8Array = EMPTY;
  // A message whose control line was read and whose bytes are arriving.
  #body: Uint8Array | undefined;
  #size = 0;
  #bodyFilled = 0;
  #subject = "";
  #sid = 0;
  #reply: string | undefined;
  #headerLength = 0;
  // The last subject seen, so that a stream of messages on one subject makes one string.
  #lastSubjectBytes: Uint8Array = EMPTY;
  // The read being parsed, for text made by slicing.
  #chunk: Chunk | undefined;
  #lastSubject = "";

  /**
   * Creates a parser.
   *
   * @param events told of each operation
   * @param limits the longest control line, the largest message
   */
  constructor(events: ParserEvents, limits: { maxControlLine: number; maxPayload: number }) {
    this.events = events;
    this.#maxControlLine = limits.maxControlLine;
    this.maxPayload = limits.maxPayload;
  }

  /**
   * Takes the next bytes of the stream; the events of every whole operation
   * in them run before this returns. Messages are views of `chunk`: do not
   * write to it afterwards.
   *
   * @param chunk bytes as read
   * @throws {NatsProtocolError} when the stream is not NATS or breaks a limit
   */
  receive(chunk: Uint8Array): void {
    let at = 0;
    if (this.#body !== undefined) {
      at = this.#fill(chunk);
      if (this.#body !== undefined) return;
    }
    let buf = chunk;
    if (this.#rest.length > 0) {
      buf = new Uint8Array(this.#rest.length + chunk.length - at);
      buf.set(this.#rest);
      buf.set(chunk.subarray(at), this.#rest.length);
      this.#rest = EMPTY;
      at = 0;
    }
    const end = buf.length;
    this.#chunk = new Chunk(buf);
    while (at < end) {
      const eol = buf.indexOf(LF, at);
      if (eol === -1) {
        if (end - at > this.#maxControlLine) {
          throw new NatsProtocolError(`A control line longer than ${this.#maxControlLine} bytes`);
        }
        this.#rest = buf.slice(at);
        return;
      }
      if (eol - at > this.#maxControlLine) {
        throw new NatsProtocolError(`A control line longer than ${this.#maxControlLine} bytes`);
      }
      const lineEnd = eol > at && buf[eol - 1] === CR ? eol - 1 : eol;
      const first = buf[at]!;
      if (first === 77 || first === 72) { // M(SG), H(MSG)
        this.#messageLine(buf, at, lineEnd, first === 72);
        const start = eol + 1;
        const size = this.#size;
        if (end - start >= size + 2) {
          // The whole message is in this read: a view of it.
          this.#deliver(buf.subarray(start, start + size), buf, start + size, this.#chunk, start);
          at = start + size + 2;
          continue;
        }
        this.#body = new Uint8Array(size + 2);
        this.#bodyFilled = 0;
        this.#fill(buf.subarray(start));
        return;
      }
      this.#controlLine(buf, at, lineEnd);
      at = eol + 1;
    }
  }

  // Copies the arriving bytes of a message into its array; returns how much
  // of `chunk` it took, and delivers the message once it is whole.
  #fill(chunk: Uint8Array): number {
    const body = this.#body!;
    const take = Math.min(body.length - this.#bodyFilled, chunk.length);
    body.set(chunk.subarray(0, take), this.#bodyFilled);
    this.#bodyFilled += take;
    if (this.#bodyFilled === body.length) {
      this.#body = undefined;
      this.#deliver(body.subarray(0, body.length - 2), body, body.length - 2, undefined, 0);
    }
    return take;
  }

  #deliver(
    bytes: Uint8Array,
    buf: Uint8Array,
    crlf: number,
    chunk: Chunk | undefined,
    at: number,
  ): void {
    if (buf[crlf] !== CR || buf[crlf + 1] !== LF) {
      throw new NatsProtocolError("A message whose payload does not end with CRLF");
    }
    const { events } = this;
    events.message(this.#subject, this.#sid, this.#reply, this.#headerLength, bytes, chunk, at);
  }

  // `MSG subject sid [reply] size` or `HMSG subject sid [reply] hsize size`.
  #messageLine(buf: Uint8Array, start: number, end: number, headed: boolean): void {
    const args: number[] = [];
    let at = start;
    while (at < end) {
      while (at < end && (buf[at] === SPACE || buf[at] === TAB)) at++;
      if (at === end) break;
      const from = at;
      while (at < end && buf[at] !== SPACE && buf[at] !== TAB) at++;
      args.push(from, at);
      if (args.length > 12) break;
    }
    const count = args.length / 2;
    const op = headed ? "HMSG" : "MSG";
    if (!this.#isWord(buf, args[0]!, args[1]!, op)) this.#unknown(buf, start, end);
    if (count < (headed ? 5 : 4) || count > (headed ? 6 : 5)) {
      throw new NatsProtocolError(`A malformed ${op} line`);
    }
    const size = this.#number(buf, args[2 * count - 2]!, args[2 * count - 1]!);
    const headerLength = headed ? this.#number(buf, args[2 * count - 4]!, args[2 * count - 3]!) : 0;
    if (headerLength > size) throw new NatsProtocolError(`An ${op} whose headers outsize it`);
    if (size > this.maxPayload) {
      throw new NatsProtocolError(`A message of ${size} bytes, past the limit ${this.maxPayload}`);
    }
    this.#subject = this.#subjectOf(buf, args[2]!, args[3]!);
    this.#sid = this.#number(buf, args[4]!, args[5]!);
    const withReply = count === (headed ? 6 : 5);
    this.#reply = withReply ? this.#text(buf, args[6]!, args[7]!) : undefined;
    this.#headerLength = headerLength;
    this.#size = size;
  }

  #controlLine(buf: Uint8Array, start: number, end: number): void {
    const first = buf[start];
    if (first === 80 && end - start === 4) { // P
      if (this.#isWord(buf, start, end, "PING")) return this.events.ping();
      if (this.#isWord(buf, start, end, "PONG")) return this.events.pong();
    }
    if (first === 73 && this.#isWord(buf, start, Math.min(start + 4, end), "INFO")) {
      const json = utf8.decode(buf.subarray(start + 4, end)).trim();
      return this.events.info(json);
    }
    if (first === 43 && this.#isWord(buf, start, end, "+OK")) return;
    if (first === 45 && this.#isWord(buf, start, Math.min(start + 4, end), "-ERR")) {
      const text = utf8.decode(buf.subarray(start + 4, end)).trim().replace(/^'|'$/g, "");
      return this.events.error(text);
    }
    if (end === start) return; // an empty line: nothing to do
    this.#unknown(buf, start, end);
  }

  #unknown(buf: Uint8Array, start: number, end: number): never {
    const shown = utf8.decode(buf.subarray(start, Math.min(end, start + 40)));
    throw new NatsProtocolError(`Not NATS: ${JSON.stringify(shown)}`);
  }

  #isWord(buf: Uint8Array, start: number, end: number, word: string): boolean {
    if (end - start !== word.length) return false;
    for (let i = 0; i < word.length; i++) {
      // Upper case as the server sends it, or lower (the protocol is case-insensitive).
      if ((buf[start + i]! & ~32) !== (word.charCodeAt(i) & ~32)) return false;
    }
    return true;
  }

  #number(buf: Uint8Array, start: number, end: number): number {
    if (end - start > 15) throw new NatsProtocolError("A number too long");
    let n = 0;
    for (let at = start; at < end; at++) {
      const digit = buf[at]! - 48;
      if (digit < 0 || digit > 9) throw new NatsProtocolError("A number that is not one");
      n = n * 10 + digit;
    }
    return n;
  }

  #subjectOf(buf: Uint8Array, start: number, end: number): string {
    const last = this.#lastSubjectBytes;
    if (last.length === end - start) {
      // From the end: subjects of one stream differ in their last token.
      let i = last.length - 1;
      while (i >= 0 && last[i] === buf[start + i]) i--;
      if (i < 0) return this.#lastSubject;
    }
    const subject = this.#text(buf, start, end);
    this.#lastSubjectBytes = buf.subarray(start, end);
    this.#lastSubject = subject;
    return subject;
  }

  // A subject or reply: a slice of the read's text when it is ASCII, else
  // made from its bytes (by hand when short and ASCII: a decoder call costs more).
  #text(buf: Uint8Array, start: number, end: number): string {
    const chunk = this.#chunk;
    if (chunk !== undefined && chunk.bytes === buf) {
      const text = chunk.ascii();
      if (text !== null) return text.slice(start, end);
    }
    if (end - start <= 64) {
      let ascii = true;
      for (let at = start; at < end; at++) if (buf[at]! > 127) ascii = false;
      if (ascii) {
        return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
      }
    }
    return utf8.decode(buf.subarray(start, end));
  }
}
