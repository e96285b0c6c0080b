/**
 * HPACK (protocols/http2/hpack.ts) against RFC 7541 Appendix C: every
 * example block decodes to the RFC's fields and table size, and the
 * encoder, told the representation and Huffman choice the RFC made, writes
 * the RFC's bytes; then what the RFC calls errors, and fast-check's random
 * bytes, which must only ever fail as an HpackError.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  HpackDecoder,
  HpackEncoder,
  type HpackEncoderOptions,
  HpackError,
  type HpackIndexing,
} from "../protocols/http2/hpack.ts";
import { huffmanDecode, huffmanEncode, huffmanLength } from "../protocols/http2/_huffman.ts";

const hex = (text: string) =>
  new Uint8Array(text.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (bytes: Uint8Array) =>
  [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

interface Example {
  readonly name: string;
  readonly block: string;
  readonly fields: string[];
  readonly tableSize: number;
  readonly indexing?: HpackIndexing;
}

/** Decodes each block in order on one decoder, encodes each on one encoder, both as the RFC says. */
function checkSequence(
  examples: readonly Example[],
  options: { tableSize?: number; huffman: "always" | "never" },
): void {
  const decoder = new HpackDecoder({ maxTableSize: options.tableSize ?? 4096 });
  for (const example of examples) {
    assert.deepEqual(decoder.decode(hex(example.block)), example.fields, example.name);
    assert.equal(decoder.tableSize, example.tableSize, example.name);
  }
  const encoderOptions: HpackEncoderOptions = {
    maxTableSize: options.tableSize ?? 4096,
    huffman: options.huffman,
  };
  let indexing: HpackIndexing = "incremental";
  const encoder = new HpackEncoder({ ...encoderOptions, indexing: () => indexing });
  for (const example of examples) {
    indexing = example.indexing ?? "incremental";
    assert.equal(
      toHex(encoder.encode(example.fields)),
      example.block.replace(/\s+/g, ""),
      example.name,
    );
  }
}

Deno.test("HPACK RFC 7541 C.2: each representation of a single field", () => {
  for (
    const example of [
      {
        name: "C.2.1 literal with indexing",
        block: "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        fields: ["custom-key", "custom-header"],
        tableSize: 55,
      },
      {
        name: "C.2.2 literal without indexing",
        block: "040c 2f73 616d 706c 652f 7061 7468",
        fields: [":path", "/sample/path"],
        tableSize: 0,
        indexing: "without" as const,
      },
      {
        name: "C.2.3 literal never indexed",
        block: "1008 7061 7373 776f 7264 0673 6563 7265 74",
        fields: ["password", "secret"],
        tableSize: 0,
        indexing: "never" as const,
      },
      { name: "C.2.4 indexed", block: "82", fields: [":method", "GET"], tableSize: 0 },
    ]
  ) {
    checkSequence([example], { huffman: "never" });
  }
});

