import assert from "node:assert/strict";
import { DOC_EXAMPLES_NEED, needs, onPath, present } from "./_needs.ts";

const NEEDS = new URL("./_needs.ts", import.meta.url).href;

/** Runs `code` in a fresh Deno with `env`, for environment-dependent answers. */
async function evalWith(code: string, env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { needs } from "${NEEDS}"; ${code}`],
    env: { ...env, NO_COLOR: "1" },
    clearEnv: false,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("onPath finds sh and not a made-up program", () => {
  assert.equal(onPath("sh"), true);
  assert.equal(onPath("parley-no-such-program-7f3a"), false);
});

Deno.test("needs agrees with present for every peer it is given", () => {
  for (const peer of ["python3", "nvim", "py:msgpack"] as const) {
    const pretended = (Deno.env.get("PARLEY_PRETEND_MISSING") ?? "").split(",").includes(peer);
    if (Deno.env.get("PARLEY_REQUIRE_PEERS") === "1") assert.equal(needs(peer), false);
    else assert.equal(needs(peer), pretended || !present(peer));
  }
});

Deno.test("a peer pretended missing is ignored and reported once", async () => {
  const r = await evalWith(
    `console.log(needs("nvim"), needs("nvim", "python3"), needs("chromium") || needs("nvim"));`,
    { PARLEY_PRETEND_MISSING: "nvim", PARLEY_REQUIRE_PEERS: "" },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^true true true\n$/);
  const lines = r.stderr.split("\n").filter((l) => l.startsWith("ignored:"));
  assert.ok(
    lines.includes("ignored: tests needing nvim (Debian package neovim: apt-get install neovim)"),
    r.stderr,
  );
  assert.equal(lines.filter((l) => l.includes("needing nvim")).length, 1);
});

Deno.test("PARLEY_REQUIRE_PEERS=1 ignores nothing, even a missing peer", async () => {
  const r = await evalWith(`console.log(needs("nvim"));`, {
    PARLEY_PRETEND_MISSING: "nvim",
    PARLEY_REQUIRE_PEERS: "1",
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "false\n");
  assert.doesNotMatch(r.stderr, /ignored:/);
});

Deno.test("testNeeding ignores every test of a file whose peer is missing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-needs-" });
  try {
    const file = `${dir}/peer_test.ts`;
    await Deno.writeTextFile(
      file,
      `import { testNeeding } from "${NEEDS}";
const test = testNeeding("nvim");
test("a", () => { throw new Error("ran a"); });
test({ name: "b", fn() { throw new Error("ran b"); } });
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--allow-all", "--no-check", file],
      env: { PARLEY_PRETEND_MISSING: "nvim", PARLEY_REQUIRE_PEERS: "", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    const stdout = text.decode(out.stdout);
    assert.equal(out.code, 0, stdout + text.decode(out.stderr));
    assert.match(stdout, /ok \| 0 passed \| 0 failed \| 2 ignored/);
    // deno test shows what a test module prints on its own stdout.
    assert.match(stdout + text.decode(out.stderr), /ignored: tests needing nvim/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every doc example that starts a nats-server is left out where nats-server is absent", async () => {
  const root = new URL("../", import.meta.url);
  const starting: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, root))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory) await walk(`${path}/`);
      else if (path.endsWith(".ts")) {
        const text = await Deno.readTextFile(new URL(path, root));
        // A doc example's line (` * `) that starts one.
        if (/^\s*\* .*await startNatsServer\(/m.test(text)) starting.push(path);
      }
    }
  };
  for (const dir of ["codecs/", "protocols/", "rpc/", "testing/", "web/"]) await walk(dir);
  assert.ok(starting.length > 0);
  assert.deepEqual(
    starting.filter((path) => DOC_EXAMPLES_NEED[path] !== "nats-server").sort(),
    [],
  );
});
