/**
 * Retries observed against a real server killed (SIGKILL) and started again
 * in the middle of a load, over TCP, WebSocket and a stdio child (respawned):
 * every idempotent `get` succeeds in the end; each non-idempotent
 * `increment` succeeds exactly once or fails with a ConnectionClosedError
 * that names it; and the server's own log of the increments it ran proves
 * that none ran twice. Bounded in calls and in time; no timing assertions.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ConnectionClosedError } from "../rpc/errors.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import type { ReconnectingClient } from "../rpc/reconnect.ts";
import type { RetryPolicy } from "../rpc/retry.ts";
import { respawnStdio } from "../rpc/transports/stdio.ts";
import { reconnectTcp } from "../rpc/transports/tcp.ts";
import { reconnectWebSocket } from "../rpc/transports/websocket.ts";
import { type ListeningProcess, REPO_ROOT, spawnListening } from "./interop/_process.ts";

const GETS = 300;
const INCREMENTS = 150;
const GET_WORKERS = 4;
const INCREMENT_WORKERS = 2;
// Kills after this many calls have ended, and again after twice as many.
const KILL_AFTER = 100;
const TIMEOUT = 30_000;
const FIXTURE = "tests/fixtures/counter_server.ts";
// Counts the gets sent again: some meet a drop and go again.
let getRetries = 0;
const policy: RetryPolicy = {
  initialDelay: 20,
  maxDelay: 200,
  idempotent: ["get"],
  maxCallAttempts: 50,
  onRetry: ({ method }) => void (method === "get" && getRetries++),
};

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3_000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), `${what}: not within 30 s`);
}

function serverArgs(kind: string, log: string, port?: number): string[] {
  return [
    "run",
    "--allow-net=127.0.0.1",
    `--allow-write=${log}`,
    "--allow-env=WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE",
    FIXTURE,
    kind,
    log,
    ...(port === undefined ? [] : [String(port)]),
  ];
}

// The same port again: bound at once, or after the old one's sockets are gone (a few tries).
async function restart(kind: string, log: string, port: number): Promise<ListeningProcess> {
  let last: unknown;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      return await spawnListening(Deno.execPath(), { args: serverArgs(kind, log, port) });
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`could not start the server again on port ${port}`, { cause: last });
}

interface Outcome {
  readonly gets: PromiseSettledResult<unknown>[];
  readonly increments: { id: number; outcome: PromiseSettledResult<unknown> }[];
}

// Runs the bounded load; `kill` is called twice while it runs, and awaited.
async function load(client: ReconnectingClient, kill: () => Promise<void>): Promise<Outcome> {
  getRetries = 0;
  const gets: PromiseSettledResult<unknown>[] = [];
  const increments: Outcome["increments"] = [];
  let ended = 0;
  let nextGet = 0;
  let nextIncrement = 0;
  const settle = async (call: Promise<unknown>) => {
    const outcome = await call.then(
      (value) => ({ status: "fulfilled" as const, value }),
      (reason: unknown) => ({ status: "rejected" as const, reason }),
    );
    ended++;
    return outcome;
  };
  const getters = Array.from({ length: GET_WORKERS }, async () => {
    while (nextGet++ < GETS) gets.push(await settle(client.call("get", [], { timeout: TIMEOUT })));
  });
  const incrementers = Array.from({ length: INCREMENT_WORKERS }, async () => {
    for (let id = nextIncrement++; id < INCREMENTS; id = nextIncrement++) {
      const outcome = await settle(client.call("increment", [id], { timeout: TIMEOUT }));
      increments.push({ id, outcome });
    }
  });
  const killer = (async () => {
    for (const after of [KILL_AFTER, 2 * KILL_AFTER]) {
      await until(() => ended >= after, `${after} calls ended`);
      await kill();
    }
  })();
  await Promise.all([...getters, ...incrementers, killer]);
  return { gets, increments };
}

async function check(outcome: Outcome, log: string, client: ReconnectingClient): Promise<void> {
  assert.equal(outcome.gets.length, GETS);
  // Four gets are always in flight, so each kill drops some: they were sent again.
  assert.ok(getRetries > 0, `gets sent again: ${getRetries}`);
  for (const get of outcome.gets) {
    assert.equal(
      get.status,
      "fulfilled",
      `a get failed: ${get.status === "rejected" && get.reason}`,
    );
  }
  assert.equal(outcome.increments.length, INCREMENTS);
  const ran = (await Deno.readTextFile(log)).split("\n").filter((line) => line !== "").map(Number);
  const once = new Set(ran);
  assert.equal(once.size, ran.length, `an increment ran twice: ${ran.sort((a, b) => a - b)}`);
  let failed = 0;
  for (const { id, outcome: result } of outcome.increments) {
    if (result.status === "fulfilled") {
      assert.equal(result.value, id);
      assert.ok(once.has(id), `increment ${id} answered but not in the server's log`);
    } else {
      failed++;
      const error = result.reason;
      assert.ok(error instanceof ConnectionClosedError, `increment ${id}: ${error}`);
      assert.match(error.message, /dropped before "increment" was answered/);
      assert.ok(error.cause instanceof ConnectionClosedError);
    }
  }
  for (const id of once) assert.ok(id >= 0 && id < INCREMENTS, `unknown increment ${id}`);
  // Two kills, and each reconnection seen by the client.
  assert.ok(client.connections >= 3, `connections: ${client.connections}`);
  console.log(
    `  ${client.connections} connections; ${getRetries} gets sent again; ${failed} increments failed at a drop, ${
      ran.length - (INCREMENTS - failed)
    } of them had run`,
  );
}

Deno.test("retry over TCP: a server killed twice and restarted mid-load", async () => {
  const log = await Deno.makeTempFile({ prefix: "parley-retry-tcp-" });
  let server = await spawnListening(Deno.execPath(), { args: serverArgs("tcp", log) });
  try {
    const port = server.port;
    await using client = await reconnectTcp({ hostname: "127.0.0.1", port }, {
      codec: jsonRpc(),
      framing: newline(),
      retry: policy,
    });
    const outcome = await load(client, async () => {
      await server.stop("SIGKILL");
      server = await restart("tcp", log, port);
    });
    await check(outcome, log, client);
  } finally {
    await server.stop("SIGKILL");
    await Deno.remove(log);
  }
});

Deno.test("retry over WebSocket: a server killed twice and restarted mid-load", async () => {
  const log = await Deno.makeTempFile({ prefix: "parley-retry-ws-" });
  let server = await spawnListening(Deno.execPath(), { args: serverArgs("ws", log) });
  try {
    const port = server.port;
    await using client = await reconnectWebSocket(server.url, {
      codec: jsonRpc(),
      retry: policy,
    });
    const outcome = await load(client, async () => {
      await server.stop("SIGKILL");
      server = await restart("ws", log, port);
    });
    await check(outcome, log, client);
  } finally {
    await server.stop("SIGKILL");
    await Deno.remove(log);
  }
});

Deno.test("retry over stdio: a child killed twice mid-load is respawned", async () => {
  const log = await Deno.makeTempFile({ prefix: "parley-retry-stdio-" });
  const children: number[] = [];
  try {
    await using client = respawnStdio(Deno.execPath(), {
      args: serverArgs("stdio", log),
      cwd: REPO_ROOT,
      codec: jsonRpc(),
      framing: newline(),
      retry: policy,
      onConnect: (child) => children.push(child.pid),
    });
    const outcome = await load(client, async () => {
      const before = children.length;
      Deno.kill(children.at(-1)!, "SIGKILL");
      await until(() => children.length > before, "a new child");
    });
    await check(outcome, log, client);
    assert.equal(new Set(children).size, children.length);
  } finally {
    await Deno.remove(log);
  }
});
