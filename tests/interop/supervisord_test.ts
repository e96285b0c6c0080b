/**
 * supervisord's XML-RPC interface over its Unix socket (its default, what
 * `supervisorctl` talks to): HTTP over a Unix socket, called by parley's
 * HTTP client (both `http+unix://` forms) and by the command line (`call`,
 * and `list`, which reads supervisord's flat `system.methodSignature`).
 *
 * Each test starts its own supervisord (Debian's `supervisor` package) from a
 * minimal configuration in a temp directory, waits for its "supervisord
 * started with pid" line, and stops it with SIGTERM by its pid.
 */

import assert from "node:assert/strict";
import { xmlRpc } from "../../codecs/xml_rpc.ts";
import { RpcError } from "../../mod.ts";
import { connectHttp } from "../../rpc/transports/http.ts";
import { formatOutput, run } from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("supervisord");

/** A running supervisord and where its socket is. */
interface Supervisord extends AsyncDisposable {
  readonly pid: number;
  readonly socket: string;
  /** What it logged so far. */
  log(): string;
}

const STARTED = /supervisord started with pid (\d+)/;

async function startSupervisord(): Promise<Supervisord> {
  const dir = await Deno.makeTempDir({ prefix: "parley-supervisord-" });
  const socket = `${dir}/supervisor.sock`;
  await Deno.writeTextFile(
    `${dir}/supervisord.conf`,
    `[unix_http_server]
file=${socket}

[supervisord]
nodaemon=true
logfile=${dir}/supervisord.log
pidfile=${dir}/supervisord.pid
childlogdir=${dir}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${socket}
`,
  );
  const child = new Deno.Command("supervisord", {
    args: ["-c", `${dir}/supervisord.conf`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // It logs to stdout with nodaemon; stderr is kept for failures.
  let log = "";
  const started = Promise.withResolvers<number>();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      log += text;
      const match = STARTED.exec(log);
      if (match) started.resolve(Number(match[1]));
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Exited already.
    }
    await child.status;
    await drained;
    await Deno.remove(dir, { recursive: true });
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const pid = await Promise.race([
      started.promise,
      child.status.then((status) => {
        throw new Error(`supervisord exited (code ${status.code}) before it started:\n${log}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`supervisord did not start:\n${log}`)), 30_000);
      }),
    ]);
    assert.equal(pid, child.pid);
    return { pid, socket, log: () => log, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

const CLI = ["task", "rpc"];

test("parley's HTTP client calls supervisord over its Unix socket, in both URL forms", async () => {
  await using supervisord = await startSupervisord();
  for (
    const url of [
      `http+unix://${encodeURIComponent(supervisord.socket)}/RPC2`,
      `http+unix://${supervisord.socket}:/RPC2`,
    ]
  ) {
    await using client = connectHttp(url, { codec: xmlRpc(), timeout: 30_000 });
    assert.deepEqual(await client.call("supervisor.getState"), {
      statecode: 1,
      statename: "RUNNING",
    });
    assert.equal(await client.call("supervisor.getPID"), supervisord.pid);
    const methods = await client.call<string[]>("system.listMethods");
    for (const name of ["supervisor.getState", "supervisor.getProcessInfo", "system.multicall"]) {
      assert.ok(methods.includes(name), `${name} in ${methods}`);
    }
    // supervisord answers one signature as a flat list of type names.
    assert.deepEqual(await client.call("system.methodSignature", ["supervisor.getState"]), [
      "struct",
    ]);
    assert.deepEqual(await client.call("supervisor.getAllProcessInfo"), []);
    // Its faults arrive with their codes (10: BAD_NAME), and the client goes on.
    await assert.rejects(
      client.call("supervisor.getProcessInfo", ["nope"]),
      (e: unknown) => e instanceof RpcError && e.code === 10 && /BAD_NAME/.test(e.message),
    );
    // supervisord's own multicall puts each result in its slot unwrapped.
    assert.deepEqual(
      await client.call("system.multicall", [[
        { methodName: "supervisor.getAPIVersion", params: [] },
        { methodName: "supervisor.getIdentification", params: [] },
      ]]),
      ["3.0", "supervisor"],
    );
  }
});

test("parley call and list reach supervisord over http+unix://, with real signatures", async () => {
  await using supervisord = await startSupervisord();
  const called = await run(Deno.execPath(), {
    args: [
      ...CLI,
      "call",
      `http+unix://${supervisord.socket}:/RPC2`,
      "--codec",
      "xmlrpc",
      "--json",
      "supervisor.getState",
    ],
  });
  assert.equal(called.code, 0, formatOutput(called) + supervisord.log());
  assert.deepEqual(JSON.parse(called.stdout), { statecode: 1, statename: "RUNNING" });

  const listed = await run(Deno.execPath(), {
    args: [
      ...CLI,
      "list",
      `http+unix://${encodeURIComponent(supervisord.socket)}/RPC2`,
      "--codec",
      "xmlrpc",
    ],
  });
  assert.equal(listed.code, 0, formatOutput(listed) + supervisord.log());
  const lines = listed.stdout.split("\n").filter((line) => /^\S+\(.*\) → /.test(line));
  assert.ok(lines.length >= 30, listed.stdout);
  assert.ok(lines.includes("supervisor.getState() → struct"), listed.stdout);
  assert.ok(lines.includes("supervisor.getProcessInfo(string) → struct"), listed.stdout);
  assert.ok(lines.includes("supervisor.stopProcess(string, boolean) → boolean"), listed.stdout);
  assert.ok(!lines.some((line) => line.includes("(...) → any")), listed.stdout);

  // Not a socket there: exit status 3 (the transport failed), the socket named.
  const missing = await run(Deno.execPath(), {
    args: [
      ...CLI,
      "call",
      `http+unix://${supervisord.socket}.none:/RPC2`,
      "--codec",
      "xmlrpc",
      "supervisor.getState",
    ],
  });
  assert.equal(missing.code, 3, formatOutput(missing));
  assert.match(missing.stderr, /cannot reach the Unix socket .*supervisor\.sock\.none/);
});
