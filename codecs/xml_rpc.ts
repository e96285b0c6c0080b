/**
 * The XML-RPC codec (<http://xmlrpc.com/spec.md>), with the common `nil` and
 * `i8` extensions.
 *
 * XML-RPC has no request ids and is strictly one call, one response, in
 * order. So the codec keeps per-connection state and **one codec instance
 * serves one connection** (or one HTTP exchange at a time); a peer takes its
 * own instance through `fork()`, so one codec given to a server is safe:
 *
 * - decoding a `methodCall` invents the id: a counter per instance (1, 2, 3…);
 *   encoding a reply ignores its id;
 * - encoding a request remembers its id in a FIFO; decoding a
 *   `methodResponse` takes the oldest remembered id (an error response with
 *   none remembered gets id `null`, a result with none is invalid).
 *
 * Notifications and batches do not exist (`TypeError` when encoding).
 * Values map onto XML-RPC as follows:
 *
 * | value | on the wire | decoded as |
 * |---|---|---|
 * | integer `number` / `bigint` within 32 bits | `<int>` | `number` |
 * | safe integer `number` beyond 32 bits, `bigint` within 64 | `<i8>` (`TypeError` when `allowNone: false`) | `number` when safe, else `bigint` |
 * | `bigint` beyond 64 bits | `TypeError` | — |
 * | other finite `number` (also whole numbers beyond 2^53) | `<double>` (`String(n)`, may have an exponent) | `number` |
 * | {@linkcode Float} (a double even when whole) | `<double>2.0</double>`, `<double>-0.0</double>` | `number`, or a `Float` with `keepFloats: true` |
 * | `NaN`, `±Infinity` (plain or `Float`) | `TypeError` | — |
 * | `boolean` | `<boolean>1</boolean>` / `0` | `boolean` |
 * | `string` | `<string>` (escaped; characters XML 1.0 forbids are a `TypeError`) | `string`, also untyped `<value>text</value>` |
 * | `Date` | `<dateTime.iso8601>19980717T14:08:55</dateTime.iso8601>` in UTC, milliseconds dropped | `Date`; no zone means UTC; dashes, fractions, `Z` and offsets accepted |
 * | `Uint8Array` | `<base64>` | `Uint8Array` |
 * | array | `<array><data>` | array |
 * | plain object | `<struct>` of `<member>`s | plain object (a `__proto__` member is an own property, never the prototype) |
 * | `null`, `undefined` | `<nil/>` (`TypeError` when `allowNone: false`) | `null`, also `<ex:nil/>` |
 * | other objects | `TypeError` | — |
 *
 * `<int>`, `<i4>` and `<i8>` (also `<ex:i8>`) are all read up to 64 bits,
 * as Python reads them: some writers, such as the `xmlrpc` npm package, send
 * `<int>1099511627776</int>` for 2^40. Each decodes as a `number` when it is
 * a safe integer and as a `bigint` beyond; beyond 64 bits it is malformed.
 * `<double>` decodes as a plain `number` (`2.0` and `2` are then the same
 * value); with `keepFloats: true` as a `Float`, so that a double sent back
 * stays a double, `-0.0` included. A zod service marks its results' doubles
 * as `Float`s by its schema, so it needs no option.
 *
 * Named params encode as one struct param; params always decode as an array.
 * An error reply is a fault: `code` ⇄ `faultCode`, `message` ⇄ `faultString`;
 * `data` cannot travel and is dropped.
 *
 * Frames that are not well-formed XML, hold a DOCTYPE (no entity expansion,
 * no external entities), nest deeper than `maxDepth` or hold a malformed
 * value in a call throw {@linkcode DecodeError} (the peer gets fault -32700).
 * A well-formed `methodCall` with a missing or empty `methodName` or a
 * misshapen `params` decodes as an invalid request (fault -32600) under its
 * invented id. While a call awaits its reply, the next document that is not
 * a `methodCall` is that reply: one that is not a valid `methodResponse`
 * (another root, a bad value, no param, a fault without
 * `faultCode`/`faultString`) decodes as invalid with `id: undefined` (never
 * answered) and `inReplyTo` the call it consumed, which then fails. When no
 * call awaits, any other well-formed document (a `methodResponse`, another
 * root) decodes as an invalid request under an invented id, answered with
 * fault -32600: a server, and every HTTP exchange, answers whatever it is
 * sent. Two exceptions are never answered: at an end that has made calls, a
 * response answering no call (a fault decodes with id `null`, the other
 * end's complaint; a result as invalid); and anything that follows this
 * end's own -32600 answer before a call or an awaited reply arrives, so that
 * two ends can never trade faults forever.
 *
 * XML is parsed with `saxes`, a strict, non-validating, pure-JavaScript
 * parser that knows only the five predefined entities.
 *
 * @example Encoding a call and decoding it on the other side
 * ```ts
 * import assert from "node:assert/strict";
 * import { xmlRpc } from "./xml_rpc.ts";
 *
 * const client = xmlRpc();
 * const server = xmlRpc();
 * const xml = client.encode({ kind: "request", id: 7, method: "add", params: [1, 2] });
 * assert.deepEqual(server.decode(xml), { kind: "request", id: 1, method: "add", params: [1, 2] });
 * const reply = server.encode({ kind: "result", id: 1, result: 3 });
 * assert.deepEqual(client.decode(reply), { kind: "result", id: 7, result: 3 });
 * ```
 *
 * @module
 */

