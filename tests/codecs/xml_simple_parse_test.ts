import assert from "node:assert/strict";
import fc from "fast-check";
import { xmlRpc } from "../../codecs/xml_rpc.ts";
import { parseWithSaxes } from "../../codecs/xml_rpc/_decode.ts";
import { parseSimpleXml } from "../../codecs/xml_rpc/_simple_parse.ts";
import { valueArbitrary } from "./conformance.ts";

// What saxes makes of a document: its tree, or the error's class and message.
function bySaxes(text: string, depth: number, items: number): unknown {
  try {
    return parseWithSaxes(text, depth, items);
  } catch (error) {
    return { failed: (error as Error).name, message: (error as Error).message };
  }
}

// The fast parser either declines or builds exactly saxes' tree.
function agrees(text: string, depth = 64, items = 1000): void {
  const simple = parseSimpleXml(text, depth, items);
  if (simple !== undefined) assert.deepEqual(simple, bySaxes(text, depth, items), text);
}

Deno.test("parseSimpleXml builds saxes' tree for every encoded XML-RPC message", () => {
  const codec = xmlRpc();
  fc.assert(
    fc.property(fc.array(valueArbitrary(), { maxLength: 4 }), (params) => {
      let call: string, reply: string;
      try {
        call = codec.encode({ kind: "request", id: 1, method: "m", params }) as string;
        reply = codec.encode({ kind: "result", id: 1, result: params }) as string;
      } catch {
        return; // A value XML-RPC cannot carry: nothing to parse.
      }
      agrees(call);
      agrees(reply);
    }),
    { numRuns: 300 },
  );
});

Deno.test("parseSimpleXml declines or agrees with saxes on tag soup, malformed documents included", () => {
  const piece = fc.constantFrom(
    "<a>",
    "</a>",
    "<b>",
    "</b>",
    "<c/>",
    "<a />",
    " ",
    "\n",
    "x",
    "&amp;",
    "&bogus;",
    "]]>",
    "<!-- c -->",
    "<![CDATA[z]]>",
    '<?xml version="1.0"?>',
    "<?pi x?>",
    "<",
    ">",
    "\r",
    "\u0001",
    "é",
    "<1a>",
    '<a x="1">',
  );
  fc.assert(
    fc.property(
      fc.array(piece, { maxLength: 12 }),
      fc.integer({ min: 1, max: 4 }),
      (parts, limit) => {
        const text = parts.join("");
        agrees(text);
        agrees(text, limit, limit);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("parseSimpleXml leaves limits and malformed input to saxes", () => {
  assert.equal(parseSimpleXml("<a><b><c/></b></a>", 2, 100), undefined);
  assert.equal(parseSimpleXml("<a><b/><c/></a>", 10, 2), undefined);
  assert.equal(parseSimpleXml("<a></b>", 10, 10), undefined);
  assert.equal(parseSimpleXml("<a/><b/>", 10, 10), undefined);
  assert.equal(parseSimpleXml("text<a/>", 10, 10), undefined);
  assert.equal(parseSimpleXml("<a>", 10, 10), undefined);
  assert.equal(parseSimpleXml("", 10, 10), undefined);
  assert.deepEqual(parseSimpleXml(" <a> x <b/></a>\n", 10, 10), {
    name: "a",
    children: [{ name: "b", children: [], text: "" }],
    text: " x ",
  });
});
