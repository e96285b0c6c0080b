/**
 * natsClient takes the same RetryPolicy as the stream clients, over a real
 * nats-server: a worker at its `maxInFlight` answers `ServerBusy`; an
 * idempotent call is sent again with backoff until the worker has room, a
 * non-idempotent one fails at once, and the older `idempotent`/`attempts`
 * options still mean the same.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ErrorCode, RpcError } from "../rpc/errors.ts";
import { connectNats, natsClient, serveNats } from "../rpc/transports/nats.ts";
import type { NatsConnectionLike } from "../rpc/transports/nats/_wire.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("nats-server");

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), `${what}: not within 10 s`);
}

function assertBusy(error: unknown): true {
  assert.ok(error instanceof RpcError, `${error}`);
  assert.equal(error.code, ErrorCode.ServerBusy);
  return true;
}

test("natsClient: a busy worker's refusal is retried for idempotent calls only", async () => {
  await using nats = await startNatsServer();
  const nc = await connectNats(nats.url);
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const ran: string[] = [];
  const worker = serveNats({
    connection: nc,
    subject: "busy",
    codec: jsonRpc(),
    limits: { maxInFlight: 1 },
    service: {
      hold: () => held.then(() => "released"),
      get: () => (ran.push("get"), "got"),
      put: () => (ran.push("put"), "put"),
    },
  });
  await worker.ready;
  // The requests the client sends, counted on their way to the real connection.
  const requests = new Map<string, number>();
  const counted = new Proxy(nc, {
    get(target, key) {
      if (key === "publish") {
        return (subject: string, payload: Uint8Array | string, options: { reply?: string }) => {
          const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
          const method = /"method":"(\w+)"/.exec(text)?.[1] ?? "";
          requests.set(method, (requests.get(method) ?? 0) + 1);
          return target.publish(subject, payload, options);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as NatsConnectionLike;
  const policy = { initialDelay: 5, maxDelay: 20, idempotent: ["get"], maxCallAttempts: 1_000 };
  const client = natsClient({
    connection: counted,
    subject: "busy",
    codec: jsonRpc(),
    timeout: 10_000,
    retry: policy,
  });
  const holding = client.call("hold");
  await until(() => worker.served === 0 && (requests.get("hold") ?? 0) === 1, "hold sent");
  await assert.rejects(client.call("put"), assertBusy);
  assert.equal(requests.get("put"), 1);
  // The older names: idempotent and attempts, one try here.
  const old = natsClient({
    connection: nc,
    subject: "busy",
    codec: jsonRpc(),
    idempotent: ["get"],
    attempts: 1,
  });
  await assert.rejects(old.call("get"), assertBusy);
  // The per-call override: not retried.
  await assert.rejects(client.call("get", [], { idempotent: false }), assertBusy);
  assert.equal(requests.get("get"), 1);

  const got = client.call("get");
  await until(() => (requests.get("get") ?? 0) >= 4, "get refused and sent again");
  release();
  assert.equal(await holding, "released");
  assert.equal(await got, "got");
  assert.deepEqual(ran, ["get"]);
  await client.close();
  await old.close();
  await worker.drain();
  await nc.drain();
});
