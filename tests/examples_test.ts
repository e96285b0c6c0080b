import assert from "node:assert/strict";
import { missingExamples } from "../tools/examples.ts";

Deno.test("every public function, class and constant of every deno.json export has a runnable example", async () => {
  const missing = await missingExamples(new URL("..", import.meta.url).pathname.replace(/\/$/, ""));
  assert.deepEqual(
    missing.map((m) => `${m.entry} ${m.name}${m.ignored ? " (ignore)" : ""}`),
    [],
  );
});
