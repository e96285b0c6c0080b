/**
 * `deno task bench`, HTTP part: XML-RPC and Connect calls per second over
 * HTTP/1.1 with `BENCH_IN_FLIGHT` (32) calls in flight, parley's client and
 * server, each next to its ceiling measured in the same run: a bare `fetch`
 * loop with the same calls in flight, the same request bodies and headers,
 * against a bare `Deno.serve` that reads each body and answers a canned
 * reply of the same size (`_http_server.ts`), parsing nothing on either
 * side. Each server is a process of its own, started fresh and warmed up
 * for every measurement (`BENCH_WARMUP` calls, 2,000 by default, as both
 * ends compile their hot paths). A third pair shows the floor of the work
 * itself: the same calls with no framework on either side (`fetch` and the
 * codec's encode and decode in the client, a bare `Deno.serve` that decodes,
 * adds and encodes in the server). The order reverses between rounds (parley,
 * ceiling, minimal; then minimal, ceiling, parley): read the ratios.
 *
 * @module
 */

import { drive, ROUNDS, SECONDS, startServer } from "./_harness.ts";
import {
  bareCaller,
  type HttpCaller,
  type HttpProtocol,
  minimalCaller,
  parleyCaller,
} from "./_http_calls.ts";
import { Report } from "./_report.ts";

const IN_FLIGHT = Number(Deno.env.get("BENCH_IN_FLIGHT") ?? "32");
const WARMUP = Number(Deno.env.get("BENCH_WARMUP") ?? "2000");
const SERVER = new URL("./_http_server.ts", import.meta.url);

// Makes `WARMUP` calls, then measures with IN_FLIGHT in flight.
async function measure(call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i += IN_FLIGHT) {
    await Promise.all(Array.from({ length: IN_FLIGHT }, call));
  }
  return drive(IN_FLIGHT, call);
}

// Starts `mode` of _http_server.ts fresh, measures the client `caller`
// makes against it, and stops both.
async function rateOf(
  mode: string,
  protocol: HttpProtocol,
  caller: (protocol: HttpProtocol, port: number) => HttpCaller,
): Promise<number> {
  const server = await startServer(mode, SERVER);
  const client = caller(protocol, server.port);
  const rate = await measure(client.call);
  await client.close();
  await server.stop();
  return rate;
}

const xmlRpcCalls = () => rateOf("xmlrpc", "xml", parleyCaller);
const connectCalls = () => rateOf("connect", "connect", parleyCaller);
const bareFetch = (mode: string, protocol: HttpProtocol) => rateOf(mode, protocol, bareCaller);
// The same calls with no framework on either side: fetch and the codec's
// encode and decode in the client, xml-minimal or connect-minimal serving.
const minimalXmlRpc = () => rateOf("xml-minimal", "xml", minimalCaller);
const minimalConnect = () => rateOf("connect-minimal", "connect", minimalCaller);

const report = new Report();
for (let round = 1; round <= ROUNDS; round++) {
  let xml = 0, xmlBare = 0, connect = 0, connectBare = 0, xmlMinimal = 0, connectMinimal = 0;
  const parley = async () => {
    xml = await xmlRpcCalls();
    connect = await connectCalls();
  };
  const minimal = async () => {
    xmlMinimal = await minimalXmlRpc();
    connectMinimal = await minimalConnect();
  };
  const bare = async () => {
    xmlBare = await bareFetch("xml-canned", "xml");
    connectBare = await bareFetch("connect-canned", "connect");
  };
  // A B, then B A: neither side always goes first.
  const order = round % 2 === 1 ? [parley, bare, minimal] : [minimal, bare, parley];
  for (const step of order) await step();
  report.record(`parley XML-RPC, ${IN_FLIGHT} in flight`, xml);
  report.record(`bare fetch, XML-RPC bodies (ceiling), ${IN_FLIGHT} in flight`, xmlBare);
  report.record(`parley Connect (proto), ${IN_FLIGHT} in flight`, connect);
  report.record(`bare fetch, Connect bodies (ceiling), ${IN_FLIGHT} in flight`, connectBare);
  report.record(`ratio XML-RPC/ceiling, ${IN_FLIGHT} in flight`, xml / xmlBare);
  report.record(`ratio Connect/ceiling, ${IN_FLIGHT} in flight`, connect / connectBare);
  report.record(
    `minimal XML-RPC (fetch + codec, no framework), ${IN_FLIGHT} in flight`,
    xmlMinimal,
  );
  report.record(
    `minimal Connect (fetch + protobuf, no framework), ${IN_FLIGHT} in flight`,
    connectMinimal,
  );
  report.record(`ratio minimal XML-RPC/ceiling, ${IN_FLIGHT} in flight`, xmlMinimal / xmlBare);
  report.record(
    `ratio minimal Connect/ceiling, ${IN_FLIGHT} in flight`,
    connectMinimal / connectBare,
  );
  report.record(`ratio XML-RPC/minimal XML-RPC, ${IN_FLIGHT} in flight`, xml / xmlMinimal);
  report.record(`ratio Connect/minimal Connect, ${IN_FLIGHT} in flight`, connect / connectMinimal);
  console.error(
    `round ${round}: XML-RPC ${(xml / xmlBare).toFixed(2)} of its ceiling (minimal ${
      (xmlMinimal / xmlBare).toFixed(2)
    }), Connect ${(connect / connectBare).toFixed(2)} (minimal ${
      (connectMinimal / connectBare).toFixed(2)
    })`,
  );
}
report.print(
  `XML-RPC and Connect over HTTP/1.1 vs a bare fetch loop, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
