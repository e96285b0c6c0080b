/**
 * `deno task doc:lint`: `deno doc --lint` over every module deno.json
 * exports, read from its `exports`, so that a new export is linted the day
 * it is added. The modules are linted in one run: a type one export uses and
 * another exports counts as public, as it does for the published package.
 *
 * @example The modules linted
 * ```ts
 * import { exportedModules } from "./doc_lint.ts";
 * const modules = await exportedModules(new URL("../deno.json", import.meta.url));
 * console.assert(modules.includes("./mod.ts"));
 * ```
 *
 * @module
 */

/**
 * The modules a deno.json exports, in its order, without repeats.
 *
 * @param config the deno.json's URL
 * @returns their paths, relative to the deno.json's folder
 */
export async function exportedModules(config: URL): Promise<string[]> {
  const { exports } = JSON.parse(await Deno.readTextFile(config)) as {
    exports?: string | Record<string, string>;
  };
  if (exports === undefined) return [];
  return [...new Set(typeof exports === "string" ? [exports] : Object.values(exports))];
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  const modules = await exportedModules(new URL("deno.json", root));
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...modules],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(code);
}
