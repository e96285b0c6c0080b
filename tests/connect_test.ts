/**
 * The Connect protocol: parley's client against parley's handler (the
 * calculator of the interop contract, as `--codec protobuf --transport http`
 * serves it), and the handler's answers to requests no Connect client would
 * send. connect-es itself is in `interop/node_connect_test.ts`.
 */

import assert from "node:assert/strict";
import { protoClient } from "../codecs/protobuf.ts";
import { connectClient, ConnectError, connectHandler } from "../protocols/connect.ts";
import { TimeoutError, withContext } from "../mod.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import {
  calculatorSchema,
  ERROR_DETAILS,
  protobufCalculator,
} from "../examples/calculator/protobuf.ts";
import { protoService } from "../codecs/protobuf.ts";
import { rejection } from "./_rejection.ts";

const schema = calculatorSchema();

function startServer(options: { maxBodySize?: number; requireProtocolVersion?: boolean } = {}) {
  const errors: unknown[] = [];
  const service = {
    ...protobufCalculator(schema),
    // A slow Echo, to see deadlines: it honours its signal.
    "interop.Calculator/Echo": withContext((ctx, request: { text: string }) => {
      if (!request.text.startsWith("slow")) return request;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(request), 5_000);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(ctx.signal.reason);
        });
      });
    }),
    "interop.Calculator/Ping": () => {
      throw new Error("a bug with a secret");
    },
  };
  const server = serveHttp({
    routes: {},
    handlers: {
      "/": connectHandler({
        schema,
        service,
        errorDetails: ERROR_DETAILS,
        errorCode: () => "invalid_argument",
        onError: (error) => errors.push(error),
        ...options,
      }),
    },
  });
  return { server, errors };
}

type Calculator = {
  Add(r: { num1: number; num2: number }): { sum: number };
  Calculate(
    r: { logid: number; w?: { num1: number; num2: number; op: number } },
  ): { value: number };
  Echo(r: { text: string }): { text: string };
  EchoBinary(r: { data: Uint8Array }): { data: Uint8Array };
  EchoShape(r: Record<string, unknown>): Record<string, unknown>;
  Sum(r: { values: (number | bigint)[] }): { total: bigint };
  Zip(r: Record<string, never>): Record<string, never>;
};

const connectError = (promise: Promise<unknown>) => rejection(promise, ConnectError);

for (const format of ["proto", "json"] as const) {
  Deno.test(`Connect (${format}): the calculator contract through parley's client and handler`, async () => {
    const { server } = startServer();
    await using _ = server;
    await using client = connectClient(server.url, { schema, format, timeout: 10_000 });
    const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
    assert.deepEqual(await calc.Add({ num1: 40, num2: 2 }), { sum: 42 });
    assert.deepEqual(await calc.Calculate({ logid: 1, w: { num1: -7, num2: 2, op: 4 } }), {
      value: -3,
    });
    const byZero = await connectError(calc.Calculate({ logid: 1, w: { num1: 1, num2: 0, op: 4 } }));
    assert.equal(byZero.connectCode, "invalid_argument");
    assert.equal(byZero.code, 3);
    assert.equal(byZero.message, "Cannot divide by 0");
    assert.deepEqual(byZero.details, [{
      type: "interop.InvalidOperation",
      value: { whatOp: 4, why: "Cannot divide by 0" },
    }]);
    assert.deepEqual(byZero.data, { whatOp: 4, why: "Cannot divide by 0" });
    const noWork = await connectError(calc.Calculate({ logid: 1 }));
    assert.deepEqual(noWork.data, { whatOp: 0, why: "Invalid operation" });
    assert.deepEqual(await calc.Echo({ text: "héllo 🌍" }), { text: "héllo 🌍" });
    assert.deepEqual(await calc.Echo({ text: "" }), { text: "" });
    const big = new Uint8Array(1 << 20).map((_, i) => i % 251);
    assert.deepEqual(await calc.EchoBinary({ data: big }), { data: big });
    const shape = {
      name: "s",
      coords: [1.5, -0.25, Infinity, NaN],
      tags: { big: 2n ** 62n, min: -(2n ** 63n) },
      blob: new Uint8Array([1, 2, 3]),
      flag: true,
    };
    assert.deepEqual(await calc.EchoShape(shape), shape);
    assert.deepEqual(await calc.Sum({ values: [2n ** 63n - 1n, 1, -1] }), {
      total: 2n ** 63n - 1n,
    });
    const overflow = await connectError(calc.Sum({ values: [2n ** 63n - 1n, 1] }));
    assert.deepEqual(overflow.data, { whatOp: 1, why: "overflow" });
    assert.deepEqual(await calc.Zip({}), {});
    const sums = await Promise.all(
      Array.from({ length: 32 }, (_, i) => calc.Add({ num1: i, num2: 1 })),
    );
    assert.deepEqual(sums, Array.from({ length: 32 }, (_, i) => ({ sum: i + 1 })));
  });
}

