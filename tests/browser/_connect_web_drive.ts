/**
 * Drives headless Chromium for `tests/grpc_web_browser_test.ts`: a page of
 * one origin runs connect-web's gRPC-Web transport
 * (`tests/browser/connect_web_page.ts`, bundled as `/connect_web.js`)
 * against the calculator on another origin, and once against a server that
 * allows no other origin; prints what came back as one JSON line. In a
 * process of its own, as `_drive.ts`, for playwright's reads of the system.
 *
 * Usage: `deno run -A tests/browser/_connect_web_drive.ts PAGE_URL API_URL BLOCKED_URL`
 *
 * @module
 */

import { chromium } from "playwright-core";

const [page, api, blocked] = Deno.args;
if (page === undefined || api === undefined || blocked === undefined) {
  throw new Error("usage: _connect_web_drive.ts PAGE_URL API_URL BLOCKED_URL");
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const errors: string[] = [];
  const tab = await browser.newPage();
  tab.on("pageerror", (error) => errors.push(error.message));
  await tab.goto(page);
  const results = await tab.evaluate(async (api) => {
    const module = await import("/connect_web.js");
    return await module.run(api, "/calculator.binpb");
  }, api);
  // Without CORS the browser keeps the reply from the page.
  const refused = await tab.evaluate(async (blocked) => {
    const module = await import("/connect_web.js");
    return (await module.run(blocked, "/calculator.binpb")).add;
  }, blocked);
  console.log(JSON.stringify({ results, refused, errors }));
} finally {
  await browser.close();
}
