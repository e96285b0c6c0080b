// Typed per-connection context, connection details and principals, over
// real TCP, Unix and HTTP servers.

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectionOf, principalOf, typedContext } from "../rpc/connection.ts";
import type { Interceptor } from "../rpc/interceptors.ts";
import { connectHttp, connectWebSocket, serveHttp } from "../rpc/transports/http.ts";
import { withContext } from "../rpc/service.ts";
import { forwardedCertificate } from "../rpc/forwarded_certificate.ts";
import { loadProto, protoService } from "../codecs/protobuf.ts";
import { connectClient, connectHandler } from "../protocols/connect.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { spawnStdio } from "../rpc/transports/stdio.ts";

const options = { codec: jsonRpc(), framing: newline() };

Deno.test("serveTcp builds the context once per connection and every call sees it", async () => {
  const app = typedContext<{ n: number; client: string }>();
  let built = 0;
  const errors: unknown[] = [];
  await using server = serveTcp({ port: 0 }, {
    ...options,
    onError: (error) => errors.push(error),
    context: app.build((connection) => {
      const remote = connection.remoteAddr as { hostname: string; port: number };
      return { n: ++built, client: `${connection.transport}:${remote.hostname}` };
    }),
    service: {
      who: app.handler((context, suffix: string) => `${context.client}#${context.n}${suffix}`),
      local: withContext((ctx) => connectionOf(ctx)?.localAddr),
    },
  });
  await using a = await connectTcp(server.address, options);
  await using b = await connectTcp(server.address, options);
  const first = await Promise.all([a.call("who", ["!"]), a.call("who", ["?"])]);
  assert.deepEqual(first, ["tcp:127.0.0.1#1!", "tcp:127.0.0.1#1?"]);
  assert.equal(await b.call("who", [""]), "tcp:127.0.0.1#2");
  assert.equal(await a.call("who", [""]), "tcp:127.0.0.1#1");
  assert.equal(built, 2);
  assert.deepEqual(await a.call("local", []), {
    hostname: "127.0.0.1",
    port: (server.address as { port: number }).port,
  });
  assert.deepEqual(errors, []);
});

Deno.test("serveTcp refuses a connection whose context throws, and tells onError why", async () => {
  const errors: Error[] = [];
  await using server = serveTcp({ port: 0 }, {
    ...options,
    onError: (error) => errors.push(error as Error),
    context: () => {
      throw new Error("not on the allow-list");
    },
    service: { hi: () => "hi" },
  });
  await using client = await connectTcp(server.address, options);
  // The client is told why: the closing's cause is the server's error under id null.
  const error = await client.call("hi", [], { timeout: 5_000 }).then(() => undefined, (e) => e);
  assert.equal(error?.name, "ConnectionClosedError");
  assert.equal(error.cause?.code, -32001);
  assert.equal(error.cause?.message, "Connection refused: not on the allow-list");
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /refused by context: not on the allow-list/);
});

