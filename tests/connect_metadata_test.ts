/**
 * Call metadata on `connectHandler`: the contract's `x-request-tag` echo
 * (the calculator's `onCall`) on every kind of call, Connect and gRPC-Web,
 * failing ones included, each in its protocol's place for trailers; and a
 * handler's own headers and trailers through `callMetadata(ctx)`, read back
 * by `connectClient`'s `onMetadata`.
 */

import assert from "node:assert/strict";
import { loadProto, protoService } from "../codecs/protobuf.ts";
import {
  callMetadata,
  connectClient,
  connectHandler,
  type ConnectResponseMetadata,
} from "../protocols/connect.ts";
import { withContext } from "../mod.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import { envelope, envelopesOf, post, schema, startServer } from "./_connect_streams.ts";
import { call, frame } from "./_grpc_web_client.ts";

const AddRequest = schema.message("interop.AddRequest");
const RangeRequest = schema.message("interop.RangeRequest");
const Number = schema.message("interop.Number");

Deno.test("x-request-tag: Connect unary calls echo it as a header and a trailer- header, failing ones included", async () => {
  await using server = startServer().server;
  const add = `${server.url}/interop.Calculator/Add`;
  const json = { "content-type": "application/json", "connect-protocol-version": "1" };
  const cases: [string, string, RequestInit, number][] = [
    ["a result", add, { body: '{"num1":1,"num2":2}', headers: json }, 200],
    ["InvalidOperation", add, { body: '{"num1":2147483647,"num2":1}', headers: json }, 400],
    ["a body that does not decode", add, { body: "{", headers: json }, 400],
    ["a bad timeout", add, { body: "{}", headers: { ...json, "connect-timeout-ms": "x" } }, 400],
    [
      "an unknown method",
      `${server.url}/interop.Calculator/Nope`,
      { body: "{}", headers: json },
      404,
    ],
    ["a media type it does not take", add, {
      body: "{}",
      headers: { "content-type": "text/plain" },
    }, 415],
  ];
  for (const [what, url, init, status] of cases) {
    const tag = `u-${status}-${what.length}`;
    const response = await fetch(url, {
      ...init,
      method: "POST",
      headers: { ...init.headers as Record<string, string>, "x-request-tag": tag },
    });
    await response.body?.cancel();
    assert.equal(response.status, status, what);
    assert.equal(response.headers.get("x-request-tag"), tag, what);
    assert.equal(response.headers.get("trailer-x-request-tag-end"), tag, what);
  }
});

Deno.test("x-request-tag: Connect streaming calls echo it as a header and in the end-of-stream metadata", async () => {
  await using server = startServer().server;
  const number = envelope(0, Number.encode({ value: 1 }));
  const cases: [
    string,
    string,
    Uint8Array<ArrayBuffer>,
    Record<string, string>,
    string | undefined,
  ][] = [
    ["Range", "Range", envelope(0, RangeRequest.encode({ count: 2 })), {}, undefined],
    [
      "Range refused",
      "Range",
      envelope(0, RangeRequest.encode({ count: -1 })),
      {},
      "invalid_argument",
    ],
    ["Total", "Total", number, {}, undefined],
    ["Running", "Running", number, {}, undefined],
    ["a bad timeout", "Total", number, { "connect-timeout-ms": "x" }, "invalid_argument"],
    [
      "a message over the limit",
      "Total",
      new Uint8Array([0, 0x80, 0, 0, 0]),
      {},
      "resource_exhausted",
    ],
  ];
  for (const [what, method, body, headers, code] of cases) {
    const tag = `s-${what.replaceAll(" ", "-")}`;
    const response = await post(`${server.url}/interop.Calculator/${method}`, body, {
      ...headers,
      "x-request-tag": tag,
    });
    assert.equal(response.headers.get("x-request-tag"), tag, what);
    const end = (await envelopesOf(response)).at(-1)?.end;
    assert.deepEqual(end?.metadata, { "x-request-tag-end": [tag] }, what);
    assert.equal(end?.error?.code, code, what);
  }
});

