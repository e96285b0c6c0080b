/**
 * Parsing (with saxes) and decoding of XML-RPC documents.
 *
 * @module
 */

import { frameText } from "../../rpc/frame_text.ts";
import { SaxesParser } from "saxes";
import { DecodeError, ErrorCode } from "../../rpc/errors.ts";
import { Float } from "../../rpc/float.ts";
import type { DecodedFrame, Frame, RpcId, RpcInvalid } from "../../rpc/types.ts";
import { INT64_MAX, INT64_MIN, NAME, type XmlNode } from "./_shared.ts";
import { parseSimpleXml } from "./_simple_parse.ts";

// ---------------------------------------------------------------- parsing

/**
 * A document with more elements than allowed, refused as they are parsed:
 * its root's name says what it was meant to be.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseXml, TooManyElements } from "./_decode.ts";
 *
 * assert.throws(
 *   () => parseXml("<methodCall><a/><b/></methodCall>", 10, 2),
 *   (e) => e instanceof TooManyElements && e.root === "methodCall",
 * );
 * ```
 */
export class TooManyElements extends Error {
  /** The root element's name. */
  readonly root: string;

  /**
   * @param root the root element's name
   * @param maxItems the limit
   */
  constructor(root: string, maxItems: number) {
    super(`the document holds more than ${maxItems} elements (limit maxItems)`);
    this.name = "TooManyElements";
    this.root = root;
  }
}

/**
 * Parses a frame into a tree: refuses a DOCTYPE, processing instructions,
 * elements nested deeper than `maxElementDepth` and more than `maxElements`
 * elements (before their nodes are built).
 *
 * @throws {DecodeError} for anything not well-formed
 * @throws {TooManyElements} beyond `maxElements`
 */
export function parseXml(
  frame: Frame,
  maxElementDepth: number,
  maxElements = Infinity,
): XmlNode {
  const text = frameText(frame, NAME);
  // The usual document, plain elements and text, without saxes.
  return parseSimpleXml(text, maxElementDepth, maxElements) ??
    parseWithSaxes(text, maxElementDepth, maxElements);
}

/**
 * {@linkcode parseXml} with saxes alone, whatever the document: the
 * reference the fast parser (`_simple_parse.ts`) is tested against.
 *
 * @throws {DecodeError} for anything not well-formed
 * @throws {TooManyElements} beyond `maxElements`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWithSaxes } from "./_decode.ts";
 *
 * assert.equal(parseWithSaxes("<a>&amp;</a>", 10).text, "&");
 * ```
 */
export function parseWithSaxes(
  text: string,
  maxElementDepth: number,
  maxElements = Infinity,
): XmlNode {
  const parser = new SaxesParser({ xmlns: false });
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  const fail = (message: string): never => {
    throw new DecodeError(NAME, message);
  };
  parser.on("error", (error) => fail(error.message));
  parser.on("doctype", () => fail("a DOCTYPE is not allowed"));
  parser.on("processinginstruction", () => fail("processing instructions are not allowed"));
  let elements = 0;
  parser.on("opentag", (tag) => {
    if (stack.length >= maxElementDepth) fail(`elements nest deeper than ${maxElementDepth}`);
    if (++elements > maxElements) throw new TooManyElements(root?.name ?? tag.name, maxElements);
    const node: XmlNode = { name: tag.name, children: [], text: "" };
    const parent = stack[stack.length - 1];
    if (parent === undefined) root = node;
    else parent.children.push(node);
    stack.push(node);
  });
  parser.on("closetag", () => {
    stack.pop();
  });
  const onText = (data: string) => {
    const node = stack[stack.length - 1];
    if (node !== undefined) node.text += data;
  };
  parser.on("text", onText);
  parser.on("cdata", onText);
  try {
    parser.write(text).close();
  } catch (error) {
    if (error instanceof DecodeError || error instanceof TooManyElements) throw error;
    throw new DecodeError(NAME, error instanceof Error ? error.message : String(error));
  }
  return root ?? fail("no root element");
}

// ---------------------------------------------------------------- decoding

