// The benchmark reference for parley's protobuf RPC: @grpc/grpc-js unary Add.
//
//   node grpc_bench.mjs [--in-flight N] [--seconds S] [--max-calls M]
//                       [--warmup W] [--proto-dir DIR] [--one-process]
//   node grpc_bench.mjs --stream COUNT [--proto-dir DIR]
//
// With --stream, server streaming instead: the server's Range sends COUNT
// Numbers (start, start+1, …; writing on when `write()` says so, else after
// `drain`), the client reads them with `data` events (grpc-js's fastest way)
// and checks each; one stream to warm up, then one measured, printing
//
//   {"messages": n, "seconds": s, "messagesPerSecond": r}
//
// A grpc-js server (calculator.proto loaded by @grpc/proto-loader, insecure,
// 127.0.0.1, ephemeral port) serves Add; a grpc-js client, after W warm-up
// calls (default 10000), keeps exactly N unary Add calls in flight (default 64)
// for S seconds (default 1) or until M calls have been started (default
// 5,000,000), waits for the last reply, and prints ONE line of JSON to stdout:
//
//   {"calls": n, "seconds": s, "callsPerSecond": r}
//
// Every reply is checked (sum === num1 + num2). Exit 0; on an error, a
// message on stderr and exit 1. `--proto-dir` defaults to
// examples/calculator of the repository holding this script's real location.
//
// Where the server runs: in a child process of its own (this script again,
// with the internal flag `--serve`), stopped by its PID with SIGTERM at the
// end. Measured on a 2-vCPU VM (Node 20, grpc-js 1.14.7, 4 s runs, three
// each), one shared process flatters the 1-in-flight figure (~4.3k against
// ~2.7k calls/s: a call then never waits for a wake-up in another process)
// and changes little at 64 (~4.5k against ~4.4k, both CPU-bound). Parley's
// own benchmarks (tests/bench/_harness.ts) start their server in a process of
// its own, so the child process is the like-for-like figure. `--one-process`
// runs both in this process instead, for comparison.
//
// The warm-up: with 2000 calls, 1 call in flight measured ~1.4k-1.9k calls/s
// against ~2.0k-3.2k after 10000 (alternating 1 s runs): V8 and grpc-js are
// still warming up on both sides after 2000. It runs 64 calls in flight (or
// N if more), so that 10000 take about 2 s.

import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import { argv, count, idlDir, option } from "./_args.mjs";

// --- arguments -----------------------------------------------------------------

function fail(message) {
  process.stderr.write(`grpc_bench: ${message}\n`);
  process.exit(1);
}

const protoDir = idlDir(import.meta.url, "--proto-dir");
const inFlight = count("grpc_bench", "--in-flight", 64, 1);
const maxCalls = count("grpc_bench", "--max-calls", 5_000_000, 1);
const warmup = count("grpc_bench", "--warmup", 10_000, 0);
const seconds = Number(option("--seconds", 1));
if (!(seconds > 0)) fail("--seconds must be a positive number");
const serving = argv.includes("--serve");
const streamCount = Number(option("--stream", 0));

// --- server -------------------------------------------------------------------

const definition = protoLoader.loadSync(join(protoDir, "calculator.proto"), {
  keepCase: true,
  longs: String,
  enums: Number,
  defaults: true,
});
const { Calculator } = grpc.loadPackageDefinition(definition).interop;

/** Starts the grpc-js server; resolves with it and its port. */
async function startServer() {
  const server = new grpc.Server();
  server.addService(Calculator.service, {
    // The contract's Add: a 32-bit signed sum, or InvalidOperation(1, "overflow")
    // (as gRPC INVALID_ARGUMENT here: the benchmark never overflows).
    Add({ request: { num1, num2 } }, callback) {
      const sum = num1 + num2;
      if (sum !== (sum | 0)) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: "overflow" });
      } else {
        callback(null, { sum });
      }
    },
    async Range(call) {
      const { start, count } = call.request;
      for (let i = 0; i < count && !call.cancelled; i++) {
        if (!call.write({ value: start + i })) await new Promise((ok) => call.once("drain", ok));
      }
      call.end();
    },
  });
  const port = await new Promise((ok, ko) => {
    const credentials = grpc.ServerCredentials.createInsecure();
    server.bindAsync("127.0.0.1:0", credentials, (e, p) => (e ? ko(e) : ok(p)));
  });
  return { server, port };
}

/** Starts the server in a child process; resolves with its PID and port. */
function spawnServer() {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [script, "--serve", "--proto-dir", protoDir], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((ok, ko) => {
    let text = "";
    child.once("error", ko);
    child.once("exit", (code) => ko(new Error(`server exited (${code}) before listening`)));
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      text += chunk;
      const match = /^listening (\d+)\n/.exec(text);
      if (match) ok({ child, port: Number(match[1]) });
    });
  });
}

