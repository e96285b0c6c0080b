/**
 * Encoding of messages and values to XML-RPC.
 *
 * @module
 */

import { Float, floatText } from "../../rpc/float.ts";
import type { RpcMessage } from "../../rpc/types.ts";
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN } from "./_shared.ts";

/**
 * Encodes one message as an XML-RPC document.
 *
 * @throws {TypeError} for what XML-RPC cannot carry
 */
export function encodeMessage(message: RpcMessage, allowNone: boolean, maxDepth: number): string {
  const head = '<?xml version="1.0"?>';
  switch (message.kind) {
    case "request": {
      let params = "";
      if (message.params !== undefined) {
        const list = Array.isArray(message.params) ? message.params : [message.params];
        params = "<params>" +
          list.map((v) => `<param>${encodeValue(v, allowNone, maxDepth, 0)}</param>`).join("") +
          "</params>";
      }
      return `${head}<methodCall><methodName>${
        escapeText(message.method)
      }</methodName>${params}</methodCall>`;
    }
    case "result":
      return `${head}<methodResponse><params><param>${
        encodeValue(message.result, allowNone, maxDepth, 0)
      }</param></params></methodResponse>`;
    case "error": {
      const { code, message: text } = message.error;
      if (!Number.isInteger(code) || code < INT32_MIN || code > INT32_MAX) {
        throw new TypeError(`faultCode must be a 32-bit integer, got ${code}`);
      }
      return `${head}<methodResponse><fault><value><struct><member><name>faultCode</name>` +
        `<value><int>${code}</int></value></member><member><name>faultString</name>` +
        `<value><string>${
          escapeText(text)
        }</string></value></member></struct></value></fault></methodResponse>`;
    }
    default:
      throw new TypeError(`XML-RPC cannot carry a ${message.kind}`);
  }
}

// XML 1.0 Char production, minus what must be escaped.
// deno-lint-ignore no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|\p{Cs}/u;

function escapeText(text: string): string {
  if (FORBIDDEN.test(text)) throw new TypeError("string holds a character XML 1.0 forbids");
  return text.replace(
    /[&<>\r]/g,
    (c) => c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&#13;",
  );
}

function encodeInteger(value: bigint, allowNone: boolean): string {
  if (value >= INT32_MIN && value <= INT32_MAX) return `<int>${value}</int>`;
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new TypeError(`integer ${value} does not fit in 64 bits`);
  }
  if (!allowNone) throw new TypeError(`integer ${value} needs <i8>, refused by allowNone: false`);
  return `<i8>${value}</i8>`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function encodeValue(value: unknown, allowNone: boolean, maxDepth: number, depth: number): string {
  return `<value>${encodeInner(value, allowNone, maxDepth, depth)}</value>`;
}

function encodeInner(value: unknown, allowNone: boolean, maxDepth: number, depth: number): string {
  switch (typeof value) {
    case "undefined":
      if (!allowNone) throw new TypeError("undefined needs <nil/>, refused by allowNone: false");
      return "<nil/>";
    case "boolean":
      return `<boolean>${value ? 1 : 0}</boolean>`;
    case "string":
      return `<string>${escapeText(value)}</string>`;
    case "bigint":
      return encodeInteger(value, allowNone);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`XML-RPC cannot carry ${value}`);
      // Beyond 2^53 a number is a double that happens to be whole: it travels
      // as one, so that it comes back as the same number, not as a bigint.
      if (Number.isSafeInteger(value)) return encodeInteger(BigInt(value), allowNone);
      return `<double>${value}</double>`;
    case "object": {
      if (value === null) {
        if (!allowNone) throw new TypeError("null needs <nil/>, refused by allowNone: false");
        return "<nil/>";
      }
      if (value instanceof Date) {
        const t = value.getTime();
        if (Number.isNaN(t)) throw new TypeError("invalid Date");
        const year = value.getUTCFullYear();
        if (year < 0 || year > 9999) throw new TypeError(`year ${year} cannot be carried`);
        return `<dateTime.iso8601>${pad(year, 4)}${pad(value.getUTCMonth() + 1)}${
          pad(value.getUTCDate())
        }T${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}:${
          pad(value.getUTCSeconds())
        }</dateTime.iso8601>`;
      }
      if (value instanceof Uint8Array) return `<base64>${value.toBase64()}</base64>`;
      if (value instanceof Float) {
        // Whole or not, a Float is a double: `2.0`, `-0.0` (the sign kept).
        if (!Number.isFinite(value.value)) {
          throw new TypeError(`XML-RPC cannot carry ${value.value}`);
        }
        return `<double>${floatText(value.value)}</double>`;
      }
      if (depth >= maxDepth) throw new TypeError(`value nests deeper than ${maxDepth}`);
      if (Array.isArray(value)) {
        return `<array><data>${
          value.map((v) => encodeValue(v, allowNone, maxDepth, depth + 1)).join("")
        }</data></array>`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`XML-RPC cannot carry a ${proto?.constructor?.name ?? "object"}`);
      }
      let members = "";
      for (const [name, member] of Object.entries(value)) {
        members += `<member><name>${escapeText(name)}</name>${
          encodeValue(member, allowNone, maxDepth, depth + 1)
        }</member>`;
      }
      return `<struct>${members}</struct>`;
    }
    default:
      throw new TypeError(`XML-RPC cannot carry a ${typeof value}`);
  }
}
