/**
 * XML-RPC calls per second over HTTP: parley's server and client next to
 * Python's own `xmlrpc.server` and `xmlrpc.client`, measured in the same run,
 * in alternating rounds (read the ratios: absolute figures move between runs).
 * Each server runs in a process of its own, as Python's does; calls go one at
 * a time, as Python's client makes them, and parley's client is also
 * measured with `BENCH_IN_FLIGHT` (32) calls in flight, which Python's
 * client cannot do.
 *
 * @module
 */

import { xmlRpc } from "../../codecs/xml_rpc.ts";
import { connectHttp } from "../../rpc/transports/http.ts";
import { spawnListening } from "../interop/_process.ts";
import { Report } from "./_report.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? "1");
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? "3");
const IN_FLIGHT = Number(Deno.env.get("BENCH_IN_FLIGHT") ?? "32");

const PYTHON_SERVER = `import xmlrpc.server
server = xmlrpc.server.SimpleXMLRPCServer(("127.0.0.1", 0), allow_none=True, logRequests=False)
server.register_function(lambda a, b: a + b, "add")
print("listening http://127.0.0.1:%d/RPC2" % server.server_address[1], flush=True)
server.serve_forever()`;

const PYTHON_CLIENT = `import sys, time, xmlrpc.client
proxy = xmlrpc.client.ServerProxy(sys.argv[1])
deadline = time.perf_counter() + float(sys.argv[2])
start = time.perf_counter()
calls = 0
while time.perf_counter() < deadline and calls < 1000000:
    proxy.add(calls & 0xffff, 1)
    calls += 1
print(calls / (time.perf_counter() - start))`;

async function pythonClient(url: string): Promise<number> {
  const output = await new Deno.Command("python3", {
    args: ["-c", PYTHON_CLIENT, url, String(SECONDS)],
  })
    .output();
  if (output.code !== 0) throw new Error(new TextDecoder().decode(output.stderr));
  return Number(new TextDecoder().decode(output.stdout).trim());
}

// The ceiling: a bare fetch loop against Deno.serve answering a canned
// reply, with no XML encoded, parsed or dispatched on either side.
const CALL =
  '<?xml version="1.0"?><methodCall><methodName>add</methodName><params><param><value><int>1</int></value></param><param><value><int>1</int></value></param></params></methodCall>';

async function bareFetch(url: string, inFlight = 1): Promise<number> {
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let calls = 0;
  const worker = async () => {
    while (performance.now() < deadline && calls < 1_000_000) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "text/xml" },
        body: CALL,
      });
      await response.bytes();
      calls++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return calls / ((performance.now() - start) / 1000);
}

async function parleyClient(url: string, inFlight = 1): Promise<number> {
  const client = connectHttp(url, { codec: xmlRpc() });
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let calls = 0;
  const worker = async () => {
    while (performance.now() < deadline && calls < 1_000_000) {
      await client.call("add", [calls & 0xffff, 1]);
      calls++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  await client.close();
  return calls / ((performance.now() - start) / 1000);
}

const SERVER = new URL("./_server.ts", import.meta.url).pathname;
const report = new Report();

for (let round = 1; round <= ROUNDS; round++) {
  await using python = await spawnListening("python3", { args: ["-c", PYTHON_SERVER] });
  await using parley = await spawnListening(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", SERVER, "xmlrpc-http"],
  });
  await using canned = await spawnListening(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", SERVER, "http-canned"],
  });
  const pp = await pythonClient(python.url);
  const bare = await bareFetch(canned.url);
  const rr = await parleyClient(parley.url);
  const pr = await pythonClient(parley.url);
  const rp = await parleyClient(python.url);
  const concurrent = await parleyClient(parley.url, IN_FLIGHT);
  const bareConcurrent = await bareFetch(canned.url, IN_FLIGHT);
  report.record("Python client → Python server", pp);
  report.record("parley client → parley server", rr);
  report.record("Python client → parley server", pr);
  report.record("parley client → Python server", rp);
  report.record(`parley client, ${IN_FLIGHT} in flight → parley server`, concurrent);
  report.record("bare fetch → canned Deno.serve (ceiling)", bare);
  report.record(`bare fetch, ${IN_FLIGHT} in flight → canned Deno.serve`, bareConcurrent);
  report.record("ratio parley/Python (both ends)", rr / pp);
  report.record("ratio ceiling/Python", bare / pp);
  report.record("ratio parley/ceiling", rr / bare);
  report.record(`ratio parley/Python, ${IN_FLIGHT} in flight`, concurrent / pp);
  report.record(`ratio parley/ceiling, ${IN_FLIGHT} in flight`, concurrent / bareConcurrent);
  console.error(
    `round ${round}: python ${pp.toFixed(0)}/s, parley ${rr.toFixed(0)}/s (${
      (rr / pp).toFixed(2)
    })`,
  );
}

report.print(
  `XML-RPC over HTTP, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
