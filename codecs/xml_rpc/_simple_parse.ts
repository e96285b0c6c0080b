/**
 * A fast parser for the documents XML-RPC peers send nearly always: an
 * optional XML declaration, elements without attributes, and text with no
 * entity, comment, CDATA, `\r` or character outside printable ASCII. It
 * builds the same tree as the saxes parser in `_decode.ts` in about a tenth
 * of the time (saxes was the largest cost of an XML-RPC call over HTTP after
 * the socket itself). Anything else, and any limit reached, is not decided
 * here: it answers `undefined` and the document goes to saxes, whose errors
 * and checks stay the only ones.
 *
 * @module
 */

import type { XmlNode } from "./_shared.ts";

// An element name of the ASCII kind (XML names may be wider: saxes decides those).
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// Text with no markup or entity (no `&`, `<`), no `\r`, no control character.
const PLAIN = /^[\t\n\x20-\x25\x27-\x3b\x3d-\x7e]*$/;
const DECLARATION =
  /^<\?xml version=(["'])1\.0\1(?: encoding=(["'])[A-Za-z][A-Za-z0-9._-]*\2)?\s*\?>$/;

/**
 * The tree of a document of the simple kind; `undefined` for any other
 * document (malformed ones included) or one past a limit.
 *
 * @param text the document
 * @param maxElementDepth deepest nesting of elements
 * @param maxElements most elements
 * @returns the root node, or `undefined` when saxes is to decide
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSimpleXml } from "./_simple_parse.ts";
 *
 * const root = parseSimpleXml('<?xml version="1.0"?><methodCall><methodName>add</methodName></methodCall>', 10, 10);
 * assert.equal(root?.children[0]?.text, "add");
 * // An entity, or a comment: saxes decides.
 * assert.equal(parseSimpleXml("<a>&amp;</a>", 10, 10), undefined);
 * assert.equal(parseSimpleXml("<a><!-- x --></a>", 10, 10), undefined);
 * ```
 */
export function parseSimpleXml(
  text: string,
  maxElementDepth: number,
  maxElements: number,
): XmlNode | undefined {
  let at = 0;
  if (text.startsWith("<?")) {
    const end = text.indexOf("?>");
    if (end === -1 || !DECLARATION.test(text.slice(0, end + 2))) return undefined;
    at = end + 2;
  }
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  let elements = 0;
  while (at < text.length) {
    const open = text.indexOf("<", at);
    const end = open === -1 ? text.length : open;
    if (end > at) {
      const data = text.slice(at, end);
      if (!PLAIN.test(data) || data.includes("]]>")) return undefined;
      const node = stack[stack.length - 1];
      if (node !== undefined) node.text += data;
      else if (data.trim() !== "") return undefined;
    }
    if (open === -1) break;
    const close = text.indexOf(">", open);
    if (close === -1) return undefined;
    let tag = text.slice(open + 1, close);
    if (tag.charCodeAt(0) === 0x2f) {
      // "/name": it must close the element open last.
      if (stack.pop()?.name !== tag.slice(1)) return undefined;
    } else {
      const empty = tag.charCodeAt(tag.length - 1) === 0x2f;
      if (empty) tag = tag.slice(0, -1);
      if (!NAME.test(tag)) return undefined;
      if (stack.length >= maxElementDepth || ++elements > maxElements) return undefined;
      const node: XmlNode = { name: tag, children: [], text: "" };
      const parent = stack[stack.length - 1];
      if (parent !== undefined) parent.children.push(node);
      else if (root === undefined) root = node;
      else return undefined;
      if (!empty) stack.push(node);
    }
    at = close + 1;
  }
  return stack.length === 0 ? root : undefined;
}
