/**
 * The calls the HTTP benchmarks make (`http_bench.ts`, `http_cpu_bench.ts`),
 * each against a server of `_http_server.ts` on `port`: parley's XML-RPC
 * and Connect clients; the bare `fetch` loop that sends the same bodies
 * with the same headers and parses nothing (the ceiling); and the minimal
 * clients, `fetch` with the same codec's encode and decode and no
 * framework (the floor of the work itself).
 *
 * @module
 */

import { xmlRpc } from "../../codecs/xml_rpc.ts";
import { loadProto, protoClient } from "../../codecs/protobuf.ts";
import { connectClient } from "../../protocols/connect.ts";
import { connectHttp } from "../../rpc/transports/http.ts";

/** The two protocols measured. */
export type HttpProtocol = "xml" | "connect";

/** A client's call, and how to close the client. */
export interface HttpCaller {
  /** Makes one call and waits for its reply. */
  readonly call: () => Promise<unknown>;
  /** Closes the client. */
  readonly close: () => Promise<void>;
}

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
const XML_PATH = "/RPC2";
const CONNECT_PATH = "/interop.Calculator/Add";
const done = () => Promise.resolve();

/**
 * The bare `fetch` loop's call: the protocol's request body and headers,
 * the reply read and not parsed.
 *
 * @param protocol which bodies and headers
 * @param port the server's port
 * @returns the call
 */
export function bareCaller(protocol: HttpProtocol, port: number): HttpCaller {
  const xml = protocol === "xml";
  const url = `http://127.0.0.1:${port}${xml ? XML_PATH : CONNECT_PATH}`;
  const headers = xml ? XML_HEADERS : CONNECT_HEADERS;
  const body = xml ? XML_CALL : CONNECT_CALL;
  return {
    call: async () => {
      const response = await fetch(url, { method: "POST", headers, body });
      await response.bytes();
    },
    close: done,
  };
}

/**
 * parley's client: `connectHttp` with XML-RPC, or `connectClient` (Connect,
 * protobuf bodies) through `protoClient`.
 *
 * @param protocol which client
 * @param port the server's port
 * @returns the call, and the client's close
 */
export function parleyCaller(protocol: HttpProtocol, port: number): HttpCaller {
  let i = 0;
  if (protocol === "xml") {
    const client = connectHttp(`http://127.0.0.1:${port}${XML_PATH}`, { codec: xmlRpc() });
    return { call: () => client.call("add", [i++ & 0xffff, 1]), close: () => client.close() };
  }
  const client = connectClient(`http://127.0.0.1:${port}`, { schema });
  const calc = protoClient<Adder>(client, schema, "interop.Calculator");
  return { call: () => calc.Add({ num1: i++ & 0xffff, num2: 1 }), close: () => client.close() };
}

/**
 * The same calls with no framework: `fetch`, and the codec's encode and
 * decode.
 *
 * @param protocol which codec
 * @param port the server's port
 * @returns the call
 */
export function minimalCaller(protocol: HttpProtocol, port: number): HttpCaller {
  let i = 0;
  if (protocol === "xml") {
    const url = `http://127.0.0.1:${port}${XML_PATH}`;
    const codec = xmlRpc();
    const utf8 = new TextDecoder("utf-8", { fatal: true });
    return {
      call: async () => {
        const call = codec.fork!();
        const params = [i++ & 0xffff, 1];
        const body = call.encode({ kind: "request", id: 1, method: "add", params });
        const response = await fetch(url, {
          method: "POST",
          headers: XML_HEADERS,
          body: body as string,
        });
        return call.decode(utf8.decode(await response.bytes()));
      },
      close: done,
    };
  }
  const url = `http://127.0.0.1:${port}${CONNECT_PATH}`;
  const add = schema.method("interop.Calculator/Add")!;
  return {
    call: async () => {
      const body = add.request.encode({ num1: i++ & 0xffff, num2: 1 }) as Uint8Array<ArrayBuffer>;
      const response = await fetch(url, { method: "POST", headers: CONNECT_HEADERS, body });
      return add.response.decode(await response.bytes());
    },
    close: done,
  };
}