/** How values are decoded. */
export interface DecodeOptions {
  /** Deepest nesting of arrays and structs. */
  readonly maxDepth: number;
  /** `<double>` as a {@linkcode Float} instead of a plain number. */
  readonly keepFloats: boolean;
}

/**
 * A well-formed document that is not a `methodCall`, sent where no reply
 * was awaited: an invalid request, answered under the invented `id`
 * (`undefined`: not answered).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notACall } from "./_decode.ts";
 *
 * assert.equal(notACall("methodResponse", 3).error.code, -32600);
 * ```
 */
export function notACall(root: string, id: number | undefined): RpcInvalid {
  return {
    kind: "invalid",
    id,
    error: { code: ErrorCode.InvalidRequest, message: `expected <methodCall>, got <${root}>` },
  };
}

/**
 * A well-formed document that is not a `methodResponse`, where one was
 * awaited: the call it consumed fails, nothing is answered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notAResponse } from "./_decode.ts";
 *
 * const invalid = notAResponse("html", "call-1");
 * assert.equal(invalid.id, undefined);
 * assert.equal(invalid.inReplyTo, "call-1");
 * ```
 */
export function notAResponse(root: string, inReplyTo: RpcId): RpcInvalid {
  return {
    kind: "invalid",
    id: undefined,
    error: { code: ErrorCode.InvalidRequest, message: `expected <methodResponse>, got <${root}>` },
    inReplyTo,
  };
}

/** Thrown inside `decodeCall` for a well-formed but invalid call. */
class Invalid extends Error {}

function localName(name: string): string {
  const colon = name.indexOf(":");
  return colon < 0 ? name : name.slice(colon + 1);
}

function elements(node: XmlNode, strict = true): XmlNode[] {
  if (strict && node.text.trim() !== "") {
    throw new DecodeError(NAME, `unexpected text in <${node.name}>`);
  }
  return node.children;
}

function only(node: XmlNode, name: string): XmlNode {
  const children = elements(node);
  const child = children[0];
  if (children.length !== 1 || child === undefined || child.name !== name) {
    throw new DecodeError(NAME, `<${node.name}> must hold one <${name}>`);
  }
  return child;
}

/** Decodes a `methodCall` under the invented `id`. */
export function decodeCall(root: XmlNode, id: number, options: DecodeOptions): DecodedFrame {
  try {
    const children = elements(root);
    const nameNode = children[0];
    if (nameNode === undefined || nameNode.name !== "methodName" || nameNode.children.length) {
      throw new Invalid("methodCall without methodName");
    }
    const method = nameNode.text.trim();
    if (method === "") throw new Invalid("empty methodName");
    if (children.length === 1) return { kind: "request", id, method };
    const paramsNode = children[1];
    if (children.length > 2 || paramsNode?.name !== "params") {
      throw new Invalid("methodCall may hold only methodName and params");
    }
    const params = elements(paramsNode).map((param) => {
      if (param.name !== "param") throw new Invalid("<params> may hold only <param>");
      return decodeValue(only(param, "value"), options, 0);
    });
    return { kind: "request", id, method, params };
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    return {
      kind: "invalid",
      id,
      error: { code: ErrorCode.InvalidRequest, message: error.message },
    };
  }
}

/** Decodes a `methodResponse`, taking its id from `sent`. */
export function decodeResponse(
  root: XmlNode,
  sent: RpcId[],
  options: DecodeOptions,
): DecodedFrame {
  const id = sent.shift();
  try {
    const child = only(root, root.children[0]?.name === "fault" ? "fault" : "params");
    if (child.name === "params") {
      const value = decodeValue(only(only(child, "param"), "value"), options, 0);
      if (id === undefined) throw new DecodeError(NAME, "a response to no call");
      return { kind: "result", id, result: value };
    }
    const fault = decodeValue(only(child, "value"), options, 0) as Record<string, unknown>;
    const code = fault?.faultCode;
    const message = fault?.faultString;
    if (typeof code !== "number" || !Number.isInteger(code) || typeof message !== "string") {
      throw new DecodeError(NAME, "a fault needs an int faultCode and a string faultString");
    }
    return { kind: "error", id: id ?? null, error: { code, message } };
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    const invalid = {
      kind: "invalid",
      id: undefined,
      error: { code: ErrorCode.InvalidRequest, message: error.message },
    } as const;
    return id === undefined ? invalid : { ...invalid, inReplyTo: id };
  }
}

