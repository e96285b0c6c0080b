/**
 * `deno run --allow-read --allow-run tools/layers.ts`: checks that imports
 * go one way, downwards, as ARCHITECTURE.md draws the layers, and that the
 * only imports against the rule are the exceptions it lists (the same
 * table is here, each with its reason). Prints every other import that goes
 * against the rule, and every listed exception no import uses any more (so
 * the list cannot go stale); exits 1 when there is one.
 *
 * @module
 */

import { importGraph, pathOf } from "./_graph.ts";

/** A layer: which modules it holds and which layers they may import. */
interface Layer {
  readonly name: string;
  readonly holds: (path: string) => boolean;
  /** What its modules may import, besides their own layer. */
  readonly mayImport: readonly string[];
}

const CONTRACTS = new Set([
  "rpc/types.ts",
  "rpc/call_types.ts",
  "rpc/errors.ts",
  "rpc/limits.ts",
  "rpc/float.ts",
  "rpc/frame_text.ts",
]);

const under = (prefix: string) => (path: string) => path.startsWith(prefix);

// From the bottom up; a module belongs to the first layer that holds it.
const LAYERS: readonly Layer[] = [
  { name: "contracts", holds: (p) => CONTRACTS.has(p), mayImport: [] },
  { name: "framing", holds: under("rpc/framing/"), mayImport: ["contracts"] },
  { name: "codecs", holds: under("codecs/"), mayImport: ["contracts"] },
  {
    name: "core",
    holds: (p) => /^rpc\/[^/]+\.ts$/.test(p) || p.startsWith("rpc/peer/"),
    mayImport: ["contracts", "framing"],
  },
  { name: "objects", holds: under("rpc/objects/"), mayImport: ["contracts", "framing", "core"] },
  // OpenTelemetry interceptors: the core's interceptor shape, and @opentelemetry/api.
  { name: "otel", holds: under("rpc/otel/"), mayImport: ["contracts", "core"] },
  {
    name: "protocols",
    holds: under("protocols/"),
    mayImport: ["contracts", "framing", "codecs", "core"],
  },
  {
    name: "transports",
    holds: under("rpc/transports/"),
    mayImport: ["contracts", "framing", "codecs", "core", "objects", "protocols"],
  },
  {
    name: "top",
    holds: (p) => /^(mod\.ts|web\.ts|web\/|cli\/|testing\/)/.test(p),
    mayImport: [
      "contracts",
      "framing",
      "codecs",
      "core",
      "objects",
      "otel",
      "transports",
      "protocols",
    ],
  },
];

/** Imports against the rule, each with why (ARCHITECTURE.md, "Exceptions"). */
const EXCEPTIONS: Readonly<Record<string, string>> = {
  "codecs/protobuf/service.ts → rpc/service.ts": "withContext handlers under wire names",
  "codecs/thrift/service.ts → rpc/service.ts": "withContext handlers under wire names",
  "codecs/thrift/service.ts → rpc/dispatch.ts": "multiplexed Service:method names",
  "rpc/framing/mod.ts → rpc/framed.ts": "./framing exports framedStream",
  "protocols/connect/_compress.ts → rpc/transports/http/_body.ts": "Web-standard body helpers",
  "protocols/connect/client.ts → rpc/transports/http/_no_reply.ts": "a fetch without reply",
};

/** Codecs may import their own folder, and the registry every codec. */
function withinCodecs(from: string, to: string): boolean {
  if (from === "codecs/registry.ts") return true;
  const codec = (path: string) => path.split("/")[1]!.replace(/\.ts$/, "");
  return codec(from) === codec(to);
}

function layerOf(path: string): Layer | undefined {
  return LAYERS.find((layer) => layer.holds(path));
}

const graph = await importGraph();
const wrong: string[] = [];
const used = new Set<string>();
for (const [fromSpecifier, targets] of graph) {
  const from = pathOf(fromSpecifier);
  const fromLayer = layerOf(from);
  if (fromLayer === undefined) continue; // tests, examples, tools: above everything
  for (const toSpecifier of targets) {
    const to = pathOf(toSpecifier);
    const toLayer = layerOf(to);
    const edge = `${from} → ${to}`;
    let allowed = toLayer === undefined
      ? false
      : toLayer === fromLayer
      ? fromLayer.name !== "codecs" || withinCodecs(from, to)
      : fromLayer.mayImport.includes(toLayer.name);
    if (!allowed && Object.hasOwn(EXCEPTIONS, edge)) {
      used.add(edge);
      allowed = true;
    }
    if (!allowed) wrong.push(`${edge} (${fromLayer.name} → ${toLayer?.name ?? "outside"})`);
  }
}
const stale = Object.keys(EXCEPTIONS).filter((edge) => !used.has(edge));
for (const edge of wrong) console.log(`against the rule: ${edge}`);
for (const edge of stale) console.log(`listed as an exception, but no longer imported: ${edge}`);
if (wrong.length > 0 || stale.length > 0) Deno.exit(1);
console.log(`Imports go downwards among ${graph.size} modules (${used.size} listed exceptions).`);
