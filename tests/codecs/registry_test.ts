/**
 * The codec registry is wired end to end: every entry's export path is in
 * deno.json's `exports` and names its module, its `load()` yields a factory
 * that makes its codec, and the command line takes its name.
 */

import assert from "node:assert/strict";
import { CODEC_REGISTRY, type CodecSetup } from "../../codecs/registry.ts";
import { FRAMING_NAMES } from "../../rpc/framing/mod.ts";
import { formatOutput, run } from "../interop/_process.ts";
import { jsonRpc as pageJsonRpc } from "../../web/_json_rpc.ts";
import type { RpcMessage } from "../../rpc/types.ts";

// Codec factories whose browser entries carry a build of their own, and why:
// JSON-RPC's leaves out the compact reader, a server's shortcut that would
// cost a page half a kilobyte (web/_json_rpc.ts).
// deno-lint-ignore no-explicit-any
const BROWSER_BUILDS: Readonly<Record<string, (() => any) | undefined>> = {
  jsonRpc: pageJsonRpc,
};

const SAMPLE_MESSAGES: readonly RpcMessage[] = [
  { kind: "request", id: 1, method: "add", params: [1, 2] },
  { kind: "request", id: "a", method: "greet", params: { name: "page" } },
  { kind: "notification", method: "progress", params: [0.5] },
  { kind: "result", id: 7, result: [1, "two", { three: 3 }] },
  { kind: "error", id: 8, error: { code: -32601, message: "Method not found" } },
];

const ROOT = new URL("../../", import.meta.url);
const CODECS_DIR = new URL("codecs/", ROOT);
const { exports } = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", ROOT)),
) as { exports: Record<string, string> };

// The contract's IDL files, for the codecs that need one.
const IDL: Record<string, { file: string; setup: CodecSetup }> = {
  proto: {
    file: "examples/calculator/calculator.proto",
    setup: {
      idl: {
        "calculator.proto": await Deno.readTextFile(
          new URL("examples/calculator/calculator.proto", ROOT),
        ),
      },
    },
  },
  thrift: {
    file: "examples/calculator/calculator.thrift",
    setup: {
      idl: {
        "calculator.thrift": await Deno.readTextFile(
          new URL("examples/calculator/calculator.thrift", ROOT),
        ),
      },
    },
  },
};

Deno.test("registry: names are unique and the default (jsonrpc) comes first", () => {
  const names = CODEC_REGISTRY.map((entry) => entry.name);
  assert.equal(new Set(names).size, names.length);
  assert.equal(names[0], "jsonrpc");
});

for (const entry of CODEC_REGISTRY) {
  Deno.test(`registry: ${entry.name}'s export path names its module`, async () => {
    const target = exports[entry.exportPath];
    assert.notEqual(target, undefined, `deno.json exports has no ${entry.exportPath}`);
    assert.equal(
      new URL(target!, ROOT).href,
      new URL(entry.module, CODECS_DIR).href,
      `${entry.exportPath} is ${target}, the registry says codecs/${entry.module}`,
    );
    const stat = await Deno.stat(new URL(entry.module, CODECS_DIR));
    assert.ok(stat.isFile);
  });

  Deno.test(`registry: ${entry.name}'s load() makes its codec`, async () => {
    const create = await entry.load();
    assert.equal(typeof create, "function");
    const setup = entry.idl === undefined ? {} : IDL[entry.idl.flag]!.setup;
    const made = create(setup);
    assert.ok(made.codec.name.length > 0);
    assert.equal(typeof made.codec.encode, "function");
    assert.equal(typeof made.codec.decode, "function");
    if (entry.idl?.flag === "proto") assert.ok(made.protoSchema!.methods.size > 0);
    if (entry.idl?.flag === "thrift") assert.ok(made.thriftSchema!.services.size > 0);
  });

  Deno.test(`registry: ${entry.name}'s default framings are framing names`, () => {
    assert.ok(FRAMING_NAMES.includes(entry.framing.stream), entry.framing.stream);
    assert.ok(FRAMING_NAMES.includes(entry.framing.stdio), entry.framing.stdio);
    assert.ok(entry.httpPath.startsWith("/"));
  });

  Deno.test(`registry: the command line takes --codec ${entry.name}`, async () => {
    // A port nobody listens on: the CLI gets as far as connecting (exit
    // status 3), past the codec's name and IDL (a usage error is status 2).
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr;
    listener.close();
    const idl = entry.idl === undefined ? [] : [`--${entry.idl.flag}`, IDL[entry.idl.flag]!.file];
    const result = await run(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        "cli/main.ts",
        "call",
        `tcp://127.0.0.1:${port}`,
        "--codec",
        entry.name,
        ...idl,
        "add",
        "1",
        "2",
      ],
      timeout: 60_000,
    });
    assert.equal(result.code, 3, formatOutput(result));
    assert.doesNotMatch(result.stderr, /Unknown codec/);
  });
}

for (const entry of CODEC_REGISTRY.filter((e) => e.browser)) {
  Deno.test(`registry: ${entry.name} runs in a browser, so it has a bundle and the full one carries it`, async () => {
    // web/NAME.ts is its bundle entry (tools/build_web.ts builds every file there).
    const bundleEntry = new URL(`../../web/${entry.module}`, import.meta.url);
    const own = await import(bundleEntry.href);
    const full = await import(new URL("../../web.ts", import.meta.url).href);
    const codecModule = await import(new URL(`../../codecs/${entry.module}`, import.meta.url).href);
    const factories = Object.keys(codecModule).filter((name) =>
      typeof codecModule[name] === "function" && /Rpc$/.test(name)
    );
    assert.ok(factories.length > 0, `codecs/${entry.module} exports a codec factory`);
    for (const name of factories) {
      const browserBuild = BROWSER_BUILDS[name];
      if (browserBuild === undefined) {
        assert.equal(own[name], codecModule[name], `web/${entry.module} exports ${name}`);
        assert.equal(full[name], codecModule[name], `web.ts exports ${name}`);
        continue;
      }
      // A build of the codec for pages: the same codec, message for message.
      assert.equal(own[name], browserBuild, `web/${entry.module} exports ${name}`);
      assert.equal(full[name], browserBuild, `web.ts exports ${name}`);
      const page = browserBuild();
      const server = codecModule[name]();
      assert.equal(page.name, server.name);
      assert.equal(page.mediaType, server.mediaType);
      for (const message of SAMPLE_MESSAGES) {
        const text = server.encode(message);
        assert.equal(page.encode(message), text);
        assert.deepEqual(page.decode(text), server.decode(text));
      }
    }
  });
}