Deno.test("Connect: a deadline (Connect-Timeout-Ms) aborts the handler and answers deadline_exceeded", async () => {
  const { server } = startServer();
  await using _ = server;
  await using client = connectClient(server.url, { schema });
  // The server's deadline is the client's timeout: whichever sees it first wins.
  const raw = await fetch(`${server.url}/interop.Calculator/Echo`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "connect-protocol-version": "1",
      "connect-timeout-ms": "50",
    },
    body: JSON.stringify({ text: "slow" }),
  });
  assert.equal(raw.status, 504);
  assert.deepEqual(await raw.json(), { code: "deadline_exceeded", message: "Deadline exceeded" });
  await assert.rejects(
    client.call("interop.Calculator/Echo", { text: "slow" }, { timeout: 50 }),
    (error: unknown) =>
      error instanceof TimeoutError ||
      (error instanceof ConnectError && error.connectCode === "deadline_exceeded"),
  );
  // And an aborted call rejects with the abort's reason.
  const controller = new AbortController();
  const call = client.call("interop.Calculator/Echo", { text: "slow" }, {
    signal: controller.signal,
  });
  controller.abort(new Error("changed my mind"));
  await assert.rejects(call, /changed my mind/);
});

Deno.test("Connect: unexpected handler errors are internal, without their message; onError hears them", async () => {
  const { server, errors } = startServer();
  await using _ = server;
  await using client = connectClient(server.url, { schema });
  const error = await connectError(client.call("interop.Calculator/Ping", {}));
  assert.equal(error.connectCode, "internal");
  assert.equal(error.message, "Internal error");
  assert.match(String(errors[0]), /a bug with a secret/);
});

