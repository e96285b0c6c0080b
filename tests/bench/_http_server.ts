/**
 * The servers of `http_bench.ts`. `xmlrpc` is parley's XML-RPC server
 * (`serveHttp`, `/RPC2`, introspection and multicall included, as Python's
 * offers); `connect` is parley's Connect handler of the calculator; the
 * ceilings are each a bare `Deno.serve` that reads every POST's body and
 * answers it with a canned reply the size and type of the real one, parsing
 * nothing: `xml-canned` (an XML-RPC `add` reply) and `connect-canned` (a
 * Connect unary reply of the calculator's Add, `sum: 2` in protobuf). The
 * floors with parsing: `xml-minimal` and `connect-minimal`, a bare
 * `Deno.serve` that decodes each call with the same codec, adds and encodes
 * the reply, with no framework around it. Prints
 * `listening PORT`; exits on SIGTERM.
 *
 * @module
 */

import { xmlRpc } from "../../codecs/xml_rpc.ts";
import { loadProto, protoService } from "../../codecs/protobuf.ts";
import { connectHandler } from "../../protocols/connect.ts";
import { withSystemMethods } from "../../rpc/system_methods.ts";
import { serveHttp } from "../../rpc/transports/http.ts";
import type { RpcRequest } from "../../rpc/types.ts";

const mode = Deno.args[0];
const calculator = () =>
  loadProto({
    "calculator.proto": Deno.readTextFileSync(
      new URL("../../examples/calculator/calculator.proto", import.meta.url),
    ),
  });
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
if (mode === "xmlrpc") {
  const service = withSystemMethods({ add: (a: number, b: number) => a + b });
  const server = serveHttp({ routes: { "/RPC2": { codec: xmlRpc(), service } } });
  console.log(`listening ${server.addr.port}`);
  await server.finished;
} else if (mode === "connect") {
  const schema = calculator();
  const service = protoService(schema, "interop.Calculator", {
    Add: ({ num1, num2 }: { num1: number; num2: number }) => ({ sum: num1 + num2 }),
  });
  const server = serveHttp({ routes: {}, handlers: { "/": connectHandler({ schema, service }) } });
  console.log(`listening ${server.addr.port}`);
  await server.finished;
} else if (mode === "xml-minimal") {
  // The same work with no framework: Deno.serve, the codec's parse and
  // encode, the method called; no routes, checks, metadata nor limits.
  const codec = xmlRpc();
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const add = (a: number, b: number) => a + b;
  const minimal = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    const call = codec.fork!().decode(utf8.decode(await r.bytes())) as RpcRequest;
    const [a, b] = call.params as [number, number];
    const reply = codec.encode({ kind: "result", id: call.id, result: add(a, b) }) as string;
    return new Response(reply, { headers: { "content-type": "text/xml; charset=utf-8" } });
  });
  console.log(`listening ${minimal.addr.port}`);
  await minimal.finished;
} else if (mode === "connect-minimal") {
  const add = calculator().method("interop.Calculator/Add")!;
  const minimal = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    const { num1, num2 } = add.request.decode(await r.bytes()) as { num1: number; num2: number };
    const reply = add.response.encode({ sum: num1 + num2 }) as Uint8Array<ArrayBuffer>;
    return new Response(reply, { headers: { "content-type": "application/proto" } });
  });
  console.log(`listening ${minimal.addr.port}`);
  await minimal.finished;
} else {
  // The ceilings.
  const replies: Record<string, [string | Uint8Array<ArrayBuffer>, string]> = {
    "xml-canned": [
      '<?xml version="1.0"?><methodResponse><params><param><value><int>2</int></value></param></params></methodResponse>',
      "text/xml",
    ],
    // AddResponse { sum: 2 }: field 1, varint 2.
    "connect-canned": [new Uint8Array([0x08, 0x02]), "application/proto"],
  };
  const [body, type] = replies[mode!] ?? [];
  if (body === undefined) throw new Error(`unknown mode ${mode}`);
  const canned = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    await r.bytes();
    return new Response(body, { headers: { "content-type": type! } });
  });
  console.log(`listening ${canned.addr.port}`);
  await canned.finished;
}
