// The benchmark reference for parley's Thrift codec: Apache Thrift's own Node
// library (the `thrift` npm package), `add` over framed + binary.
//
//   node thrift_bench.mjs [--in-flight N] [--seconds S] [--max-calls M]
//                         [--warmup W] [--thrift-dir DIR]
//
// thrift_server.mjs (next to this script; framed transport, binary protocol,
// 127.0.0.1, ephemeral port) runs in a child process of its own, stopped by
// its PID with SIGTERM at the end; parley's own benchmarks start their server
// in a process of its own too. A client generated at run time by
// `thrift --gen js:node`, on one connection, after W warm-up calls (default
// 10000) keeps exactly N `add` calls in flight (default 64) for S seconds
// (default 1) or until M calls have been started (default 5,000,000), waits
// for the last reply, and prints ONE line of JSON to stdout:
//
//   {"calls": n, "seconds": s, "callsPerSecond": r}
//
// Every reply is checked (sum === num1 + num2). Exit 0; on an error, a
// message on stderr and exit 1. `--thrift-dir` (the directory of
// calculator.thrift) defaults to examples/calculator of the repository
// holding this script's real location; it is passed on to the server.
//
// The Thrift client matches replies to calls by sequence id, so any number of
// calls can be in flight on the one connection. The warm-up runs 64 calls in
// flight (or N if more), as grpc_bench.mjs does. The server sets TCP_NODELAY
// on its sockets (the package's server does not; its client does): without
// it, the last replies of a run with 64 in flight waited ~40 ms for a delayed
// ACK, 4% of a 1 s run.

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import thrift from "thrift";
import { loadThriftGenerated } from "./_generated.mjs";
import { count, idlDir, option } from "./_args.mjs";

// --- arguments -----------------------------------------------------------------

function fail(message) {
  process.stderr.write(`thrift_bench: ${message}\n`);
  process.exit(1);
}

const script = fileURLToPath(import.meta.url);
const thriftDir = idlDir(import.meta.url, "--thrift-dir");
const inFlight = count("thrift_bench", "--in-flight", 64, 1);
const maxCalls = count("thrift_bench", "--max-calls", 5_000_000, 1);
const warmup = count("thrift_bench", "--warmup", 10_000, 0);
const seconds = Number(option("--seconds", 1));
if (!(seconds > 0)) fail("--seconds must be a positive number");

// --- generated code ----------------------------------------------------------

// --- the server ------------------------------------------------------------------

/** Starts thrift_server.mjs in a child process; resolves with it and its port. */
function spawnServer() {
  const server = join(dirname(script), "thrift_server.mjs");
  const args = [server, "--transport", "framed", "--protocol", "binary", "--thrift-dir", thriftDir];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  // However this process ends, the server does not outlive it.
  process.once("exit", () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGTERM");
  });
  return new Promise((ok, ko) => {
    let text = "";
    child.once("error", ko);
    child.once("exit", (code) => ko(new Error(`server exited (${code}) before listening`)));
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      text += chunk;
      const match = /^listening tcp:\/\/127\.0\.0\.1:(\d+)\n/.exec(text);
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

/** Connects a generated client (framed, binary); resolves once connected. */
function connect(Calculator, port) {
  const connection = thrift.createConnection("127.0.0.1", port, {
    transport: thrift.TFramedTransport,
    protocol: thrift.TBinaryProtocol,
    connect_timeout: 10_000,
  });
  const client = thrift.createClient(Calculator, connection);
  return new Promise((ok, ko) => {
    connection.once("error", ko);
    connection.once("connect", () => {
      connection.off("error", ko);
      // Between two loads (which listen for themselves), an error is only logged.
      connection.on("error", (e) => process.stderr.write(`thrift_bench: ${e?.stack ?? e}\n`));
      ok({ connection, client });
    });
  });
}

/**
 * Keeps `width` add calls of `client` in flight until `limit` calls have
 * been started or `secs` seconds have passed, then waits for the replies
 * still out. A connection error or close fails it.
 * Resolves with the number of calls completed and the seconds it took.
 */
function load({ connection, client }, width, secs, limit) {
  return new Promise((done, failed) => {
    const start = performance.now();
    const end = start + secs * 1000;
    let started = 0;
    let completed = 0;
    let active = 0;
    let broken = false;
    const breakOff = (error) => {
      if (broken) return;
      broken = true;
      connection.off("error", breakOff);
      connection.off("close", closed);
      failed(error);
    };
    const closed = () => breakOff(new Error("connection closed"));
    connection.on("error", breakOff);
    connection.on("close", closed);
    const next = () => {
      if (broken) return;
      if (started >= limit || performance.now() >= end) {
        if (active === 0) {
          connection.off("error", breakOff);
          connection.off("close", closed);
          done({ calls: completed, seconds: (performance.now() - start) / 1000 });
        }
        return;
      }
      const num1 = started++ & 0xffff;
      active++;
      client.add(num1, 1, (error, sum) => {
        active--;
        if (error || sum !== num1 + 1) {
          breakOff(error ?? new Error(`add(${num1}, 1) returned ${sum}`));
          return;
        }
        completed++;
        next();
      });
    };
    for (let i = 0; i < width; i++) next();
  });
}

/** Runs the benchmark and prints its line. */
async function main() {
  const { Calculator } = loadThriftGenerated(thriftDir);
  const { child, port } = await spawnServer();
  let peer;
  try {
    peer = await connect(Calculator, port);
    if (warmup > 0) await load(peer, Math.min(Math.max(inFlight, 64), warmup), 60, warmup);
    const result = await load(peer, inFlight, seconds, maxCalls);
    const rounded = Math.round(result.seconds * 1000) / 1000;
    const callsPerSecond = Math.round(result.calls / result.seconds);
    console.log(JSON.stringify({ calls: result.calls, seconds: rounded, callsPerSecond }));
  } catch (error) {
    process.exitCode = 1;
    process.stderr.write(`thrift_bench: ${error?.stack ?? error}\n`);
  } finally {
    peer?.connection.end();
    await stopServer(child);
  }
  process.exit(process.exitCode ?? 0);
}

// The whole run is bounded.
setTimeout(() => fail("did not finish in time"), (seconds + 60) * 1000).unref();
await main();
