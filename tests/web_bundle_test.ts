/**
 * The browser bundles' budgets: what a page downloads (minified, then
 * gzipped) for the smallest useful clients and for remote objects, and
 * which npm packages each bundle carries. Sizes, not timings: the same
 * sources give the same bytes on every machine.
 *
 * @module
 */

import assert from "node:assert/strict";
import { buildEntry, bundleEntry, webEntries } from "../tools/build_web.ts";

const KB = 1000;

// The budgets of issue 17, in the bundler's kilobytes. The WebSocket client's
// grew from 12 KB with issue 19: every Peer now runs interceptors (batch
// entries and streams through the chain, idle ones skipped), carries call
// metadata (JSON-RPC's "meta" member) and a connection scope; 11.98 → 13.3 KB.
// Issue 21 added the batched paths (whole reads of frames to the peer, a
// read's replies in one write, the codec's short paths): 13.3 → 14.0 KB.
// Its WebSocket batches (messages a read at a time, views of binary
// messages) and, to pay for them, Deno's certificate diagnosis kept out of
// the browser's WebSocket client (web/_websocket.ts): 14.0 → 13.5 KB.
// The smallest client, JSON-RPC over HTTP, stays under 12 KB (issue 17's goal).
// Issue 21's third pass put a peer's pending calls in a ring, read frames
// on promise chains and fixed WebSocket close codes (objects 19.9 → 20.3
// KB); the browser's JSON-RPC codec leaves out the server's compact reader
// (web/_json_rpc.ts), and objects.js the msgpack extension for references
// its JSON-RPC never uses: 20.0 KB, and the WebSocket client 14.4 KB.
const BUDGETS: Readonly<Record<string, number>> = {
  json_rpc_websocket: 14.5 * KB,
  json_rpc_http: 12 * KB,
  objects: 20 * KB,
};

// The npm packages a bundle carries, read from the path comments of an
// unminified build (`// ../…/registry.npmjs.org/saxes/6.0.0/…`).
async function npmPackagesOf(entry: string): Promise<Set<string>> {
  const out = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await bundleEntry(entry, out, false);
    const text = await Deno.readTextFile(out);
    return new Set(
      text.matchAll(/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//g).map((m) => m[1]!),
    );
  } finally {
    await Deno.remove(out);
  }
}

Deno.test("web bundles: the smallest clients and remote objects fit their gzipped budgets", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-web-budget-" });
  try {
    for (const [name, budget] of Object.entries(BUDGETS)) {
      const sizes = await buildEntry({ name, entry: `web/${name}.ts` }, dir);
      assert.ok(
        sizes.gzipped <= budget,
        `${name}.js is ${sizes.gzipped} bytes gzipped, over its budget of ${budget}`,
      );
      assert.ok(sizes.gzipped < sizes.minified && sizes.minified < sizes.raw);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("web bundles: JSON-RPC and remote objects carry no npm package; zod is in none", async () => {
  for (const name of Object.keys(BUDGETS)) {
    assert.deepEqual([...await npmPackagesOf(`web/${name}.ts`)], [], name);
  }
  // The codecs' bundles carry their own library and nothing else's.
  assert.deepEqual([...await npmPackagesOf("web/xml_rpc.ts")].sort(), ["saxes", "xmlchars"]);
  assert.deepEqual([...await npmPackagesOf("web/msgpack_rpc.ts")], ["msgpackr"]);
  assert.deepEqual([...await npmPackagesOf("web/protobuf.ts")].sort(), ["long", "protobufjs"]);
  // Everything: the codecs' libraries, but no zod (OpenRPC asks the schemas).
  const everything = await npmPackagesOf("web.ts");
  assert.ok(everything.has("protobufjs") && everything.has("msgpackr"));
  assert.ok(!everything.has("zod"), [...everything].join(", "));
});

Deno.test("web bundles: every entry of web/ is listed, each named after its module", async () => {
  const entries = await webEntries();
  const names = entries.map((e) => e.name);
  for (const name of [...Object.keys(BUDGETS), "parley", "json_rpc", "xml_rpc", "protobuf"]) {
    assert.ok(names.includes(name), name);
  }
  for (const { name, entry } of entries) {
    assert.equal(entry, name === "parley" ? "web.ts" : `web/${name}.ts`);
  }
});