import { ErrorCode } from "../rpc/errors.ts";
import { DEFAULT_LIMITS } from "../rpc/limits.ts";
import type { Codec, DecodedFrame, Frame, RpcId, RpcMessage } from "../rpc/types.ts";
import {
  decodeCall,
  type DecodeOptions,
  decodeResponse,
  notACall,
  notAResponse,
  parseXml,
  TooManyElements,
} from "./xml_rpc/_decode.ts";
import { encodeMessage } from "./xml_rpc/_encode.ts";
import { NAME, type XmlNode } from "./xml_rpc/_shared.ts";

// The message model and contracts, and doubles that stay doubles, for users
// who import only this entry point.
export { Float, float, isFloat } from "../rpc/float.ts";

/**
 * Options of {@linkcode xmlRpc}.
 *
 * @example Refusing the extensions
 * ```ts
 * import assert from "node:assert/strict";
 * import { xmlRpc } from "./xml_rpc.ts";
 *
 * const codec = xmlRpc({ allowNone: false });
 * assert.throws(() => codec.encode({ kind: "result", id: 1, result: null }), TypeError);
 * ```
 */
export interface XmlRpcOptions {
  /**
   * Whether `null` / `undefined` encode as `<nil/>` and integers beyond 32
   * bits as `<i8>` (like Python's `allow_none`). Default `true`; when `false`
   * they are a `TypeError`. Both are always decoded.
   */
  readonly allowNone?: boolean;
  /** Deepest nesting of arrays and structs decoded or encoded. Default 64. */
  readonly maxDepth?: number;
  /**
   * Most elements in one document, counted as it is parsed (a value is two
   * or three: `<value><int>`, a struct member four more). A call with more
   * is answered with an invalid-request fault, a response with more fails
   * the call it answers. Default `DEFAULT_LIMITS.maxItems` (1,000,000).
   */
  readonly maxItems?: number;
  /**
   * Decode `<double>` as a {@linkcode Float}, so that `2.0` and `-0.0` stay
   * doubles when they are sent on (a zod service unwraps them before its
   * schema checks them). Default `false`: plain numbers.
   */
  readonly keepFloats?: boolean;
}

