/**
 * `deno task build:web [--out DIR]`: bundles every browser entry for pages,
 * minified, into `dist/` (or `DIR`): each `web/NAME.ts` (not `_` parts) as
 * `NAME.js`, and `web.ts`, which has everything, as `parley.js`. Prints each
 * bundle's size: raw (bundled, not minified), minified, and minified then
 * gzipped, which is what a page downloads.
 *
 * The entries are read from the folder, so a new `web/NAME.ts` is built,
 * checked (`deno task check:browser`) and listed without another edit.
 *
 * @module
 */

import { basename, join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = new URL("../", import.meta.url).pathname;

/** One bundle to build: its entry module and the file it becomes. */
export interface WebEntry {
  /** The bundle's name, its file without `.js`: `json_rpc_http`, `parley`. */
  readonly name: string;
  /** The entry module, relative to the repository: `web/json_rpc_http.ts`. */
  readonly entry: string;
}

/**
 * Every browser entry: each module of `web/` whose name does not start with
 * `_` (those are the parts the entries share), and `web.ts` as `parley`.
 *
 * @returns the entries, `parley` first, the others by name
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { webEntries } from "./build_web.ts";
 *
 * const entries = await webEntries();
 * assert.deepEqual(entries[0], { name: "parley", entry: "web.ts" });
 * assert.ok(entries.some((e) => e.entry === "web/json_rpc_http.ts"));
 * assert.ok(entries.every((e) => !e.name.startsWith("_")));
 * ```
 */
export async function webEntries(): Promise<WebEntry[]> {
  const entries: WebEntry[] = [];
  for await (const file of Deno.readDir(join(ROOT, "web"))) {
    if (!file.isFile || !file.name.endsWith(".ts") || file.name.startsWith("_")) continue;
    entries.push({ name: basename(file.name, ".ts"), entry: `web/${file.name}` });
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  return [{ name: "parley", entry: "web.ts" }, ...entries];
}

/**
 * Bundles one entry for browsers with `deno bundle`.
 *
 * @param entry the entry module, relative to the repository
 * @param out where the bundle goes
 * @param minify whether to minify it
 * @throws {Error} with the bundler's output, when it fails
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bundleEntry } from "./build_web.ts";
 *
 * const out = await Deno.makeTempFile({ suffix: ".js" });
 * await bundleEntry("web/json_rpc_http.ts", out, true);
 * assert.match(await Deno.readTextFile(out), /application\/json/);
 * await Deno.remove(out);
 * ```
 */
export async function bundleEntry(entry: string, out: string, minify: boolean): Promise<void> {
  const args = ["bundle", "--platform", "browser", ...(minify ? ["--minify"] : []), "-o", out];
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...args, entry],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`deno bundle ${entry} failed:\n${new TextDecoder().decode(stderr)}`);
  }
}

/**
 * The size of `bytes` once gzipped (`CompressionStream`, as a server
 * compressing on the fly would send it).
 *
 * @param bytes what is sent
 * @returns its gzipped size in bytes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gzippedSize } from "./build_web.ts";
 *
 * const text = new TextEncoder().encode("parley ".repeat(1000));
 * assert.ok(await gzippedSize(text) < 100);
 * ```
 */
export async function gzippedSize(bytes: Uint8Array): Promise<number> {
  const gzipped = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return (await new Response(gzipped).bytes()).length;
}

/** The sizes of one built bundle, in bytes. */
export interface BundleSizes {
  /** The bundle's name. */
  readonly name: string;
  /** Bundled, not minified. */
  readonly raw: number;
  /** Minified: the file written. */
  readonly minified: number;
  /** Minified, then gzipped. */
  readonly gzipped: number;
}

/**
 * Builds one entry minified into `dir` as `NAME.js` and measures it (a raw
 * build goes to a temporary file, for its size only).
 *
 * @param entry the entry
 * @param dir the output folder (created if needed)
 * @returns its sizes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEntry } from "./build_web.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const sizes = await buildEntry({ name: "json_rpc_http", entry: "web/json_rpc_http.ts" }, dir);
 * assert.ok(sizes.gzipped < sizes.minified && sizes.minified < sizes.raw);
 * assert.equal((await Deno.stat(`${dir}/json_rpc_http.js`)).size, sizes.minified);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function buildEntry(entry: WebEntry, dir: string): Promise<BundleSizes> {
  await Deno.mkdir(dir, { recursive: true });
  const out = join(dir, `${entry.name}.js`);
  const rawFile = await Deno.makeTempFile({ prefix: `parley-${entry.name}-`, suffix: ".js" });
  try {
    await bundleEntry(entry.entry, rawFile, false);
    await bundleEntry(entry.entry, out, true);
    const minified = await Deno.readFile(out);
    return {
      name: entry.name,
      raw: (await Deno.stat(rawFile)).size,
      minified: minified.length,
      gzipped: await gzippedSize(minified),
    };
  } finally {
    await Deno.remove(rawFile);
  }
}

/**
 * The sizes as a table, in KB (1 KB = 1,000 bytes, as the bundler prints).
 *
 * @param sizes one row per bundle
 * @returns the table's lines, joined
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sizeTable } from "./build_web.ts";
 *
 * const table = sizeTable([{ name: "x", raw: 20_000, minified: 9_000, gzipped: 3_456 }]);
 * assert.match(table, /x\.js\s+20\.0 KB\s+9\.0 KB\s+3\.5 KB/);
 * ```
 */
export function sizeTable(sizes: readonly BundleSizes[]): string {
  const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`.padStart(10);
  const width = Math.max(...sizes.map((s) => s.name.length + 3), 6);
  return [
    `${"bundle".padEnd(width)}${"raw".padStart(10)}${"minified".padStart(10)}${
      "gzipped".padStart(10)
    }`,
    ...sizes.map((s) =>
      `${`${s.name}.js`.padEnd(width)}${kb(s.raw)}${kb(s.minified)}${kb(s.gzipped)}`
    ),
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: join(ROOT, "dist") } },
  });
  const sizes: BundleSizes[] = [];
  // One at a time: the bundler is CPU-bound, and the machine is shared.
  for (const entry of await webEntries()) sizes.push(await buildEntry(entry, values.out));
  console.log(sizeTable(sizes));
}
