/**
 * gRPC-Web server streaming on `connectHandler`'s route, binary and `-text`:
 * the calculator's Range (a frame per number, the trailer frame last), an
 * error after messages (in the trailer frame, with its details), a deadline
 * mid-stream, a client that goes away, and the contract's `x-request-tag`.
 * connect-web's transport in Chromium is `browser_connect_web_test.ts`.
 */

import assert from "node:assert/strict";
import { call, frame, statusDetails } from "./_grpc_web_client.ts";
import { probeSchema, schema, startServer } from "./_connect_streams.ts";

const RangeRequest = schema.message("interop.RangeRequest");
const Number = schema.message("interop.Number");
const N = probeSchema.message("probe.N");

for (const text of [false, true]) {
  const mode = text ? "text" : "binary";

  Deno.test(`gRPC-Web (${mode}) server streaming: Range, a frame per number, then grpc-status 0`, async () => {
    await using server = startServer().server;
    const reply = await call(
      server.url,
      "/interop.Calculator/Range",
      frame(RangeRequest.encode({ start: 2 ** 31 - 1, count: 3 })),
      { text, headers: { "x-request-tag": `w-${mode}` } },
    );
    assert.equal(reply.status, 200);
    assert.equal(
      reply.contentType,
      text ? "application/grpc-web-text+proto" : "application/grpc-web+proto",
    );
    assert.deepEqual(reply.messages.map((m) => Number.decode(m).value), [
      2n ** 31n - 1n,
      2n ** 31n,
      2n ** 31n + 1n,
    ]);
    assert.deepEqual(reply.trailers, { "x-request-tag-end": `w-${mode}`, "grpc-status": "0" });
    assert.equal(reply.headers.get("x-request-tag"), `w-${mode}`);
  });

  Deno.test(`gRPC-Web (${mode}) server streaming: an invalid count is status 3 with its details`, async () => {
    await using server = startServer().server;
    const reply = await call(
      server.url,
      "/interop.Calculator/Range",
      frame(RangeRequest.encode({ count: 2_000_000 })),
      { text },
    );
    assert.deepEqual(reply.messages, []);
    assert.equal(reply.trailers["grpc-status"], "3");
    assert.equal(reply.trailers["grpc-message"], "invalid count");
    const status = statusDetails(reply);
    assert.equal(status.code, 3);
    const { details } = status;
    assert.equal(details[0]?.type_url, "type.googleapis.com/interop.InvalidOperation");
    assert.deepEqual(schema.message("interop.InvalidOperation").decode(details[0]!.value), {
      whatOp: 1,
      why: "invalid count",
    });
  });

  Deno.test(`gRPC-Web (${mode}) server streaming: a deadline after the first message is status 4`, async () => {
    const { server, probe } = startServer();
    await using _ = server;
    const reply = await call(server.url, "/probe/probe.Streams/Wait", frame(N.encode({ n: 7 })), {
      text,
      headers: { "grpc-timeout": "150m" },
    });
    assert.deepEqual(reply.messages.map((m) => N.decode(m).n), [7n]);
    assert.equal(reply.trailers["grpc-status"], "4");
    assert.equal(
      ((await probe.aborted) as { connectCode: string }).connectCode,
      "deadline_exceeded",
    );
    await probe.finished;
  });
}

Deno.test("gRPC-Web server streaming: an error after messages travels in the trailer frame", async () => {
  await using server = startServer().server;
  const reply = await call(server.url, "/probe/probe.Streams/Fail", frame(N.encode({ n: 2 })));
  assert.deepEqual(reply.messages.map((m) => N.decode(m).n), [0n, 1n]);
  assert.equal(reply.trailers["grpc-status"], "9"); // FAILED_PRECONDITION, as errorCode says
  assert.equal(reply.trailers["grpc-message"], "enough");
  const status = statusDetails(reply);
  const [detail] = status.details;
  assert.equal(detail?.type_url, "type.googleapis.com/probe.Why");
  assert.deepEqual(probeSchema.message("probe.Why").decode(detail!.value), { why: "after 2" });
  // Running is bidi: refused, as gRPC-Web carries no request stream.
  const running = await call(
    server.url,
    "/interop.Calculator/Running",
    frame(Number.encode({ value: 1 })),
  );
  assert.equal(running.trailersOnly, true);
  assert.equal(running.trailers["grpc-status"], "12");
  assert.match(running.trailers["grpc-message"]!, /takes a stream of messages/);
});

Deno.test("gRPC-Web server streaming: the client going away stops the generator", async () => {
  const { server, probe } = startServer();
  await using _ = server;
  const controller = new AbortController();
  const response = await fetch(`${server.url}/probe/probe.Streams/Forever`, {
    method: "POST",
    headers: { "content-type": "application/grpc-web+proto" },
    body: frame(N.encode({ n: 1 })),
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  const { value } = await reader.read();
  assert.equal(value?.[0], 0); // a message frame
  controller.abort();
  await probe.finished;
  assert.equal(((await probe.aborted) as { connectCode: string }).connectCode, "canceled");
});
