/**
 * A short tour of parley: starts the calculator over JSON-RPC on TCP and
 * calls it — a typed proxy, a batch, a notification, an error, a timeout and
 * a cancellation — printing what happens.
 *
 * ```sh
 * deno task demo
 * ```
 *
 * @module
 */

import { z } from "zod";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { type CallContext, defineService, method, RpcError, TimeoutError } from "../mod.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { createCalculator } from "./calculator/service.ts";

const step = (title: string) => console.log(`\n— ${title}`);

// The calculator of the interop contract, plus two methods for the tour.
const calculator = createCalculator({ int64: "safe", base64: true });
const extras = defineService({
  log: method({
    params: z.tuple([z.string()]),
    result: z.null(),
    handler: (
      text,
    ) => (console.log(`  server got notification: log(${JSON.stringify(text)})`), null),
  }),
  slow: method({
    params: z.tuple([z.number().int().min(0).max(10_000)]),
    result: z.string(),
    handler: (ms, ctx: CallContext) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => resolve(`slept ${ms} ms`), ms);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          console.log(`  server: slow(${ms}) cancelled by the client`);
          reject(ctx.signal.reason);
        });
      }),
  }),
});
const service = defineService({ ...calculator, ...extras });

const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
  codec: jsonRpc(),
  framing: newline(),
  service,
});
console.log(`listening ${server.url}`);

const client = await connectTcp(server.address, {
  codec: jsonRpc(),
  framing: newline(),
});

step("a typed proxy: calc.add(1, 2)");
const calc = client.proxy(service);
console.log("  =", await calc.add(1, 2));

step("64 calls in flight on one connection");
const sums = await Promise.all(Array.from({ length: 64 }, (_, i) => calc.add(i, i)));
console.log(`  = ${sums.length} results, last ${sums.at(-1)}`);

step("a batch: add, echo and an unknown method in one frame");
const batch = await client.batch([
  { method: "add", params: [20, 22] },
  { method: "echo", params: { text: "héllo ✓" } },
  { method: "nope" },
]);
for (const outcome of batch) {
  console.log(
    "  ",
    outcome.status === "fulfilled" ? outcome.value : `error: ${(outcome.reason as Error).message}`,
  );
}

step("a notification: no reply expected");
await client.notify("log", ["hello from the client"]);
await client.call("ping");

step("an error: calculate(1, {num1: 1, num2: 0, op: DIVIDE})");
try {
  await calc.calculate(1, { num1: 1, num2: 0, op: 4 });
} catch (error) {
  if (!(error instanceof RpcError)) throw error;
  console.log(`  RpcError ${error.code}: ${error.message}`, error.data);
}

step("invalid params are caught by the server's schema");
try {
  await client.call("add", [1, "two"]);
} catch (error) {
  if (!(error instanceof RpcError)) throw error;
  console.log(`  RpcError ${error.code}: ${error.message}`);
}

step("a timeout: slow(2000) with a 100 ms timeout (the server is told to cancel)");
try {
  await client.call("slow", [2000], { timeout: 100 });
} catch (error) {
  if (!(error instanceof TimeoutError)) throw error;
  console.log(`  ${error.name}: ${error.message}`);
}
await client.call("ping"); // the cancellation went out first, so it has arrived

step("an abort: slow(2000) aborted after 50 ms");
const controller = new AbortController();
setTimeout(() => controller.abort(new Error("the user pressed cancel")), 50);
try {
  await client.call("slow", [2000], { signal: controller.signal });
} catch (error) {
  console.log(`  rejected: ${(error as Error).message}`);
}
await client.call("ping");

await client.close();
await server.shutdown();
console.log("\ndone: the server shut down gracefully");
