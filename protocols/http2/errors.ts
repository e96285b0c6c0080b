/**
 * HTTP/2's error codes (RFC 9113 §7) and the errors a stream or a
 * connection ends with.
 *
 * @module
 */

/**
 * The error codes of RST_STREAM and GOAWAY (RFC 9113 §7), by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2ErrorCode } from "./errors.ts";
 *
 * assert.equal(Http2ErrorCode.CANCEL, 8);
 * ```
 */
export const Http2ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

const NAMES: string[] = [];
for (const [name, code] of Object.entries(Http2ErrorCode)) NAMES[code] = name;

/**
 * An error code's name, or its number in hex when unknown.
 *
 * @param code the code
 * @returns e.g. `"CANCEL"`, `"0x2a"`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorCodeName } from "./errors.ts";
 *
 * assert.equal(errorCodeName(11), "ENHANCE_YOUR_CALM");
 * assert.equal(errorCodeName(0x2a), "0x2a");
 * ```
 */
export function errorCodeName(code: number): string {
  return NAMES[code] ?? `0x${code.toString(16)}`;
}

/**
 * Why a stream ended early: reset by the peer (RST_STREAM), by us, or
 * refused (REFUSED_STREAM, or past a GOAWAY's last stream: safe to retry).
 * `code` is the HTTP/2 error code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2ErrorCode, Http2StreamError } from "./errors.ts";
 *
 * const error = new Http2StreamError(Http2ErrorCode.CANCEL, "Stream 1 reset by the peer");
 * assert.equal(error.message, "Stream 1 reset by the peer (CANCEL)");
 * assert.equal(error.code, 8);
 * ```
 */
export class Http2StreamError extends Error {
  /** `"Http2StreamError"`. */
  override readonly name = "Http2StreamError";
  /** The HTTP/2 error code. */
  readonly code: number;

  /**
   * Makes the error.
   *
   * @param code the HTTP/2 error code
   * @param message what happened (the code's name is appended)
   * @param options the cause
   */
  constructor(code: number, message: string, options?: ErrorOptions) {
    super(`${message} (${errorCodeName(code)})`, options);
    this.code = code;
  }
}

/**
 * A connection error (RFC 9113 §5.4.1): the peer broke the protocol, or
 * sent GOAWAY with an error; the connection ends. `code` is the HTTP/2
 * error code sent or received.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2ConnectionError, Http2ErrorCode } from "./errors.ts";
 *
 * const error = new Http2ConnectionError(Http2ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
 * assert.equal(error.message, "DATA on stream 0 (PROTOCOL_ERROR)");
 * ```
 */
export class Http2ConnectionError extends Error {
  /** `"Http2ConnectionError"`. */
  override readonly name = "Http2ConnectionError";
  /** The HTTP/2 error code. */
  readonly code: number;

  /**
   * Makes the error.
   *
   * @param code the HTTP/2 error code
   * @param message what happened (the code's name is appended)
   * @param options the cause
   */
  constructor(code: number, message: string, options?: ErrorOptions) {
    super(`${message} (${errorCodeName(code)})`, options);
    this.code = code;
  }
}
