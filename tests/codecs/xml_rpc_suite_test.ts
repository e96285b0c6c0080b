import { xmlRpc } from "../../codecs/xml_rpc.ts";
import type { RpcMessage } from "../../rpc/types.ts";
import { EXAMPLES, runCodecSuite } from "./conformance.ts";

// XML-RPC carries no ids: a server numbers the calls it reads (the first is
// 1), a client matches replies to its calls by order; params are positional
// (named params travel as one struct); faults carry no data.

function asXmlRpcReads(message: RpcMessage): RpcMessage {
  switch (message.kind) {
    case "request": {
      const { params } = message;
      if (params === undefined) return { kind: "request", id: 1, method: message.method };
      return {
        kind: "request",
        id: 1,
        method: message.method,
        params: Array.isArray(params) ? params : [params],
      };
    }
    case "error":
      return {
        kind: "error",
        id: message.id,
        error: { code: message.error.code, message: message.error.message },
      };
    default:
      return message;
  }
}

// XML 1.0 forbids NUL and most control characters in any document. A fault
// answers the oldest call a client sent, so there is no fault "about no
// call" (id null) between a fresh client and server: xml_rpc_test.ts shows
// the fault a client reads with no call pending.
const XML_EXAMPLES =
  (JSON.parse(JSON.stringify(EXAMPLES).replaceAll("\\u0000", "")) as RpcMessage[])
    .filter((m) => !(m.kind === "error" && m.id === null));

runCodecSuite("xmlRpc()", xmlRpc(), {
  messages: XML_EXAMPLES,
  pair: () => [xmlRpc(), xmlRpc()],
  normalize: asXmlRpcReads,
  skip: {
    anyMessage:
      "XML-RPC has no ids on the wire (replies match calls by order) and no notifications: its values' properties are in xml_rpc_test.ts",
  },
});
