/**
 * Drives headless Chromium through the chat example with playwright-core
 * and prints what it saw as one JSON line. Run by `tests/browser_test.ts` in
 * a process of its own, because playwright reads parts of the system (the
 * home directory, /proc/sys) that the test run does not grant.
 *
 * Usage: `deno run -A tests/browser/_drive.ts URL SCREENSHOT`
 *
 * @module
 */

import { chromium } from "playwright-core";

const [url, screenshot] = Deno.args;
if (url === undefined || screenshot === undefined) {
  throw new Error("usage: _drive.ts URL SCREENSHOT");
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const errors: string[] = [];
  const [alice, bob] = await Promise.all([browser.newPage(), browser.newPage()]);
  for (const page of [alice, bob]) {
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(url);
    await page.waitForSelector("#status:text('connected')", { timeout: 10_000 });
  }
  await alice.fill("#name", "alice");
  await alice.fill("#text", "hello from parley ✓");
  await alice.click("button");
  // The server pushes the message into the other page by calling its show().
  await bob.waitForSelector("#log li:has-text('hello from parley ✓')", { timeout: 10_000 });
  const seenByBob = await bob.textContent("#log li");
  await alice.waitForSelector("#log li:has-text('hello from parley ✓')", { timeout: 10_000 });
  const seenByAlice = await alice.textContent("#log li");
  await bob.screenshot({ path: screenshot });
  // A page that joins later gets the history.
  const carol = await browser.newPage();
  await carol.goto(url);
  await carol.waitForSelector("#log li", { timeout: 10_000 });
  const seenByCarol = await carol.textContent("#log li");
  // Remote objects in the page: a proxy of the server's room, a callback the
  // server calls back, and a pipelined call; with the full bundle and with
  // the objects-only one.
  const objectsWith = (bundle: string) =>
    alice.evaluate(async (bundle) => {
      const parley = await import(bundle);
      const session = new parley.ObjectSession();
      const peer = await parley.connectWebSocket(`ws://${location.host}/objects`, {
        codec: parley.jsonRpc(),
        service: session.service,
      });
      session.attach(peer);
      const api = session.root();
      const ticks: number[] = [];
      const room = await api.room();
      const done = await room.countdown(3, (n: number) => ticks.push(n));
      const messages = await api.room().messages(); // pipelined: one round trip
      await peer.close();
      return { done, ticks, messages };
    }, bundle);
  const objects = await objectsWith("/parley.js");
  const objectsEntry = await objectsWith("/objects.js");
  // The smallest clients: JSON-RPC over a WebSocket and over HTTP, through
  // the typed proxy; a refused call is the bundle's own RpcError.
  const smallest = await alice.evaluate(async () => {
    const ws = await import("/json_rpc_websocket.js");
    const peer = await ws.connectWebSocket(`ws://${location.host}/rpc`, {
      codec: ws.jsonRpc(),
      service: { show: () => 0 },
    });
    const overWebSocket = await peer.proxy().history();
    const refused = await peer.proxy().post("", "").catch((error: unknown) =>
      error instanceof ws.RpcError ? (error as { code: number }).code : String(error)
    );
    await peer.close();
    const http = await import("/json_rpc_http.js");
    const client = http.connectHttp(`http://${location.host}/rpc`, { codec: http.jsonRpc() });
    const overHttp = await client.proxy().history();
    await client.close();
    return { overWebSocket, overHttp, refused };
  });
  console.log(
    JSON.stringify({
      seenByAlice,
      seenByBob,
      seenByCarol,
      objects,
      objectsEntry,
      smallest,
      errors,
    }),
  );
} finally {
  await browser.close();
}