const INTEGER = /^[+-]?\d+$/;
const DOUBLE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE =
  /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(\.\d+)?(Z|([+-])(\d{2}):?(\d{2}))?$/;

// Every integer type is read up to 64 bits: the `xmlrpc` npm package and
// others write <int> for any whole number (2^40 too), and Python reads them.
function decodeInteger(type: string, text: string): number | bigint {
  if (!INTEGER.test(text)) throw new DecodeError(NAME, `bad <${type}> ${text}`);
  const n = BigInt(text);
  if (n < INT64_MIN || n > INT64_MAX) throw new DecodeError(NAME, `bad <${type}> ${text}`);
  return Number.isSafeInteger(Number(n)) ? Number(n) : n;
}

function decodeValue(node: XmlNode, options: DecodeOptions, depth: number): unknown {
  const { maxDepth } = options;
  if (node.name !== "value") throw new DecodeError(NAME, `expected <value>, got <${node.name}>`);
  if (node.children.length === 0) return node.text;
  const typed = only(node, node.children[0]!.name);
  if (typed.name !== "struct" && typed.name !== "array" && typed.children.length !== 0) {
    throw new DecodeError(NAME, `<${typed.name}> cannot hold elements`);
  }
  const text = typed.text.trim();
  switch (localName(typed.name)) {
    case "string":
      return typed.text;
    case "int":
    case "i4":
    case "i8":
      return decodeInteger(typed.name, text);
    case "boolean":
      if (text === "1") return true;
      if (text === "0") return false;
      throw new DecodeError(NAME, `bad <boolean> ${text}`);
    case "double":
      if (!DOUBLE.test(text)) throw new DecodeError(NAME, `bad <double> ${text}`);
      return options.keepFloats ? new Float(Number(text)) : Number(text);
    case "nil":
      if (text !== "") throw new DecodeError(NAME, "<nil/> must be empty");
      return null;
    case "dateTime.iso8601":
      return decodeDate(text);
    case "base64":
      try {
        return Uint8Array.fromBase64(text.replace(/\s+/g, ""));
      } catch (cause) {
        throw new DecodeError(NAME, "bad <base64>", undefined, { cause });
      }
    case "array": {
      if (depth >= maxDepth) throw new DecodeError(NAME, `values nest deeper than ${maxDepth}`);
      return elements(only(typed, "data")).map((v) => decodeValue(v, options, depth + 1));
    }
    case "struct": {
      if (depth >= maxDepth) throw new DecodeError(NAME, `values nest deeper than ${maxDepth}`);
      const entries: [string, unknown][] = elements(typed).map((member) => {
        const [name, value, extra] = elements(member);
        if (member.name !== "member" || name?.name !== "name" || !value || extra) {
          throw new DecodeError(NAME, "a <member> holds one <name> and one <value>");
        }
        if (name.children.length) throw new DecodeError(NAME, "bad member <name>");
        return [name.text, decodeValue(value, options, depth + 1)];
      });
      // Object.fromEntries defines own properties: "__proto__" never sets the prototype.
      return Object.fromEntries(entries);
    }
    default:
      throw new DecodeError(NAME, `unknown value type <${typed.name}>`);
  }
}

function decodeDate(text: string): Date {
  const m = DATE.exec(text);
  if (m === null) throw new DecodeError(NAME, `bad <dateTime.iso8601> ${text}`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000);
  const offset = m[9] === undefined
    ? 0
    : (m[9] === "-" ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  const date = new Date(0);
  date.setUTCFullYear(year!, month! - 1, day!);
  date.setUTCHours(hour!, minute!, second!, ms);
  if (
    date.getUTCFullYear() !== year || date.getUTCMonth() !== month! - 1 ||
    date.getUTCDate() !== day || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute ||
    date.getUTCSeconds() !== second
  ) {
    throw new DecodeError(NAME, `bad <dateTime.iso8601> ${text}`);
  }
  return new Date(date.getTime() - offset * 60_000);
}