Deno.test("serveTcp over a Unix socket tells the handler its path", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/s.sock`;
  try {
    await using server = serveTcp({ transport: "unix", path }, {
      ...options,
      service: { where: withContext((ctx) => connectionOf(ctx)) },
    });
    await using client = await connectTcp(server.address, options);
    const seen = await client.call("where", []) as { transport: string; localAddr: unknown };
    assert.equal(seen.transport, "unix");
    assert.deepEqual(seen.localAddr, { path });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Deno's WebSocket sends handshake headers given as { headers }.
function withAuthorization(authorization: string): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string | URL) {
      super(url, { headers: { authorization } });
    }
  };
}

interface User {
  readonly name: string;
  readonly admin: boolean;
}

const users: Record<string, User> = {
  "Bearer alice": { name: "alice", admin: true },
  "Bearer bob": { name: "bob", admin: false },
};

Deno.test("serveHttp: authenticate's principal reaches handlers and interceptors, POST and WebSocket", async () => {
  const seenByInterceptor: unknown[] = [];
  const audit: Interceptor = (next) => (call) => {
    if (call.context !== undefined) seenByInterceptor.push(principalOf<User>(call.context)?.name);
    return next(call);
  };
  await using server = serveHttp({
    authenticate: (request) => users[request.headers.get("authorization") ?? ""] ?? null,
    routes: {
      "/rpc": {
        codec: jsonRpc(),
        interceptors: [audit],
        websocket: true,
        service: {
          me: withContext((ctx) => {
            const connection = connectionOf(ctx)!;
            return { user: principalOf<User>(ctx)?.name, transport: connection.transport };
          }),
        },
      },
    },
  });
  await using alice = connectHttp(`${server.url}/rpc`, {
    codec: jsonRpc(),
    headers: { authorization: "Bearer alice" },
  });
  assert.deepEqual(await alice.call("me", []), { user: "alice", transport: "http" });
  await using anonymous = connectHttp(`${server.url}/rpc`, { codec: jsonRpc() });
  await assert.rejects(anonymous.call("me", []), { name: "HttpError", status: 401 });
  await using bob = await connectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
    codec: jsonRpc(),
    WebSocket: withAuthorization("Bearer bob"),
  });
  assert.deepEqual(await bob.call("me", []), { user: "bob", transport: "websocket" });
  assert.deepEqual(seenByInterceptor, ["alice", "bob"]);
});

Deno.test("serveHttp: the typed context is built per POST and once per WebSocket; a refusing context answers 401 or 403", async () => {
  const app = typedContext<{ user: User; port: number }>();
  let built = 0;
  const errors: unknown[] = [];
  await using server = serveHttp({
    onError: (error) => errors.push(error),
    routes: {
      "/rpc": {
        codec: jsonRpc(),
        websocket: true,
        context: app.build((connection, request) => {
          built++;
          const user = users[request?.headers.get("authorization") ?? ""];
          if (user === undefined) throw new Error("unknown token");
          if (!user.admin) throw Object.assign(new Error("admins only"), { status: 403 });
          return { user, port: (connection.remoteAddr as { port: number }).port };
        }),
        service: { whoami: app.handler((context) => [context.user.name, context.port > 0]) },
      },
    },
  });
  const url = `${server.url}/rpc`;
  await using alice = connectHttp(url, {
    codec: jsonRpc(),
    headers: { authorization: "Bearer alice" },
  });
  assert.deepEqual(await alice.call("whoami", []), ["alice", true]);
  assert.deepEqual(await alice.call("whoami", []), ["alice", true]);
  assert.equal(built, 2);
  await using bob = connectHttp(url, {
    codec: jsonRpc(),
    headers: { authorization: "Bearer bob" },
  });
  await assert.rejects(bob.call("whoami", []), { name: "HttpError", status: 403 });
  await using nobody = connectHttp(url, { codec: jsonRpc() });
  await assert.rejects(nobody.call("whoami", []), { name: "HttpError", status: 401 });
  built = 0;
  await using ws = await connectWebSocket(url.replace("http", "ws"), {
    codec: jsonRpc(),
    WebSocket: withAuthorization("Bearer alice"),
  });
  for (let i = 0; i < 3; i++) assert.deepEqual(await ws.call("whoami", []), ["alice", true]);
  assert.equal(built, 1);
  await assert.rejects(
    connectWebSocket(url.replace("http", "ws"), {
      codec: jsonRpc(),
      WebSocket: withAuthorization("Bearer bob"),
    }),
  );
  assert.deepEqual(errors.map((e) => (e as Error).message), [
    "admins only",
    "unknown token",
    "admins only",
  ]);
});

Deno.test("serveHttp behind a mutual-TLS proxy: the forwarded certificate is believed only from a trusted proxy", async () => {
  const app = typedContext<{ cn: string }>();
  const serve = (trustedProxies: string[]) =>
    serveHttp({
      routes: {
        "/rpc": {
          codec: jsonRpc(),
          context: app.build((connection, request) => {
            const cert = forwardedCertificate(connection, request, { trustedProxies });
            if (cert?.commonName === undefined) throw new Error("no verified client certificate");
            return { cn: cert.commonName };
          }),
          service: { cn: app.handler((context) => context.cn) },
        },
      },
    });
  const headers = {
    "x-forwarded-client-cert":
      'By=spiffe://proxy;Hash=1f2e;Subject="CN=spoof",By=spiffe://edge;Hash=ab12;Subject="CN=alice,O=Example";URI=spiffe://parley.test/alice',
  };
  {
    await using server = serve(["127.0.0.1"]);
    await using client = connectHttp(`${server.url}/rpc`, { codec: jsonRpc(), headers });
    assert.equal(await client.call("cn", []), "alice");
  }
  {
    await using server = serve(["192.0.2.1"]);
    await using client = connectHttp(`${server.url}/rpc`, { codec: jsonRpc(), headers });
    await assert.rejects(client.call("cn", []), { name: "HttpError", status: 401 });
  }
});

Deno.test("serveHttp handlers: authenticate's principal reaches connectHandler's handlers, unary and streaming", async () => {
  const greeter = await loadProto(`
    syntax = "proto3";
    package demo;
    message Name { string name = 1; }
    service Greeter {
      rpc Greet(Name) returns (Name);
      rpc Chorus(Name) returns (stream Name);
    }
  `);
  const userOf = (ctx: Parameters<typeof principalOf>[0]) => principalOf<User>(ctx)?.name ?? "?";
  await using server = serveHttp({
    routes: {},
    authenticate: (request) => users[request.headers.get("authorization") ?? ""] ?? false,
    handlers: {
      "/": connectHandler({
        schema: greeter,
        service: protoService(greeter, "demo.Greeter", {
          Greet: withContext((ctx, { name }: { name: string }) => ({
            name: `${name} by ${userOf(ctx)}`,
          })),
          Chorus: withContext((ctx, { name }: { name: string }) =>
            (async function* () {
              yield { name: `${name} by ${userOf(ctx)}` };
            })()
          ),
        }),
      }),
    },
  });
  await using client = connectClient(server.url, {
    schema: greeter,
    headers: { authorization: "Bearer alice" },
  });
  assert.deepEqual(await client.call("demo.Greeter/Greet", { name: "hi" }), {
    name: "hi by alice",
  });
  const chorus = client.openStream("demo.Greeter/Chorus", { name: "la" });
  assert.deepEqual(await Array.fromAsync(chorus.messages), [{ name: "la by alice" }]);
  await chorus.result;
  await using stranger = connectClient(server.url, { schema: greeter });
  await assert.rejects(stranger.call("demo.Greeter/Greet", { name: "hi" }));
});

Deno.test("serveStdio tells its handlers the transport is stdio", async () => {
  const script = `
    import { serveStdio } from "${import.meta.resolve("../rpc/transports/stdio.ts")}";
    import { jsonRpc } from "${import.meta.resolve("../codecs/json_rpc.ts")}";
    import { newline } from "${import.meta.resolve("../rpc/framing/delimiter.ts")}";
    import { connectionOf } from "${import.meta.resolve("../rpc/connection.ts")}";
    import { withContext } from "${import.meta.resolve("../rpc/service.ts")}";
    const service = { where: withContext((ctx) => connectionOf(ctx)) };
    await serveStdio({ codec: jsonRpc(), framing: newline(), service }).finished;
  `;
  await using child = spawnStdio(Deno.execPath(), { args: ["eval", script], ...options });
  assert.deepEqual(await child.call("where", [], { timeout: 30_000 }), { transport: "stdio" });
});
