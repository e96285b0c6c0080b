/**
 * The house drawn from its imports: every local module reached (code and
 * type imports alike) from each export of `deno.json`, `web.ts` and any
 * extra entry, as `deno info --json` sees them; npm and remote modules are
 * left out. Shared by `import_cycles.ts` and `layers.ts`.
 *
 * @module
 */

import { relative, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

interface Dependency {
  readonly code?: { readonly specifier: string };
  readonly type?: { readonly specifier: string };
}
interface Module {
  readonly specifier: string;
  readonly dependencies?: readonly Dependency[];
}

/** The repository's root directory. */
export const root: string = resolve(fromFileUrl(new URL("..", import.meta.url)));

/**
 * A module's path relative to the root, as the rules name it.
 *
 * @param specifier a `file://` specifier
 * @returns e.g. `rpc/peer.ts`
 */
export function pathOf(specifier: string): string {
  return relative(root, fromFileUrl(specifier));
}

/**
 * Local module → the local modules it imports, by `file://` specifier.
 *
 * @param extra more entries, relative to the root
 * @returns the graph
 */
export async function importGraph(
  extra: readonly string[] = [],
): Promise<Map<string, Set<string>>> {
  const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
  const entries = [
    ...Object.values(config.exports as Record<string, string>),
    "./web.ts",
    ...extra,
  ].map((path) => resolve(root, path));
  const graph = new Map<string, Set<string>>();
  const local = (specifier: string) => specifier.startsWith("file://");
  for (const entry of new Set(entries)) {
    const info = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: root,
      stderr: "inherit",
    }).output();
    if (!info.success) throw new Error(`deno info ${entry} failed`);
    const { modules } = JSON.parse(new TextDecoder().decode(info.stdout)) as { modules: Module[] };
    for (const module of modules.filter((m) => local(m.specifier))) {
      const edges = graph.get(module.specifier) ?? new Set<string>();
      for (const dependency of module.dependencies ?? []) {
        for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
          if (target !== undefined && local(target)) edges.add(target);
        }
      }
      graph.set(module.specifier, edges);
    }
  }
  return graph;
}
