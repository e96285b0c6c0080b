import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

Deno.test("docs/dependencies.md says why for every npm package in deno.json's imports", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))) as {
    imports: Record<string, string>;
  };
  const page = await Deno.readTextFile(new URL("docs/dependencies.md", root));
  // The names a bullet opens with, before its "(npm…)": "- `a` and `b` (npm): why".
  const heads = [...page.matchAll(/^- (.*?)\(npm/gm)].map((match) => match[1] ?? "");
  const named = new Set(heads.flatMap((head) => [...head.matchAll(/`([^`]+)`/g)].map((m) => m[1])));
  const missing = Object.keys(config.imports)
    .map((specifier) => specifier.replace(/\/$/, ""))
    .filter((name) => !named.has(name));
  assert.ok(Object.keys(config.imports).length > 0);
  assert.deepEqual(missing, []);
});
