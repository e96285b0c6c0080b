// The Thrift codec's own local failures: a value that does not fit its
// type on the way out, and bytes that are no valid message on the way in.

/**
 * A value that does not fit its Thrift type; the message says where and why.
 * A call whose arguments do not fit fails with it before anything is sent.
 *
 * @example An i32 argument out of range
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadThrift, thriftRpc, ThriftValueError } from "../thrift.ts";
 *
 * const schema = loadThrift("service Adder { i32 add(1: i32 a, 2: i32 b) }");
 * const codec = thriftRpc({ schema }).fork!();
 * assert.throws(
 *   () => codec.encode({ kind: "request", id: 1, method: "add", params: [2 ** 31, 1] }),
 *   new ThriftValueError("add.a: an integer from -2147483648 to 2147483647 expected"),
 * );
 * ```
 */
export class ThriftValueError extends TypeError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ThriftValueError";
  }
}

/**
 * Bytes that are not a valid message of the expected type, as the codec's
 * reader finds them. The codec reports it as a `DecodeError` whose `cause`
 * it is (and the connection closes: a Thrift stream cannot resynchronise).
 *
 * @example A list that declares more elements than the message holds
 * ```ts
 * import assert from "node:assert/strict";
 * import { DecodeError } from "../../rpc/errors.ts";
 * import { loadThrift, ThriftReadError, thriftRpc } from "../thrift.ts";
 *
 * const schema = loadThrift("service Echo { list<string> echo(1: list<string> words) }");
 * const codec = thriftRpc({ schema }).fork!();
 * // A TBinaryProtocol CALL of echo, seqid 1, whose list declares 1,000 strings and holds none.
 * const call = new Uint8Array([
 *   ...[0x80, 1, 0, 1, 0, 0, 0, 4, ...new TextEncoder().encode("echo"), 0, 0, 0, 1],
 *   ...[0x0f, 0, 1, 0x0b, 0, 0, 0x03, 0xe8, 0],
 * ]);
 * assert.throws(
 *   () => codec.decode(call),
 *   (error) =>
 *     error instanceof DecodeError && error.cause instanceof ThriftReadError &&
 *     /1000 elements/.test(error.cause.message),
 * );
 * ```
 */
export class ThriftReadError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ThriftReadError";
  }
}

/** A struct read whole, but without a field its IDL requires. */
export class ThriftRequiredError extends ThriftReadError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ThriftRequiredError";
  }
}