Deno.test("x-request-tag: gRPC-Web echoes it as a header and a trailer, trailers-only replies included", async () => {
  await using server = startServer().server;
  const cases: [string, string, Uint8Array, boolean, string][] = [
    ["Add", "Add", frame(AddRequest.encode({ num1: 1, num2: 2 })), false, "0"],
    [
      "InvalidOperation",
      "Add",
      frame(AddRequest.encode({ num1: 2 ** 31 - 1, num2: 1 })),
      false,
      "3",
    ],
    ["Range", "Range", frame(RangeRequest.encode({ count: 2 })), false, "0"],
    ["an unknown method", "Nope", frame(new Uint8Array()), true, "12"],
    ["a request stream", "Total", frame(new Uint8Array()), true, "12"],
  ];
  for (const [what, method, body, trailersOnly, status] of cases) {
    const tag = `w-${what.replaceAll(" ", "-")}`;
    const reply = await call(server.url, `/interop.Calculator/${method}`, body, {
      headers: { "x-request-tag": tag },
    });
    assert.equal(reply.trailersOnly, trailersOnly, what);
    assert.equal(reply.headers.get("x-request-tag"), tag, what);
    // In the trailer frame, or with the status in the one header block.
    const trailer = trailersOnly
      ? reply.headers.get("x-request-tag-end")
      : reply.trailers["x-request-tag-end"];
    assert.equal(trailer, tag, what);
    assert.equal(reply.trailers["grpc-status"], status, what);
  }
});

Deno.test("callMetadata: handlers read request headers and set headers and trailers; connectClient reads them", async () => {
  const schema = loadProto(`
    syntax = "proto3";
    package demo;
    message Name { string name = 1; }
    service Greeter {
      rpc Greet(Name) returns (Name);
      rpc Chorus(Name) returns (stream Name);
    }
  `);
  const stamp = (ctx: Parameters<typeof callMetadata>[0]) => {
    const metadata = callMetadata(ctx)!;
    metadata.headers.set("x-seen-by", "parley");
    metadata.trailers.set("x-user", metadata.request.get("x-user") ?? "anonymous");
  };
  const errors: unknown[] = [];
  const handler = connectHandler({
    schema,
    service: protoService(schema, "demo.Greeter", {
      Greet: withContext((ctx, { name }: { name: string }) => {
        stamp(ctx);
        return { name: `Hello, ${name}` };
      }),
      Chorus: withContext((ctx, { name }: { name: string }) => {
        stamp(ctx);
        return (async function* () {
          yield { name };
          // Trailers set while the reply streams still go out at its end.
          callMetadata(ctx)!.trailers.append("x-user", "late");
          yield { name };
        })();
      }),
    }),
    onCall: (metadata) => {
      if (metadata.request.get("x-fail-on-call") === "1") throw new Error("onCall broke");
    },
    onError: (error) => errors.push(error),
  });
  await using server = serveHttp({ routes: {}, handlers: { "/": handler } });
  for (const format of ["proto", "json"] as const) {
    await using client = connectClient(server.url, { schema, format });
    let unary: ConnectResponseMetadata | undefined;
    assert.deepEqual(
      await client.call("demo.Greeter/Greet", { name: "Ada" }, {
        headers: { "x-user": "ada" },
        onMetadata: (metadata) => unary = metadata,
      }),
      { name: "Hello, Ada" },
    );
    assert.equal(unary?.headers.get("x-seen-by"), "parley");
    assert.equal(unary?.trailers.get("x-user"), "ada");
    let streamed: ConnectResponseMetadata | undefined;
    const names = [];
    const stream = client.openStream("demo.Greeter/Chorus", { name: "Bo" }, {
      headers: { "x-user": "bo", "x-fail-on-call": "1" },
      onMetadata: (metadata) => streamed = metadata,
    });
    for await (const message of stream.messages) names.push(message);
    assert.deepEqual(names, [{ name: "Bo" }, { name: "Bo" }]);
    assert.equal(streamed?.headers.get("x-seen-by"), "parley");
    assert.equal(streamed?.trailers.get("x-user"), "bo, late");
  }
  // An onCall that throws is reported, and the call is served all the same.
  assert.deepEqual(errors.map((e) => (e as Error).message), ["onCall broke", "onCall broke"]);
});