/**
 * Creates an XML-RPC codec for one connection.
 *
 * @param options the extensions and the depth limit
 * @returns a codec named `"xmlrpc"`, media type `text/xml`
 * @throws {RangeError} when `maxDepth` is not a positive integer
 *
 * @example A fault
 * ```ts
 * import assert from "node:assert/strict";
 * import { xmlRpc } from "./xml_rpc.ts";
 *
 * const client = xmlRpc();
 * client.encode({ kind: "request", id: 7, method: "reserve", params: [5] });
 * const server = xmlRpc();
 * const xml = server.encode({ kind: "error", id: 1, error: { code: 4, message: "Too many" } });
 * assert.match(xml as string, /<fault>/);
 * assert.deepEqual(client.decode(xml), {
 *   kind: "error",
 *   id: 7,
 *   error: { code: 4, message: "Too many" },
 * });
 * // Sent to a server, a document that is not a call is an invalid request.
 * assert.deepEqual(server.decode(xml), {
 *   kind: "invalid",
 *   id: 1,
 *   error: { code: -32600, message: "expected <methodCall>, got <methodResponse>" },
 * });
 * ```
 */
export function xmlRpc(options: XmlRpcOptions = {}): Codec {
  const allowNone = options.allowNone ?? true;
  const maxDepth = options.maxDepth ?? DEFAULT_LIMITS.maxDepth;
  const maxItems = options.maxItems ?? DEFAULT_LIMITS.maxItems;
  for (const [name, value] of [["maxDepth", maxDepth], ["maxItems", maxItems]] as const) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }
  const decoding: DecodeOptions = { maxDepth, keepFloats: options.keepFloats ?? false };
  return instance({ allowNone, maxDepth, maxItems, decoding });
}

/** An XML-RPC codec's checked options, shared by the instances it forks. */
interface Settings {
  readonly allowNone: boolean;
  readonly maxDepth: number;
  readonly maxItems: number;
  readonly decoding: DecodeOptions;
}

// One instance: an HTTP server forks one per POST, so forking checks nothing again.
function instance(settings: Settings): Codec {
  const { allowNone, maxDepth, maxItems, decoding } = settings;
  let nextId = 1;
  const sent: RpcId[] = [];
  // Whether this end has made calls, and has answered a document that was
  // not a call since the last call or awaited reply it received.
  let called = false;
  let complained = false;

  return {
    name: NAME,
    mediaType: "text/xml",
    text: true,
    features: { batch: false, notifications: false, replyToParseError: true },
    fork: () => instance(settings),
    encode(message: RpcMessage | readonly RpcMessage[]): Frame {
      if (Array.isArray(message)) throw new TypeError("XML-RPC has no batches");
      const xml = encodeMessage(message as RpcMessage, allowNone, maxDepth);
      if ((message as RpcMessage).kind === "request") {
        sent.push((message as { id: RpcId }).id);
        called = true;
      }
      return xml;
    },
    decode(frame: Frame): DecodedFrame {
      let root: XmlNode;
      try {
        root = parseXml(frame, maxDepth * 3 + 8, maxItems);
      } catch (error) {
        if (!(error instanceof TooManyElements)) throw error;
        const refusal = { code: ErrorCode.InvalidRequest, message: error.message };
        if (error.root === "methodCall") {
          complained = false;
          return { kind: "invalid", id: nextId++, error: refusal };
        }
        if (error.root === "methodResponse" && sent.length > 0) {
          complained = false;
          return { kind: "invalid", id: undefined, error: refusal, inReplyTo: sent.shift()! };
        }
        // Any other document is told apart by its root's name alone.
        root = { name: error.root, children: [], text: "" };
      }
      if (root.name === "methodCall") {
        complained = false;
        return decodeCall(root, nextId++, decoding);
      }
      if (sent.length > 0) {
        // The oldest call's reply: a document that is no response fails that call.
        complained = false;
        if (root.name === "methodResponse") return decodeResponse(root, sent, decoding);
        return notAResponse(root.name, sent.shift()!);
      }
      // Nothing awaits a reply. A response at an end that makes calls is the
      // other end's doing (a fault: its complaint, id null), not answered,
      // nor is anything after this end's own complaint: one complaint per
      // confusion, so that two ends never trade faults forever.
      if (complained || (called && root.name === "methodResponse")) {
        if (root.name === "methodResponse") return decodeResponse(root, sent, decoding);
        return notACall(root.name, undefined);
      }
      // Otherwise it is answered as a call that is not one: a server (and
      // every HTTP exchange, which forks a fresh codec) answers whatever it is sent.
      complained = true;
      return notACall(root.name, nextId++);
    },
  };
}
