/**
 * gRPC-Web in a real headless Chromium: connect-web's gRPC-Web transport
 * (`@connectrpc/connect-web`, bundled into a page by `deno bundle`) calls
 * the calculator served by `connectHandler` on another origin, allowed by
 * its `cors` option: unary Add, server-streaming Range, errors with their
 * InvalidOperation details, the `x-request-tag` echo (a header the page may
 * read only when it is exposed); and a server without `cors` is refused by
 * the browser.
 *
 * Needs `chromium` and `protoc` (for the page's descriptors).
 *
 * @module
 */

import assert from "node:assert/strict";
import { serveHttp } from "../rpc/transports/http.ts";
import { bundleEntry } from "../tools/build_web.ts";
import { formatOutput, run } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";
import { startServer } from "./_connect_streams.ts";

const test = testNeeding("chromium", "protoc");

// A page and its files, served from their own origin.
async function pageServer(dir: string) {
  const files: Record<string, [string, string]> = {
    "/": ["index.html", "text/html"],
    "/connect_web.js": ["connect_web.js", "text/javascript"],
    "/calculator.binpb": ["calculator.binpb", "application/octet-stream"],
  };
  await Deno.writeTextFile(`${dir}/index.html`, "<!doctype html><title>connect-web</title>\n");
  return serveHttp({
    routes: {},
    fallback: async (request) => {
      const file = files[new URL(request.url).pathname];
      if (file === undefined) return new Response("Not Found", { status: 404 });
      const [name, type] = file;
      return new Response(await Deno.readFile(`${dir}/${name}`), {
        headers: { "content-type": type },
      });
    },
  });
}

test("Chromium: connect-web's gRPC-Web transport calls connectHandler on another origin", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-connect-web-" });
  try {
    await bundleEntry("tests/browser/connect_web_page.ts", `${dir}/connect_web.js`, false);
    const protoc = await run("protoc", {
      args: [
        "--include_imports",
        `--descriptor_set_out=${dir}/calculator.binpb`,
        "-I",
        "examples/calculator",
        "calculator.proto",
      ],
    });
    assert.equal(protoc.code, 0, formatOutput(protoc));
    await using page = await pageServer(dir);
    const { server } = startServer({ cors: { origins: [page.url] } });
    await using _ = server;
    await using blocked = startServer().server;
    const driven = await run(Deno.execPath(), {
      args: ["run", "-A", "tests/browser/_connect_web_drive.ts", page.url, server.url, blocked.url],
      timeout: 90_000,
    });
    assert.equal(driven.code, 0, formatOutput(driven));
    const { results, refused, errors } = JSON.parse(driven.stdout.trim().split("\n").at(-1)!);
    const invalid = (why: string) => ({
      code: "InvalidArgument",
      message: why,
      details: [{ whatOp: 1, why }],
      echo: true,
    });
    assert.deepEqual(results, {
      add: { result: 3, echo: true },
      overflow: invalid("overflow"),
      range: { result: ["2147483647", "2147483648", "2147483649"], echo: true },
      invalidCount: invalid("invalid count"),
    });
    // No CORS: the browser does not let the page see the reply.
    assert.equal(refused.result, undefined);
    assert.equal(refused.code, "Unknown", JSON.stringify(refused));
    assert.deepEqual(errors, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