const REQUESTS = [
  [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com"],
  [
    ":method",
    "GET",
    ":scheme",
    "http",
    ":path",
    "/",
    ":authority",
    "www.example.com",
    "cache-control",
    "no-cache",
  ],
  [
    ":method",
    "GET",
    ":scheme",
    "https",
    ":path",
    "/index.html",
    ":authority",
    "www.example.com",
    "custom-key",
    "custom-value",
  ],
];

Deno.test("HPACK RFC 7541 C.3: three requests without Huffman coding", () => {
  checkSequence([
    {
      name: "C.3.1",
      block: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      fields: REQUESTS[0]!,
      tableSize: 57,
    },
    {
      name: "C.3.2",
      block: "8286 84be 5808 6e6f 2d63 6163 6865",
      fields: REQUESTS[1]!,
      tableSize: 110,
    },
    {
      name: "C.3.3",
      block: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
      fields: REQUESTS[2]!,
      tableSize: 164,
    },
  ], { huffman: "never" });
});

Deno.test("HPACK RFC 7541 C.4: three requests with Huffman coding", () => {
  checkSequence([
    {
      name: "C.4.1",
      block: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
      fields: REQUESTS[0]!,
      tableSize: 57,
    },
    { name: "C.4.2", block: "8286 84be 5886 a8eb 1064 9cbf", fields: REQUESTS[1]!, tableSize: 110 },
    {
      name: "C.4.3",
      block: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
      fields: REQUESTS[2]!,
      tableSize: 164,
    },
  ], { huffman: "always" });
});

const RESPONSES = [
  [
    ":status",
    "302",
    "cache-control",
    "private",
    "date",
    "Mon, 21 Oct 2013 20:13:21 GMT",
    "location",
    "https://www.example.com",
  ],
  [
    ":status",
    "307",
    "cache-control",
    "private",
    "date",
    "Mon, 21 Oct 2013 20:13:21 GMT",
    "location",
    "https://www.example.com",
  ],
  [
    ":status",
    "200",
    "cache-control",
    "private",
    "date",
    "Mon, 21 Oct 2013 20:13:22 GMT",
    "location",
    "https://www.example.com",
    "content-encoding",
    "gzip",
    "set-cookie",
    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
  ],
];

Deno.test("HPACK RFC 7541 C.5: three responses without Huffman coding, a 256-octet table with evictions", () => {
  checkSequence([
    {
      name: "C.5.1",
      block: `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
        2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
        6c65 2e63 6f6d`,
      fields: RESPONSES[0]!,
      tableSize: 222,
    },
    { name: "C.5.2", block: "4803 3330 37c1 c0bf", fields: RESPONSES[1]!, tableSize: 222 },
    {
      name: "C.5.3",
      block: `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
        54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
        5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
        3d31`,
      fields: RESPONSES[2]!,
      tableSize: 215,
    },
  ], { tableSize: 256, huffman: "never" });
});

Deno.test("HPACK RFC 7541 C.6: three responses with Huffman coding, a 256-octet table with evictions", () => {
  checkSequence([
    {
      name: "C.6.1",
      block: `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
        2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
      fields: RESPONSES[0]!,
      tableSize: 222,
    },
    { name: "C.6.2", block: "4883 640e ffc1 c0bf", fields: RESPONSES[1]!, tableSize: 222 },
    {
      name: "C.6.3",
      block: `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
        77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
        9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
      fields: RESPONSES[2]!,
      tableSize: 215,
    },
  ], { tableSize: 256, huffman: "always" });
});

Deno.test("HPACK decoder refuses what RFC 7541 calls errors, each with an HpackError", () => {
  const cases: [string, string][] = [
    ["index 0", "80"],
    ["an index past both tables", "be"],
    ["a literal whose name index is past the tables", "7e 01 61"],
    ["a table size update over the limit (4097)", "3f e2 1f"],
    ["a table size update after a field", "82 20"],
    ["an integer cut short", "ff"],
    ["an integer too long", "ff ff ff ff ff ff ff 01"],
    ["a string longer than the block", "40 05 61 62"],
    ["a string missing", "40"],
    ["Huffman coding holding EOS", "40 81 61 84 ff ff ff ff"],
    ["Huffman padding of 8 bits or more", "40 81 61 82 1f ff"],
    ["Huffman padding that is not ones", "40 81 61 81 00"],
  ];
  for (const [what, block] of cases) {
    assert.throws(() => new HpackDecoder().decode(hex(block)), HpackError, what);
  }
});

Deno.test("HPACK decoder bounds the header list but keeps its table in step", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder({ maxHeaderListSize: 100 });
  const big = encoder.encode(["x-a", "a".repeat(40), "x-b", "b".repeat(40)]).slice();
  assert.deepEqual(decoder.decode(big), ["x-a", "a".repeat(40)]);
  assert.equal(decoder.exceeded, true);
  // Both fields went into the table: the next block refers to them by index.
  const again = encoder.encode(["x-b", "b".repeat(40)]).slice();
  assert.equal(again.length, 1);
  assert.deepEqual(decoder.decode(again), ["x-b", "b".repeat(40)]);
  assert.equal(decoder.exceeded, false);
});

Deno.test("HPACK encoder sends a table size update when the peer's limit changes, and evicts", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decoder.decode(encoder.encode(["x-one", "1"]).slice());
  encoder.setPeerLimit(0);
  encoder.setPeerLimit(100);
  const block = encoder.encode(["x-one", "1"]).slice();
  // 0x20: size 0 (the smallest), then 0x3f 0x45: size 100, then the field as a literal again.
  assert.deepEqual([...block.subarray(0, 3)], [0x20, 0x3f, 0x45]);
  assert.deepEqual(decoder.decode(block), ["x-one", "1"]);
});

Deno.test("Huffman coding round-trips every octet value (fast-check)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const text = String.fromCharCode(...bytes);
      const out = new Uint8Array(huffmanLength(text));
      const end = huffmanEncode(text, out, 0);
      assert.equal(end, out.length);
      assert.equal(huffmanDecode(out, 0, end), text);
    }),
    { numRuns: 500 },
  );
});

Deno.test("HPACK round trip of random header lists on one encoder and decoder (fast-check)", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
  const value = fc.string({ unit: "binary-ascii", maxLength: 60 });
  fc.assert(
    fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), (pairs) => {
      const fields = pairs.flat();
      assert.deepEqual(decoder.decode(encoder.encode(fields).slice()), fields);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("HPACK decoder: random bytes only ever fail as an HpackError (fast-check)", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (blocks) => {
      const decoder = new HpackDecoder({ maxHeaderListSize: 4096 });
      for (const block of blocks) {
        try {
          const fields = decoder.decode(block);
          assert.equal(fields.length % 2, 0);
        } catch (error) {
          if (!(error instanceof HpackError)) throw error;
          return; // a decoder that failed is done: the connection ends
        }
      }
    }),
    { numRuns: 5000 },
  );
});
