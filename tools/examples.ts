/**
 * Lists the public functions, classes and constants that lack a runnable
 * `@example`: every entry of deno.json `exports` is read with
 * `deno doc --json`, so a new export is covered without a hand list. An
 * example fenced as `ts ignore` does not count (it is not run by
 * `deno test --doc`). Exits 1 when anything is listed.
 *
 * ```sh
 * deno run --allow-read --allow-run tools/examples.ts
 * ```
 *
 * @module
 */

/** One public symbol without a runnable example. */
export interface MissingExample {
  /** The deno.json export it is reached through, e.g. `./tcp`. */
  readonly entry: string;
  /** Its name. */
  readonly name: string;
  /** What it is: function, class or variable. */
  readonly kind: string;
  /** Whether it has examples, all of them `ignore`d. */
  readonly ignored: boolean;
}

interface DocTag {
  readonly kind: string;
  readonly doc?: string;
}

interface DocDeclaration {
  readonly kind: string;
  readonly jsDoc?: { readonly tags?: readonly DocTag[] };
}

interface DocSymbol {
  readonly name: string;
  readonly declarations: readonly DocDeclaration[];
}

/** The kinds that must carry an example: what a user calls or constructs. */
const RUNNABLE = new Set(["function", "class", "variable"]);

function runnable(tag: DocTag): boolean {
  const fence = tag.doc?.match(/```(\S*)([^\n]*)/);
  return fence !== null && fence !== undefined && !/\bignore\b/.test(fence[2] ?? "");
}

/**
 * The public symbols of every deno.json export that lack a runnable example.
 *
 * @param root the package's directory (holding deno.json)
 * @returns what lacks one, by export
 */
export async function missingExamples(root: string): Promise<MissingExample[]> {
  const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
  const exports = Object.entries(config.exports as Record<string, string>);
  const files = exports.map(([, file]) => file);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", ...files],
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error("deno doc --json failed");
  const { nodes } = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    nodes: Record<string, { symbols?: DocSymbol[] }>;
  };
  const missing: MissingExample[] = [];
  for (const [entry, file] of exports) {
    const url = new URL(file, `file://${root}/`).href;
    for (const symbol of nodes[url]?.symbols ?? []) {
      const declaration = symbol.declarations.find((d) => RUNNABLE.has(d.kind));
      if (declaration === undefined) continue;
      const examples = symbol.declarations
        .flatMap((d) => d.jsDoc?.tags ?? [])
        .filter((tag) => tag.kind === "example");
      if (examples.some(runnable)) continue;
      missing.push({
        entry,
        name: symbol.name,
        kind: declaration.kind,
        ignored: examples.length > 0,
      });
    }
  }
  return missing;
}

if (import.meta.main) {
  const missing = await missingExamples(Deno.cwd());
  for (const m of missing) {
    console.log(
      `${m.entry.padEnd(14)} ${m.kind.padEnd(9)} ${m.name}${m.ignored ? " (ignore)" : ""}`,
    );
  }
  console.log(`${missing.length} public functions, classes and constants lack a runnable example`);
  if (missing.length > 0) Deno.exit(1);
}
