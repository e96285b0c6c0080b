/**
 * Checks the relative links of Markdown files: each must name a file or
 * folder of the repository, and each `#anchor` a heading of its page, so that
 * the docs cannot rot as files move. Public URLs (`https:`, `mailto:` …) are
 * not fetched.
 *
 * ```sh
 * deno run --allow-read tools/check_links.ts            # the repository's pages
 * deno run --allow-read tools/check_links.ts a.md b.md  # these
 * ```
 *
 * It prints one line per broken link and exits 1 when there is any.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A link that does not resolve. */
export interface BrokenLink {
  /** The Markdown file the link is in. */
  readonly file: string;
  /** Its line, from 1. */
  readonly line: number;
  /** The link's target as written. */
  readonly target: string;
  /** What is wrong: the file or the anchor is missing. */
  readonly reason: string;
}

/**
 * The anchors GitHub gives a page's headings: lower case, punctuation
 * dropped, spaces as hyphens, a repeated heading suffixed `-1`, `-2`…
 *
 * @param markdown the page's text
 * @returns the anchors, without `#`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headingAnchors } from "./check_links.ts";
 *
 * const anchors = headingAnchors("# Codecs: JSON-RPC 2.0\n\n## Options\n\n## Options\n");
 * assert.deepEqual([...anchors], ["codecs-json-rpc-20", "options", "options-1"]);
 * ```
 */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!heading?.[1]) continue;
    const slug = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/**
 * Checks every relative link and anchor in the given Markdown files.
 *
 * @param files paths of Markdown files, relative to the working directory or absolute
 * @returns the links that do not resolve, in file and line order
 *
 * @example A link to a page that exists, and one that does not
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkLinks } from "./check_links.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.md`, "# A\n\nSee [b](b.md#top) and [c](c.md).\n");
 * await Deno.writeTextFile(`${dir}/b.md`, "# Top\n");
 * const broken = await checkLinks([`${dir}/a.md`]);
 * assert.deepEqual(broken.map((link) => link.target), ["c.md"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkLinks(files: readonly string[]): Promise<BrokenLink[]> {
  const broken: BrokenLink[] = [];
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = async (path: string) => {
    let found = anchorsOf.get(path);
    if (!found) {
      found = headingAnchors(await Deno.readTextFile(path));
      anchorsOf.set(path, found);
    }
    return found;
  };
  for (const file of files) {
    const path = resolve(file);
    for (const { line, text } of proseLines(await Deno.readTextFile(path))) {
      for (const target of linkTargets(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // a URL: https:, mailto:
        const [name = "", anchor] = target.split("#", 2);
        const linked = name === "" ? path : join(dirname(path), decodeURIComponent(name));
        const stat = await Deno.stat(linked).catch(() => undefined);
        if (!stat) {
          broken.push({ file, line, target, reason: `no such file: ${name}` });
        } else if (anchor !== undefined && !(stat.isFile && (await anchors(linked)).has(anchor))) {
          broken.push({ file, line, target, reason: `no heading for #${anchor}` });
        }
      }
    }
  }
  return broken;
}

/**
 * The repository's Markdown pages: README.md, ARCHITECTURE.md, CHANGELOG.md
 * and every page of docs/.
 *
 * @param root the repository's folder
 * @returns absolute paths, sorted
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileURLToPath } from "node:url";
 * import { repositoryPages } from "./check_links.ts";
 *
 * const pages = await repositoryPages(fileURLToPath(new URL("../", import.meta.url)));
 * assert.ok(pages.some((page) => page.endsWith("/README.md")));
 * ```
 */
export async function repositoryPages(root: string): Promise<string[]> {
  const files = ["README.md", "ARCHITECTURE.md", "CHANGELOG.md"].map((name) => join(root, name));
  for await (const entry of Deno.readDir(join(root, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(join(root, "docs", entry.name));
  }
  return files.sort();
}

/** Lines outside fenced code blocks, with inline code blanked out. */
function* proseLines(markdown: string): Generator<{ line: number; text: string }> {
  let fence: string | undefined;
  for (const [index, raw] of markdown.split("\n").entries()) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    if (fence === undefined) yield { line: index + 1, text: raw.replace(/`[^`]*`/g, "``") };
  }
}

/** Targets of inline links and images, `[text](target "title")`. */
function* linkTargets(text: string): Generator<string> {
  for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    if (match[1]) yield match[1];
  }
}

if (import.meta.main) {
  const files = Deno.args.length > 0
    ? Deno.args
    : await repositoryPages(fileURLToPath(new URL("../", import.meta.url)));
  const broken = await checkLinks(files);
  for (const link of broken) {
    console.log(`${link.file}:${link.line}: ${link.target}: ${link.reason}`);
  }
  if (broken.length > 0) Deno.exit(1);
}