/** Stops the child server by its PID and waits (at most 5 s) for its exit. */
function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((ok) => child.once("exit", ok));
  process.kill(child.pid, "SIGTERM");
  return Promise.race([exited, new Promise((ok) => setTimeout(ok, 5_000).unref())]);
}

// --- the load ------------------------------------------------------------------

/**
 * Keeps `width` Add calls of `client` in flight until `limit` calls have
 * been started or `secs` seconds have passed, then waits for the replies
 * still out.
 * Resolves with the number of calls completed and the seconds it took.
 */
function load(client, width, secs, limit) {
  return new Promise((done, failed) => {
    const start = performance.now();
    const end = start + secs * 1000;
    let started = 0;
    let completed = 0;
    let active = 0;
    let broken = false;
    const next = () => {
      if (broken) return;
      if (started >= limit || performance.now() >= end) {
        if (active === 0) done({ calls: completed, seconds: (performance.now() - start) / 1000 });
        return;
      }
      const num1 = started++ & 0xffff;
      active++;
      client.Add({ num1, num2: 1 }, (error, reply) => {
        active--;
        if (error || reply.sum !== num1 + 1) {
          broken = true;
          failed(error ?? new Error(`Add(${num1}, 1) returned ${reply.sum}`));
          return;
        }
        completed++;
        next();
      });
    };
    for (let i = 0; i < width; i++) next();
  });
}

/** Reads one Range stream of `count` Numbers; resolves with the seconds it took. */
function stream(client, count) {
  return new Promise((done, failed) => {
    const start = performance.now();
    let next = 0;
    const call = client.Range({ start: 0, count });
    call.on("data", ({ value }) => {
      if (Number(value) !== next++) {
        call.cancel();
        failed(new Error(`Range sent ${value} where ${next - 1} was due`));
      }
    });
    call.on("error", failed);
    call.on("end", () => {
      if (next !== count) failed(new Error(`Range sent ${next} of ${count} numbers`));
      else done((performance.now() - start) / 1000);
    });
  });
}

/** Runs the streaming benchmark and prints its line. */
async function mainStream() {
  const spawned = await spawnServer();
  const client = new Calculator(`127.0.0.1:${spawned.port}`, grpc.credentials.createInsecure());
  try {
    await stream(client, streamCount); // warm-up
    const secs = await stream(client, streamCount);
    const rounded = Math.round(secs * 1000) / 1000;
    const messagesPerSecond = Math.round(streamCount / secs);
    console.log(JSON.stringify({ messages: streamCount, seconds: rounded, messagesPerSecond }));
  } catch (error) {
    process.exitCode = 1;
    process.stderr.write(`grpc_bench: ${error?.stack ?? error}\n`);
  } finally {
    client.close();
    await stopServer(spawned.child);
  }
  process.exit(process.exitCode ?? 0);
}

/** Runs the benchmark and prints its line. */
async function main() {
  const inProcess = argv.includes("--one-process") ? await startServer() : undefined;
  const spawned = inProcess ? undefined : await spawnServer();
  const port = inProcess?.port ?? spawned.port;
  const client = new Calculator(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    if (warmup > 0) await load(client, Math.min(Math.max(inFlight, 64), warmup), 60, warmup);
    const result = await load(client, inFlight, seconds, maxCalls);
    const rounded = Math.round(result.seconds * 1000) / 1000;
    const callsPerSecond = Math.round(result.calls / result.seconds);
    console.log(JSON.stringify({ calls: result.calls, seconds: rounded, callsPerSecond }));
  } catch (error) {
    process.exitCode = 1;
    process.stderr.write(`grpc_bench: ${error?.stack ?? error}\n`);
  } finally {
    client.close();
    inProcess?.server.forceShutdown();
    if (spawned) await stopServer(spawned.child);
  }
  process.exit(process.exitCode ?? 0);
}

// --- entry ------------------------------------------------------------------

if (serving) {
  // The child: serve, say `listening PORT`, stop on SIGTERM or when the
  // parent goes away (its end of our stdin closes).
  const { server, port } = await startServer();
  process.stdout.write(`listening ${port}\n`);
  const stop = () => {
    server.forceShutdown();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.stdin.on("close", stop).resume();
} else {
  // The whole run is bounded.
  setTimeout(() => fail("did not finish in time"), (seconds + 60) * 1000).unref();
  await (streamCount > 0 ? mainStream() : main());
}
