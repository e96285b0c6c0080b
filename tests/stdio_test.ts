/**
 * The stdio transport with real processes: a parley server spawned over its
 * stdin and stdout (`fixtures/stdio_server.ts`), Python children speaking
 * JSON-RPC with the standard library only, children that crash, chatter on
 * stderr, ignore their stdin closing, or write garbage.
 *
 * Needs `python3` on the PATH. Every child is stopped by `await using`.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ConnectionClosedError, DecodeError, FrameSizeError, RpcError } from "../mod.ts";
import { contentLength } from "../rpc/framing/content_length.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import {
  ProcessExitError,
  spawnStdio,
  type SpawnStdioOptions,
  type StdioProcess,
} from "../rpc/transports/stdio.ts";
import { needs } from "./_needs.ts";

const REPO_ROOT = new URL("../", import.meta.url).pathname;
const SERVER = new URL("./fixtures/stdio_server.ts", import.meta.url).pathname;
const PYTHON = "python3";
// A safety net so that a broken test fails instead of hanging; not asserted on.
const TIMEOUT = 30_000;

/** Spawns the parley fixture server: JSON-RPC with Content-Length framing. */
function spawnServer(options: Partial<SpawnStdioOptions> = {}): StdioProcess {
  return spawnStdio(Deno.execPath(), {
    args: ["run", "--allow-env", SERVER],
    cwd: REPO_ROOT,
    codec: jsonRpc(),
    framing: contentLength(),
    stderr: "piped",
    timeout: TIMEOUT,
    ...options,
  });
}

/** Spawns `python3 -c script`, JSON-RPC with newline framing unless told otherwise. */
function spawnPython(script: string, options: Partial<SpawnStdioOptions> = {}): StdioProcess {
  return spawnStdio(PYTHON, {
    args: ["-c", script],
    codec: jsonRpc(),
    framing: newline(),
    stderr: "piped",
    timeout: TIMEOUT,
    ...options,
  });
}

