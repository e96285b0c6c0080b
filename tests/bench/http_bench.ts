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

import { xmlRpc } from "../../codecs/xml_rpc.ts";
import { loadProto, protoClient } from "../../codecs/protobuf.ts";
import { connectClient } from "../../protocols/connect.ts";
import { connectHttp } from "../../rpc/transports/http.ts";
import { drive, ROUNDS, SECONDS, startServer } from "./_harness.ts";
import { Report } from "./_report.ts";

const IN_FLIGHT = Number(Deno.env.get("BENCH_IN_FLIGHT") ?? "32");
const WARMUP = Number(Deno.env.get("BENCH_WARMUP") ?? "2000");
const SERVER = new URL("./_http_server.ts", import.meta.url);

const schema = loadProto({
  "calculator.proto": Deno.readTextFileSync(
    new URL("../../examples/calculator/calculator.proto", import.meta.url),
  ),
});
type Adder = { Add(r: { num1: number; num2: number }): Promise<{ sum: number }> };

// What parley's clients send: the XML-RPC call of add(1, 1) with its
// headers, and the Connect request of Add{1, 1} with its headers.
const XML_CALL =
  '<?xml version="1.0"?><methodCall><methodName>add</methodName><params><param><value><int>1</int></value></param><param><value><int>1</int></value></param></params></methodCall>';
const XML_HEADERS = { "content-type": "text/xml", accept: "text/xml" };
// AddRequest { num1: 1, num2: 1 }: fields 1 and 2, varints.
const CONNECT_CALL = new Uint8Array([0x08, 0x01, 0x10, 0x01]);
const CONNECT_HEADERS = { "content-type": "application/proto", "connect-protocol-version": "1" };

// Makes `WARMUP` calls, then measures with IN_FLIGHT in flight.
async function measure(call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i += IN_FLIGHT) {
    await Promise.all(Array.from({ length: IN_FLIGHT }, call));
  }
  return drive(IN_FLIGHT, call);
}

async function bareFetch(
  mode: string,
  path: string,
  body: string | Uint8Array<ArrayBuffer>,
  headers: Record<string, string>,
): Promise<number> {
  const server = await startServer(mode, SERVER);
  const url = `http://127.0.0.1:${server.port}${path}`;
  const rate = await measure(async () => {
    const response = await fetch(url, { method: "POST", headers, body });
    await response.bytes();
  });
  await server.stop();
  return rate;
}

async function xmlRpcCalls(): Promise<number> {
  const server = await startServer("xmlrpc", SERVER);
  const client = connectHttp(`http://127.0.0.1:${server.port}/RPC2`, { codec: xmlRpc() });
  let i = 0;
  const rate = await measure(() => client.call("add", [i++ & 0xffff, 1]));
  await client.close();
  await server.stop();
  return rate;
}

async function connectCalls(): Promise<number> {
  const server = await startServer("connect", SERVER);
  const client = connectClient(`http://127.0.0.1:${server.port}`, { schema });
  const calc = protoClient<Adder>(client, schema, "interop.Calculator");
  let i = 0;
  const rate = await measure(() => calc.Add({ num1: i++ & 0xffff, num2: 1 }));
  await client.close();
  await server.stop();
  return rate;
}

// The same calls with no framework on either side: fetch and the codec's
// encode and decode in the client, xml-minimal or connect-minimal serving.
async function minimalXmlRpc(): Promise<number> {
  const server = await startServer("xml-minimal", SERVER);
  const url = `http://127.0.0.1:${server.port}/RPC2`;
  const codec = xmlRpc();
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let i = 0;
  const rate = await measure(async () => {
    const call = codec.fork!();
    const body = call.encode({ kind: "request", id: 1, method: "add", params: [i++ & 0xffff, 1] });
    const response = await fetch(url, {
      method: "POST",
      headers: XML_HEADERS,
      body: body as string,
    });
    return call.decode(utf8.decode(await response.bytes()));
  });
  await server.stop();
  return rate;
}

async function minimalConnect(): Promise<number> {
  const server = await startServer("connect-minimal", SERVER);
  const url = `http://127.0.0.1:${server.port}/interop.Calculator/Add`;
  const add = schema.method("interop.Calculator/Add")!;
  let i = 0;
  const rate = await measure(async () => {
    const body = add.request.encode({ num1: i++ & 0xffff, num2: 1 }) as Uint8Array<ArrayBuffer>;
    const response = await fetch(url, { method: "POST", headers: CONNECT_HEADERS, body });
    return add.response.decode(await response.bytes());
  });
  await server.stop();
  return rate;
}

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
    xmlBare = await bareFetch("xml-canned", "/RPC2", XML_CALL, XML_HEADERS);
    connectBare = await bareFetch(
      "connect-canned",
      "/interop.Calculator/Add",
      CONNECT_CALL,
      CONNECT_HEADERS,
    );
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
