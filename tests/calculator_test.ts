import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { RpcError } from "../mod.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectTcp } from "../rpc/transports/tcp.ts";
import { run, spawnListening } from "./interop/_process.ts";

const CALCULATOR = [
  "run",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "examples/calculator.ts",
];

Deno.test("the calculator finishes a call in flight on SIGINT, then exits 0", async () => {
  await using server = await spawnListening(Deno.execPath(), {
    args: [...CALCULATOR, "--port", "0"],
  });
  assert.match(server.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  const client = await connectTcp({ port: server.port }, { codec: jsonRpc(), framing: newline() });
  assert.equal(await client.call("add", [40, 2]), 42);
  const stopped = server.stop("SIGINT");
  const closed = client.closed;
  const result = await stopped;
  assert.equal(result.code, 0, server.stderr());
  await closed; // the server closed the connection as it stopped
  assert.equal(server.stdout(), "", "only the listening line goes to stdout");
});

Deno.test("the calculator serves over a Unix socket", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/calc.sock`;
    await using server = await spawnListening(Deno.execPath(), {
      args: [...CALCULATOR, "--transport", "unix", "--path", path],
    });
    assert.equal(server.url, `unix:${path}`);
    await using client = await connectTcp({ transport: "unix", path }, {
      codec: jsonRpc(),
      framing: newline(),
    });
    await assert.rejects(
      client.call("add", [2147483647, 1]),
      (e: unknown) => e instanceof RpcError && e.code === 1,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the calculator refuses an unknown codec, framing or transport with exit 2 and a usage text", async () => {
  for (
    const args of [["--codec", "nope"], ["--framing", "nope"], ["--transport", "carrier-pigeon"], [
      "--port",
      "x",
    ]]
  ) {
    const result = await run(Deno.execPath(), { args: [...CALCULATOR, ...args], timeout: 20_000 });
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, /Usage: deno task calculator/);
  }
});