/** Asserts that `promise` rejects with a ConnectionClosedError and returns its cause. */
async function closedCause(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(
    (value) => assert.fail(`expected a ConnectionClosedError, got ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );
  assert.ok(error instanceof ConnectionClosedError, `got ${error}`);
  return error.cause;
}

// A JSON-RPC 2.0 server on stdin/stdout, one message per line, that can call
// its client back ("ask" calls the client's "name" and waits for the answer).
const PYTHON_SERVER = String.raw`
import json, os, sys

notes = []

def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()

def read():
    line = sys.stdin.readline()
    return json.loads(line) if line else None

while True:
    message = read()
    if message is None:
        break
    method, params = message.get("method"), message.get("params", [])
    if "id" not in message:
        notes.append(params[0])
        continue
    reply = {"jsonrpc": "2.0", "id": message["id"]}
    if method == "add":
        reply["result"] = params[0] + params[1]
    elif method == "notes":
        reply["result"] = notes
    elif method == "env":
        reply["result"] = os.environ.get(params[0])
    elif method == "cwd":
        reply["result"] = os.getcwd()
    elif method == "ask":
        send({"jsonrpc": "2.0", "id": "callback-1", "method": "name", "params": []})
        answer = read()
        reply["result"] = "hello " + answer["result"]
    else:
        reply["error"] = {"code": -32601, "message": "Method not found: " + str(method)}
    send(reply)
`;

Deno.test("spawnStdio: a parley server over stdio answers calls, notifications and batches", async () => {
  await using server = spawnServer();
  assert.equal(await server.call("add", [1, 2]), 3);
  assert.equal(await server.call("pid"), server.pid);
  const text = 'line\nbreak {"json"} \r\n\r\n\u2713 Content-Length: 3';
  assert.equal(await server.call("echo", [text]), text);
  await server.notify("note", ["first"]);
  await server.notify("note", ["second"]);
  assert.deepEqual(await server.call("notes"), ["first", "second"]);
  const batch = await server.batch([
    { method: "add", params: [2, 2] },
    { method: "note", params: ["third"], notification: true },
    { method: "echo", params: ["x"] },
  ]);
  assert.deepEqual(batch.map((r) => r.status === "fulfilled" && r.value), [4, undefined, "x"]);
  const calc = server.proxy<{ add(a: number, b: number): number }>();
  assert.equal(await calc.add(20, 22), 42);
});

Deno.test("spawnStdio: concurrent calls over one child, slow and fast interleaved", async () => {
  await using server = spawnServer();
  const slow = server.call("sleep", [200]);
  const fast = await Promise.all(Array.from({ length: 300 }, (_, i) => server.call("add", [i, i])));
  assert.deepEqual(fast, Array.from({ length: 300 }, (_, i) => 2 * i));
  assert.equal(await slow, "slept");
  // Cancellation crosses the pipe: the handler sees its signal.
  const controller = new AbortController();
  const cancelled = server.call("sleep", [60_000], { signal: controller.signal });
  controller.abort(new Error("no longer needed"));
  await assert.rejects(cancelled, /no longer needed/);
  assert.equal(server.pending, 0);
});

Deno.test("spawnStdio: an error reply arrives as an RpcError and the child goes on", async () => {
  await using server = spawnServer();
  await assert.rejects(server.call("fail"), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, 42);
    assert.equal(error.message, "Deliberate failure");
    assert.deepEqual(error.data, { reason: "test" });
    return true;
  });
  await assert.rejects(server.call("nope"), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, -32601);
    return true;
  });
  assert.equal(await server.call("add", [1, 1]), 2);
});

Deno.test("spawnStdio: close() closes stdin and the server exits by itself", async () => {
  const server = spawnServer();
  try {
    assert.equal(await server.call("add", [1, 2]), 3);
  } finally {
    await server.close();
  }
  const status = await server.status;
  assert.equal(status.code, 0, server.stderr());
  assert.equal(status.signal, null);
  assert.match(server.stderr(), /stdin closed, exiting/);
  await assert.rejects(server.call("add", [1, 2]), ConnectionClosedError);
});

Deno.test("spawnStdio: a Python child speaking newline-delimited JSON-RPC", {
  ignore: needs("python3"),
}, async () => {
  await using child = spawnPython(PYTHON_SERVER, {
    service: { name: () => "parley" }, // the child calls this back
  });
  assert.equal(await child.call("add", [40, 2]), 42);
  await child.notify("note", ["from deno"]);
  assert.deepEqual(await child.call("notes"), ["from deno"]);
  assert.equal(await child.call("ask"), "hello parley");
  const sums = await Promise.all(Array.from({ length: 50 }, (_, i) => child.call("add", [i, 1])));
  assert.deepEqual(sums, Array.from({ length: 50 }, (_, i) => i + 1));
  await assert.rejects(child.call("missing"), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, -32601);
    return true;
  });
});

Deno.test(
  "spawnStdio: args, cwd, env and clearEnv reach the child",
  { ignore: needs("python3") },
  async () => {
    const cwd = await Deno.realPath(await Deno.makeTempDir());
    try {
      {
        await using child = spawnPython(PYTHON_SERVER, { cwd, env: { PARLEY_STDIO: "yes" } });
        assert.equal(await child.call("cwd"), cwd);
        assert.equal(await child.call("env", ["PARLEY_STDIO"]), "yes");
        assert.equal(await child.call("env", ["HOME"]), Deno.env.get("HOME") ?? null);
      }
      {
        await using child = spawnPython(PYTHON_SERVER, {
          clearEnv: true,
          env: { PARLEY_ONLY: "1", PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
        });
        assert.equal(await child.call("env", ["PARLEY_ONLY"]), "1");
        assert.equal(await child.call("env", ["HOME"]), null);
      }
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
);

Deno.test("spawnStdio: a child that exits mid-call rejects the pending calls with its exit code and stderr", async () => {
  await using server = spawnServer();
  assert.equal(await server.call("add", [1, 2]), 3); // started and serving
  const waiting = [server.call("sleep", [60_000]), server.call("sleep", [60_000])];
  const crash = server.call("crash", [3]);
  for (const call of [...waiting, crash]) {
    const cause = await closedCause(call);
    assert.ok(cause instanceof ProcessExitError, `cause: ${cause}`);
    assert.equal(cause.code, 3);
    assert.equal(cause.signal, null);
    assert.equal(cause.command, Deno.execPath());
    assert.match(cause.message, /^Process ".*" exited with code 3/);
    assert.match(cause.message, /the disk is on fire/);
    assert.match(cause.stderr ?? "", /fatal: the disk is on fire/);
  }
  await server.closed;
  assert.equal((await server.status).code, 3);
  assert.match(server.stderr(), /the disk is on fire/);
  await assert.rejects(server.call("add", [1, 2]), ConnectionClosedError);
});

Deno.test("spawnStdio: a Python child that exits on its own says so, stderr captured", {
  ignore: needs("python3"),
}, async () => {
  const script = String.raw`
import sys
sys.stdin.readline()
sys.stderr.write("Traceback: something broke\n")
sys.exit(3)
`;
  await using child = spawnPython(script);
  const cause = await closedCause(child.call("anything"));
  assert.ok(cause instanceof ProcessExitError);
  assert.equal(cause.message.split("\n")[0], 'Process "python3" exited with code 3; stderr:');
  assert.match(cause.message, /Traceback: something broke/);
  assert.equal(cause.stderr, "Traceback: something broke\n");
});

Deno.test(
  "spawnStdio: a child that exits without reading fails the calls written into a closed pipe",
  { ignore: needs("python3") },
  async () => {
    await using child = spawnPython("import sys; sys.exit(2)");
    const big = "x".repeat(100_000);
    const calls = Array.from({ length: 50 }, () => child.call("echo", [big]));
    for (const call of calls) {
      const cause = await closedCause(call);
      assert.ok(cause instanceof ProcessExitError, `cause: ${cause}`);
      assert.equal(cause.code, 2);
    }
    await child.closed;
  },
);

Deno.test("spawnStdio: a child that exits while a grandchild holds its stdout still ends the calls", async () => {
  // The shell reads the call's line first, then leaves a subshell that keeps
  // stdout open until its stdin (fd 3) closes, which close() does. (Reading in
  // this order matters: a subshell started first could take the line itself.)
  await using child = spawnStdio("sh", {
    args: ["-c", "exec 3<&0; read z; (read x <&3; read y <&3) & exit 4"],
    codec: jsonRpc(),
    framing: newline(),
    gracePeriod: 100,
  });
  const cause = await closedCause(child.call("anything"));
  assert.ok(cause instanceof ProcessExitError, `cause: ${cause}`);
  assert.equal(cause.message, 'Process "sh" exited with code 4');
  await child.closed;
});

Deno.test("spawnStdio: a child's clean exit and its unhandled notifications are not errors", {
  ignore: needs("python3"),
}, async () => {
  const errors: unknown[] = [];
  const notifications: [string, unknown][] = [];
  const script = String.raw`
import json, sys
sys.stdout.write(json.dumps({"jsonrpc": "2.0", "method": "window/logMessage", "params": {"message": "hi"}}) + "\n")
message = json.loads(sys.stdin.readline())
sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": "bye"}) + "\n")
sys.stdout.flush()
sys.exit(0)
`;
  await using child = spawnPython(script, {
    onError: (error) => errors.push(error),
    onNotification: (method, params) => notifications.push([method, params]),
  });
  assert.equal(await child.call("quit"), "bye");
  await child.closed;
  assert.deepEqual(notifications, [["window/logMessage", { message: "hi" }]]);
  assert.deepEqual(errors, []);
});

Deno.test("spawnStdio: with stderr inherited, the exit error has no stderr", {
  ignore: needs("python3"),
}, async () => {
  await using child = spawnPython("import sys; sys.stdin.readline(); sys.exit(5)", {
    stderr: "inherit",
  });
  const cause = await closedCause(child.call("anything"));
  assert.ok(cause instanceof ProcessExitError);
  assert.equal(cause.message, 'Process "python3" exited with code 5');
  assert.equal(cause.stderr, undefined);
  assert.equal(child.stderr(), "");
});

Deno.test("spawnStdio: captured stderr keeps only its last maxStderrSize bytes", {
  ignore: needs("python3"),
}, async () => {
  {
    await using server = spawnServer({ maxStderrSize: 4096 });
    assert.equal(await server.call("chatter", [200_000, "END-OF-CHATTER"]), 200_000);
    await server.close();
    const text = server.stderr();
    assert.ok(text.length <= 4096, `kept ${text.length} bytes`);
    assert.match(text, /xxxx\nEND-OF-CHATTER\n/);
    assert.match(text, /stdin closed, exiting\n$/);
  }
  {
    // The default cap: 64 KiB.
    await using server = spawnServer();
    await server.call("chatter", [300_000, "END"]);
    await server.close();
    const text = server.stderr();
    assert.ok(text.length <= 64 * 1024, `kept ${text.length} bytes`);
    assert.ok(text.length > 60 * 1024, `kept only ${text.length} bytes`);
  }
  {
    // A cut inside a multi-byte character drops the partial character.
    await using child = spawnPython(
      'import sys; sys.stderr.write("\\u00e9" * 100001); sys.stderr.flush(); sys.stdin.read()',
      { maxStderrSize: 1001 },
    );
    await child.close();
    assert.equal(child.stderr(), "\u00e9".repeat(500));
  }
});

Deno.test("spawnStdio: a child that ignores its stdin closing is terminated, then killed", {
  ignore: needs("python3"),
}, async () => {
  const ignoresEof = (ignoreTerm: boolean) =>
    String.raw`
import json, signal, sys, time
if ${ignoreTerm ? "True" : "False"}:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
message = json.loads(sys.stdin.readline())
print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": "ready"}), flush=True)
sys.stdin.read()
while True:
    time.sleep(1)
`;
  {
    await using child = spawnPython(ignoresEof(false), { gracePeriod: 100 });
    assert.equal(await child.call("ready"), "ready");
    await child.close();
    assert.equal((await child.status).signal, "SIGTERM");
  }
  {
    await using child = spawnPython(ignoresEof(true), { gracePeriod: 100 });
    assert.equal(await child.call("ready"), "ready"); // SIGTERM is ignored from here on
    await child.close();
    assert.equal((await child.status).signal, "SIGKILL");
  }
});

Deno.test("spawnStdio: garbage on the child's stdout closes the peer with a clear error", {
  ignore: needs("python3"),
}, async () => {
  const garbage = (bytes: string) =>
    String.raw`
import sys
sys.stdin.buffer.readline()
sys.stdout.buffer.write(${JSON.stringify(bytes)}.encode("latin-1"))
sys.stdout.buffer.flush()
sys.stdin.buffer.read()
`;
  const cases: [string, string, (cause: unknown) => void][] = [
    ["a header line without a colon", "HTTP/1.1 200 OK\r\nServer: nope\r\n\r\n", (cause) => {
      assert.ok(cause instanceof DecodeError, `cause: ${cause}`);
      assert.match(cause.message, /malformed header line "HTTP\/1.1 200 OK"/);
    }],
    ["a length over the limit", "Content-Length: 99999999999\r\n\r\n", (cause) => {
      assert.ok(cause instanceof FrameSizeError, `cause: ${cause}`);
    }],
    ["binary noise", "\x00\xff\xfe\r\n\r\n", (cause) => {
      assert.ok(cause instanceof DecodeError, `cause: ${cause}`);
    }],
  ];
  for (const [name, bytes, check] of cases) {
    const errors: unknown[] = [];
    await using child = spawnPython(garbage(bytes), {
      framing: contentLength({ maxFrameSize: 1024 }),
      onError: (error) => errors.push(error),
    });
    const cause = await closedCause(child.call("anything", [1]));
    check(cause);
    assert.ok(errors.includes(cause), name);
    await child.closed;
    // Closing its stdin let it finish normally.
    assert.equal((await child.status).code, 0, `${name}: ${child.stderr()}`);
  }
});

Deno.test("spawnStdio: a command that does not exist throws at once", () => {
  assert.throws(
    () =>
      spawnStdio("./no-such-command-parley", {
        codec: jsonRpc(),
        framing: newline(),
      }),
    Deno.errors.NotFound,
  );
});
