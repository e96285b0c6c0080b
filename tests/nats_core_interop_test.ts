/**
 * parley's own NATS client and nats.js on one real nats-server, both ways:
 * messages with headers, and natsClient on one kind of connection calling
 * serveNats on the other, for JSON-RPC and msgpack-rpc, with metadata, a
 * deadline, no responders and an interceptor's metadata.
 */

import assert from "node:assert/strict";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { type Interceptor, TimeoutError, withContext } from "../mod.ts";
import { callMetadata } from "../rpc/call_metadata.ts";
import {
  connectNats,
  connectNatsCore,
  DEADLINE_HEADER,
  natsClient,
  type NatsConnectionLike,
  type NatsCoreMessage,
  type NatsMessage,
  NoRespondersError,
  serveNats,
} from "../rpc/transports/nats.ts";
import type { Codec } from "../rpc/types.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { rejection } from "./_rejection.ts";
import { until } from "./_nats_core.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("nats-server");

test("nats core ↔ nats.js: messages with headers, each way", async () => {
  await using nats = await startNatsServer();
  const core = await connectNatsCore(nats.url);
  const js = await connectNats(nats.url);
  const toJs: NatsMessage[] = [];
  const toCore: NatsMessage[] = [];
  js.subscribe("to.js", { callback: (_, msg) => toJs.push(msg) });
  core.subscribe("to.core", { callback: (_, msg) => toCore.push(msg) });
  await Promise.all([js.flush(), core.flush()]);

  core.publish("to.js", "from core é", { headers: { "Trace-Id": "c1", "X-Two": "2" } });
  core.publish("to.js", new Uint8Array([0, 255]), { reply: "back.here" });
  const h = natsHeaders();
  h.append("Trace-Id", "j1");
  h.append("X-Many", "a");
  h.append("X-Many", "b");
  js.publish("to.core", "from nats.js ✓", { headers: h, reply: "reply.there" });
  js.publish("to.core", new Uint8Array([1, 2, 3]));
  await until(() => toJs.length === 2 && toCore.length === 2, "both ways");

  assert.equal(new TextDecoder().decode(toJs[0]!.data), "from core é");
  assert.equal(toJs[0]!.headers?.get("Trace-Id"), "c1");
  assert.equal(toJs[0]!.headers?.get("X-Two"), "2");
  assert.deepEqual([...toJs[1]!.data], [0, 255]); // nats.js gives a Buffer
  assert.equal(toJs[1]!.reply, "back.here");
  assert.equal(toJs[1]!.headers, undefined);

  const fromJs = toCore[0] as NatsCoreMessage;
  assert.equal(fromJs.text(), "from nats.js ✓");
  assert.equal(fromJs.reply, "reply.there");
  assert.equal(fromJs.headers?.get("Trace-Id"), "j1");
  assert.deepEqual(fromJs.headers?.values("X-Many"), ["a", "b"]);
  assert.deepEqual([...toCore[1]!.data], [1, 2, 3]);
  await Promise.all([core.drain(), js.drain()]);
});

const kinds = {
  core: (url: string) => connectNatsCore(url) as Promise<NatsConnectionLike>,
  "nats.js": (url: string) => connectNats(url),
};
const codecs: Record<string, () => Codec> = { jsonRpc, msgpackRpc };

for (const [clientKind, clientConnect] of Object.entries(kinds)) {
  for (const [workerKind, workerConnect] of Object.entries(kinds)) {
    if (clientKind === workerKind) continue;
    for (const [codecName, codec] of Object.entries(codecs)) {
      test(`nats core interop: natsClient on ${clientKind} → serveNats on ${workerKind}, ${codecName}`, async () => {
        await using nats = await startNatsServer();
        const clientSide = await clientConnect(nats.url);
        const workerSide = await workerConnect(nats.url);
        const aborted = Promise.withResolvers<void>();
        // The server's interceptor sees what the client's interceptor left.
        const seenByInterceptor: (string | null)[] = [];
        const serverSide: Interceptor = (next) => (call) => {
          seenByInterceptor.push(call.metadata.get("x-from-interceptor"));
          return next(call);
        };
        const worker = serveNats({
          connection: workerSide,
          subject: "calc",
          codec: codec(),
          interceptors: [serverSide],
          service: {
            add: (a: number, b: number) => a + b,
            echo: (text: string) => text,
            meta: withContext((ctx) => {
              const metadata = callMetadata(ctx)!;
              return [
                metadata.request.get("x-tag"),
                metadata.request.get("x-from-interceptor"),
                Number(metadata.request.get(DEADLINE_HEADER)) > Date.now(),
              ];
            }),
            hang: withContext((ctx) =>
              new Promise((_, reject) => {
                ctx.signal.addEventListener("abort", () => {
                  aborted.resolve();
                  reject(ctx.signal.reason);
                });
              })
            ),
          },
        });
        await worker.ready;
        const clientSideInterceptor: Interceptor = (next) => (call) => {
          call.metadata.set("x-from-interceptor", `set on ${clientKind}`);
          return next(call);
        };
        const client = natsClient({
          connection: clientSide,
          subject: "calc",
          codec: codec(),
          timeout: 5_000,
          interceptors: [clientSideInterceptor],
        });
        assert.equal(await client.call("add", [40, 2]), 42);
        assert.equal(await client.call("echo", ["ünïcødé ✓"]), "ünïcødé ✓");
        assert.deepEqual(await client.call("meta", [], { headers: { "x-tag": "t1" } }), [
          "t1",
          `set on ${clientKind}`,
          true,
        ]);
        assert.ok(seenByInterceptor.every((v) => v === `set on ${clientKind}`));
        assert.equal(seenByInterceptor.length, 3);
        // The deadline passes: the caller gets TimeoutError, the handler its abort.
        await rejection(client.call("hang", [], { timeout: 200 }), TimeoutError);
        await aborted.promise;
        // Nobody serves this subject.
        const nobody = natsClient({ connection: clientSide, subject: "nobody", codec: codec() });
        const error = await rejection(nobody.call("add", [1, 2]), NoRespondersError);
        assert.equal(error.subject, "nobody");
        await worker.drain();
        await Promise.all([clientSide.drain(), workerSide.drain()]);
      });
    }
  }
}

test("nats core interop: a reply from the core worker to a nats.js request()", async () => {
  await using nats = await startNatsServer();
  const core = await connectNatsCore(nats.url);
  const js = await connectNats(nats.url);
  core.subscribe("svc", {
    callback: (_, msg) => msg.respond(`${msg.text()}|${msg.headers?.get("k") ?? ""}`),
  });
  await core.flush();
  const h = natsHeaders();
  h.set("k", "v");
  const raw = js as unknown as {
    request(s: string, p: string, o: object): Promise<{ data: Uint8Array }>;
  };
  const answer = await raw.request("svc", "ping", { timeout: 5_000, headers: h });
  assert.equal(new TextDecoder().decode(answer.data), "ping|v");
  await Promise.all([core.drain(), js.drain()]);
});
