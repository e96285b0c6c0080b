/**
 * The headers of parley's Connect client's unary POSTs, as a real server
 * receives them: the client's own headers, a call's headers over them, the
 * protocol's over both, `Connect-Timeout-Ms` and `Content-Encoding` only on
 * the calls that have them. The client keeps one record of its own headers
 * for every call: a call's headers must never leak into the next call's.
 */

import assert from "node:assert/strict";
import { connectClient, connectHandler } from "../protocols/connect.ts";
import { calculatorSchema, protobufCalculator } from "../examples/calculator/protobuf.ts";

const schema = calculatorSchema();

function server() {
  const seen: Headers[] = [];
  const handler = connectHandler({ schema, service: protobufCalculator(schema) });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    seen.push(new Headers(request.headers));
    return handler(request);
  });
  return { seen, http, url: `http://127.0.0.1:${http.addr.port}` };
}

Deno.test("Connect client: a call's headers and timeout go with that call only, under the protocol's", async () => {
  const { seen, http, url } = server();
  await using _ = http;
  await using client = connectClient(url, {
    schema,
    headers: { authorization: "Bearer a", "content-type": "text/plain" },
  });
  const add = (options?: Parameters<typeof client.call>[2]) =>
    client.call("interop.Calculator/Add", { num1: 2, num2: 3 }, options);
  assert.deepEqual(await add(), { sum: 5 });
  assert.deepEqual(
    await add({
      headers: { authorization: "Bearer b", "x-tag": "t", "connect-protocol-version": "9" },
      timeout: 4_000.5,
    }),
    { sum: 5 },
  );
  assert.deepEqual(await add(), { sum: 5 });
  const [plain, own, again] = seen.map((h) => Object.fromEntries(h));
  for (const headers of [plain, own, again]) {
    assert.equal(headers!["content-type"], "application/proto");
    assert.equal(headers!["connect-protocol-version"], "1");
    assert.equal(headers!["content-encoding"], undefined);
  }
  assert.equal(plain!.authorization, "Bearer a");
  assert.equal(plain!["connect-timeout-ms"], undefined);
  assert.equal(own!.authorization, "Bearer b");
  assert.equal(own!["x-tag"], "t");
  assert.equal(own!["connect-timeout-ms"], "4001");
  assert.deepEqual(again, plain);
});

Deno.test("Connect client: a body over compressThreshold goes gzipped, the calls after it too, each marked", async () => {
  const { seen, http, url } = server();
  await using _ = http;
  await using client = connectClient(url, { schema, compressThreshold: 0 });
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(await client.call("interop.Calculator/Add", { num1: i, num2: 1 }), {
      sum: i + 1,
    });
  }
  assert.deepEqual(seen.map((h) => h.get("content-encoding")), ["gzip", "gzip"]);
  assert.deepEqual(seen.map((h) => h.get("connect-timeout-ms")), [null, null]);
});
