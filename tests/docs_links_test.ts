import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { checkLinks, repositoryPages } from "../tools/check_links.ts";

const root = fileURLToPath(new URL("../", import.meta.url));

Deno.test("every relative link and anchor in README, ARCHITECTURE, CHANGELOG and docs/ resolves", async () => {
  const files = await repositoryPages(root);
  assert.ok(files.some((file) => file.endsWith("docs/codecs.md")), "docs/ pages are checked");
  assert.deepEqual(await checkLinks(files), []);
});

Deno.test("checkLinks reports a missing page and a missing anchor, and skips code and URLs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/a.md`,
      [
        "# Start",
        "[ok](b.md#the-end) [self](#start) [web](https://deno.com/x.md) `[code](gone.md)`",
        "[gone](gone.md) [bad anchor](b.md#nowhere)",
        "```md",
        "[in a block](gone.md)",
        "```",
      ].join("\n"),
    );
    await Deno.writeTextFile(`${dir}/b.md`, "# The end\n");
    const broken = await checkLinks([`${dir}/a.md`]);
    assert.deepEqual(
      broken.map(({ line, target }) => ({ line, target })),
      [{ line: 3, target: "gone.md" }, { line: 3, target: "b.md#nowhere" }],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the README stays a front page: at most 250 lines", async () => {
  const lines = (await Deno.readTextFile(root + "README.md")).trimEnd().split("\n");
  assert.ok(lines.length <= 250, `README.md has ${lines.length} lines`);
});