/** POSTs to the server and returns status, headers and body text. */
async function post(
  url: string,
  body: BodyInit | null,
  headers: Record<string, string>,
  method = "POST",
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(url, { method, headers, body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

Deno.test("Connect: requests no Connect client should send get Connect's answers", async () => {
  const { server } = startServer({ maxBodySize: 1024 });
  await using _ = server;
  const json = { "content-type": "application/json", "connect-protocol-version": "1" };
  const proto = { "content-type": "application/proto", "connect-protocol-version": "1" };
  const add = `${server.url}/interop.Calculator/Add`;
  const cases: [string, () => Promise<{ status: number; text: string }>, number, string][] = [
    [
      "an unknown method",
      () => post(`${server.url}/interop.Calculator/Nope`, "{}", json),
      404,
      "unimplemented",
    ],
    [
      "an unknown service",
      () => post(`${server.url}/other.Service/X`, "{}", json),
      404,
      "unimplemented",
    ],
    ["a path with no method", () => post(`${server.url}/`, "{}", json), 404, "unimplemented"],
    ["a body that is not JSON", () => post(add, "{", json), 400, "invalid_argument"],
    ["JSON of the wrong type", () => post(add, '{"num1":"x"}', json), 400, "invalid_argument"],
    ["an unknown JSON field", () => post(add, '{"num3":1}', json), 400, "invalid_argument"],
    ["an i32 out of range", () => post(add, '{"num1":2147483648}', json), 400, "invalid_argument"],
    ["a JSON array", () => post(add, "[1,2]", json), 400, "invalid_argument"],
    ["truncated proto", () => post(add, new Uint8Array([0x08]), proto), 400, "invalid_argument"],
    [
      "a wrong wire type",
      () => post(add, new Uint8Array([0x0f, 1]), proto),
      400,
      "invalid_argument",
    ],
    [
      "invalid UTF-8 in JSON",
      () => post(add, new Uint8Array([0x7b, 0xff, 0x7d]), json),
      400,
      "invalid_argument",
    ],
    [
      "protocol version 2",
      () => post(add, "{}", { ...json, "connect-protocol-version": "2" }),
      400,
      "invalid_argument",
    ],
    [
      "a bad timeout",
      () => post(add, "{}", { ...json, "connect-timeout-ms": "-5" }),
      400,
      "invalid_argument",
    ],
    [
      "an 11-digit timeout",
      () => post(add, "{}", { ...json, "connect-timeout-ms": "12345678901" }),
      400,
      "invalid_argument",
    ],
    [
      "a body over maxBodySize",
      () => post(add, JSON.stringify({ num1: 1, pad: "x".repeat(2000) }), json),
      429,
      "resource_exhausted",
    ],
    [
      "a content coding it does not know",
      () => post(add, "{}", { ...json, "content-encoding": "br" }),
      501,
      "unimplemented",
    ],
    [
      "corrupt gzip",
      () => post(add, new Uint8Array([0x1f, 0x8b, 0, 0]), { ...json, "content-encoding": "gzip" }),
      400,
      "invalid_argument",
    ],
  ];
  for (const [what, send, status, code] of cases) {
    const answer = await send();
    assert.equal(answer.status, status, `${what}: ${answer.text}`);
    assert.equal(JSON.parse(answer.text).code, code, `${what}: ${answer.text}`);
  }
  // Not Connect errors: HTTP's own answers.
  assert.equal((await post(add, "{}", { "content-type": "text/plain" })).status, 415);
  assert.equal((await post(add, null, json, "GET")).status, 405);
  // And after all that, it still serves.
  const ok = await post(add, '{"num1":1,"num2":2}', json);
  assert.deepEqual([ok.status, JSON.parse(ok.text)], [200, { sum: 3 }]);
  // An empty body is the empty message (all defaults), as Connect has it.
  const empty = await post(add, new Uint8Array(0), proto);
  assert.equal(empty.status, 200);
});

Deno.test("Connect: a missing Connect-Protocol-Version is accepted unless required", async () => {
  const lenient = startServer();
  await using _a = lenient.server;
  const body = '{"num1":1,"num2":2}';
  const headers = { "content-type": "application/json" };
  assert.equal(
    (await post(`${lenient.server.url}/interop.Calculator/Add`, body, headers)).status,
    200,
  );
  const strict = startServer({ requireProtocolVersion: true });
  await using _b = strict.server;
  const refused = await post(`${strict.server.url}/interop.Calculator/Add`, body, headers);
  assert.equal(refused.status, 400);
  assert.match(refused.text, /Connect-Protocol-Version/);
});

Deno.test("Connect: gzip both ways, and bodies with a charset parameter", async () => {
  const { server } = startServer();
  await using _ = server;
  await using client = connectClient(server.url, {
    schema,
    format: "json",
    compressThreshold: 100,
  });
  const text = "z".repeat(50_000);
  assert.deepEqual(await client.call("interop.Calculator/Echo", { text }), { text });
  const raw = await fetch(`${server.url}/interop.Calculator/Echo`, {
    method: "POST",
    headers: {
      "content-type": "application/json; charset=utf-8",
      "accept-encoding": "gzip",
      "connect-protocol-version": "1",
    },
    body: JSON.stringify({ text }),
  });
  assert.equal(raw.status, 200);
  assert.equal(raw.headers.get("content-type"), "application/json");
  assert.deepEqual(await raw.json(), { text });
});

Deno.test("Connect: the client reads errors that are not Connect's from the HTTP status", async () => {
  await using server = serveHttp({
    routes: {},
    fallback: () => new Response("nope", { status: 503 }),
  });
  await using client = connectClient(server.url, { schema });
  const error = await connectError(client.call("interop.Calculator/Add", {}));
  assert.equal(error.connectCode, "unavailable");
  assert.match(
    error.message,
    /answered HTTP 503, content-type "text\/plain[^"]*", body "nope": not a Connect error$/,
  );
  // Unknown methods and bad requests never leave the client.
  await assert.rejects(client.call("interop.Calculator/Nope", {}), TypeError);
  await assert.rejects(client.call("interop.Calculator/Add", [{}, {}]), /not 2 params/);
  await assert.rejects(
    client.call("interop.Calculator/Add", { num1: "x" }),
    /num1: integer expected/,
  );
});

Deno.test("Connect: a handler may throw a ConnectError with its own code and details", async () => {
  await using server = serveHttp({
    routes: {},
    authenticate: (request) => request.headers.get("authorization") === "Bearer t",
    handlers: {
      "/api/": connectHandler({
        schema,
        service: protoService(schema, "interop.Calculator", {
          Add: () => {
            throw new ConnectError("permission_denied", "not yours", [{
              type: "interop.InvalidOperation",
              value: { whatOp: 7, why: "mine" },
            }]);
          },
        }),
      }),
    },
  });
  await using client = connectClient(`${server.url}/api`, {
    schema,
    headers: { authorization: "Bearer t" },
  });
  const error = await connectError(client.call("interop.Calculator/Add", {}));
  assert.equal(error.connectCode, "permission_denied");
  assert.deepEqual(error.data, { whatOp: 7, why: "mine" });
  // Methods the implementation leaves out are unimplemented.
  assert.equal(
    (await connectError(client.call("interop.Calculator/Sum", {}))).connectCode,
    "unimplemented",
  );
  await using stranger = connectClient(`${server.url}/api`, { schema });
  assert.equal(
    (await connectError(stranger.call("interop.Calculator/Add", {}))).connectCode,
    "unauthenticated",
  );
});

Deno.test("Connect: a reply that is not the call's Connect reply is a ConnectError that says what came back, never a message", async () => {
  const AddReply = schema.message("interop.AddReply");
  const replies: Record<string, () => Response> = {
    // A gRPC server's trailers-only error (grpc-message is percent-encoded).
    grpc: () =>
      new Response(null, {
        headers: {
          "content-type": "application/grpc",
          "grpc-status": "2",
          "grpc-message": "Missing%20%3Ate%20header",
        },
      }),
    html: () =>
      new Response("<html>a login page</html>", { headers: { "content-type": "text/html" } }),
    none: () => new Response(new Uint8Array([0x08, 3])),
    json: () => Response.json({ sum: 3 }),
    proto: () =>
      new Response(AddReply.encode({ sum: 3 }) as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": "application/proto; charset=binary" },
      }),
    garbage: () =>
      new Response(new Uint8Array([0xff, 0xff]), {
        headers: { "content-type": "application/proto" },
      }),
    broken: () => new Response("{", { headers: { "content-type": "application/json" } }),
    list: () => new Response("[1]", { headers: { "content-type": "application/json" } }),
  };
  await using server = serveHttp({
    routes: {},
    // The first path segment says which reply: /grpc/interop.Calculator/Add.
    fallback: (request) => replies[new URL(request.url).pathname.split("/")[1]!]!(),
  });
  const call = async (reply: string, format: "proto" | "json" = "proto") => {
    await using client = connectClient(`${server.url}/${reply}`, { schema, format });
    return await client.call("interop.Calculator/Add", { num1: 1, num2: 2 });
  };
  const cases: [string, "proto" | "json", string, RegExp][] = [
    [
      "grpc",
      "proto",
      "unknown",
      /HTTP 200, content-type "application\/grpc", grpc-status 2, grpc-message "Missing :te header", empty body: not a Connect reply \(application\/proto\); a gRPC server\?/,
    ],
    ["html", "proto", "unknown", /content-type "text\/html", body "<html>a login page<\/html>"/],
    ["none", "proto", "unknown", /HTTP 200, no content-type, 2 bytes of binary body/],
    ["json", "proto", "internal", /content-type "application\/json".*not a Connect reply/],
    ["proto", "json", "internal", /not a Connect reply \(application\/json\)/],
    ["garbage", "proto", "internal", /a body that is not a interop\.AddReply \(proto\)/],
    ["broken", "json", "internal", /a body that is not a interop\.AddReply \(json\)/],
    ["list", "json", "internal", /an object expected/],
  ];
  for (const [reply, format, code, message] of cases) {
    const error = await connectError(call(reply, format));
    assert.equal(error.connectCode, code, reply);
    assert.match(error.message, message, reply);
  }
  // The call's media type with parameters is a reply like any other.
  assert.deepEqual(await call("proto"), { sum: 3 });
  assert.deepEqual(await call("json", "json"), { sum: 3 });
});
